"""Arrow's allocator, told to give freed memory back to the system at once.

pyarrow allocates with mimalloc, which by default keeps the pages it freed for later use and
commits its arenas eagerly. A command that works through a day in blocks then holds one and a
half to two times its live data: `make bench` measured spx-fetch at 356 MB peak for a full day
with the defaults and 208 MB with these settings, spx-seal 275 and 165 MB, for about 5 % more
CPU time. mimalloc reads its options when pyarrow loads, so this module is imported before
pyarrow (by spx_data.schema and spx-fetch); a value already in the environment wins.
"""
import os

os.environ.setdefault("MIMALLOC_PURGE_DELAY", "0")            # return freed pages at once
os.environ.setdefault("MIMALLOC_ARENA_EAGER_COMMIT", "0")     # commit arena memory only when used
