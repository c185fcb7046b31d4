"""NDJSON tick rows (DESIGN §2) -> one validated, de-duplicated, sorted, typed Parquet file (§3).

Two passes; memory is bounded by one (root, expiration), never by the day:
 1. A stage file of spx-fetch whose typed copy still belongs to it (spx_data.staging) is taken
    from that copy, without parsing its text, when all its rows are valid. Every other input is
    read in blocks of whole lines. A block is parsed by pyarrow's JSON reader
    against the raw tick schema and checked with vectorised compute (C++ speed). A block that
    fails to parse or holds any invalid row is halved and retried until the pieces that fail
    are small enough to check line by line, so that every reject gets its exact line number and
    reason while its valid rows still land. Valid rows are typed and parked ("spilled") as
    Arrow IPC files per (root, expiration) next to OUT.
 2. Each (root, expiration) in sorted order is loaded, stably sorted by strike, right,
    ms_of_day (unless it is in that order already, as the terminals send a chain), reduced to
    the first occurrence of every key (root, expiration, strike, right, ms_of_day), given the
    pinned types and the timestamp column, and written as one or more row groups; the quality
    counters and the content digest are fed on the way, in a thread beside the writer.
OUT is written as OUT.part and renamed when complete, so an interrupted run never leaves a
plausible-looking OUT.
"""
import datetime as _dt
import functools
import math
import os
import re
import shutil
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from zoneinfo import ZoneInfo

from . import __version__, layout, ndjson, schema
from .dates import parse_date
from .errors import DateValidationError, IncompleteInputError, SchemaValidationError, UsageError, filesystem_error
from .quality import DayQuality

BLOCK_BYTES = 16 << 20           # input read per block; bounds phase 1's memory
ROW_GROUP_ROWS = 1_000_000       # an expiration above this is split into several row groups
LINE_BY_LINE_LINES = 256         # a failing block is halved down to this many lines
RAW_LIMIT = 1000                 # characters of a rejected line kept in the rejects file
MS_PER_DAY = 86_400_000
INT32_MIN, INT32_MAX = -2 ** 31, 2 ** 31 - 1
SORT_WITHIN_GROUP = ("strike", "right", "ms_of_day")
# Parquet dictionary encoding only where values repeat (a few hundred per row group at most):
# tried on the greeks it falls back to plain after a 1 MB dictionary page, which made the file
# 40% bigger and slower to write and read.
DICTIONARY_COLUMNS = ("date", "root", "expiration", "strike", "right", "ms_of_day", "timestamp", "ms_of_day2",
                      "underlying_price")
# Columns compared to tell a conflicting duplicate (same key, other values) from an exact repeat.
VALUE_COLUMNS = tuple(name for name in schema.FLOAT_COLUMNS + ("ms_of_day2",) if name not in schema.KEY)


def raw_schema():
    """The tick row fields with their JSON types, as pyarrow's JSON reader should parse them."""
    import pyarrow as pa
    types = {name: pa.string() for name in schema.STRING_COLUMNS}
    types.update({name: pa.int64() for name in schema.INT_COLUMNS})
    return pa.schema([(name, types.get(name, pa.float64())) for name in schema.TICK_FIELDS])


def tick_problem(record, day):
    """Why RECORD (a parsed JSON object) is not a valid tick row of DAY (ISO string), or None."""
    for name in schema.TICK_FIELDS:
        if name not in record:
            return f"missing field {name!r}"
        value = record[name]
        if name in schema.STRING_COLUMNS:
            expected, ok = "a string", isinstance(value, str)
        elif name in schema.INT_COLUMNS:
            expected, ok = "an integer", isinstance(value, int) and not isinstance(value, bool)
        else:
            expected, ok = "a number", isinstance(value, (int, float)) and not isinstance(value, bool)
        if not ok:
            return f"{name} must be {expected}, got {ndjson.dumps(value)[:40]}"
        if expected == "a number" and not _fits_float64(value):
            return f"{name} is out of range, got {str(value)[:40]}"
    if record["date"] != day:
        if day is None:
            return f"date {record['date']!r} is not a valid date (YYYY-MM-DD)"
        return f"date {record['date']!r} is not the day being converted ({day})"
    expiration = record["expiration"]
    if not _is_iso_date(expiration):
        return f"expiration {expiration!r} is not a valid date (YYYY-MM-DD)"
    if expiration < day:
        return f"expiration {expiration} is before the date {day}"
    if not record["root"]:
        return "root is empty"
    if record["right"] not in ("C", "P"):
        return f"right must be C or P, got {record['right']!r}"
    if not record["strike"] > 0:
        return f"strike must be > 0, got {record['strike']}"
    for name in ("bid", "ask"):
        if record[name] < 0:
            return f"{name} must be >= 0, got {record[name]}"
    if not 0 <= record["ms_of_day"] < MS_PER_DAY:
        return f"ms_of_day must be in [0, {MS_PER_DAY}), got {record['ms_of_day']}"
    if not INT32_MIN <= record["ms_of_day2"] <= INT32_MAX:
        return f"ms_of_day2 must fit in 32 bits, got {record['ms_of_day2']}"
    return None


def _fits_float64(number):
    try:
        return math.isfinite(float(number))
    except OverflowError:   # an integer beyond float64 (ujson parses any size)
        return False


@functools.lru_cache(maxsize=4096)   # a few expirations repeat on every line
def _is_iso_date(text):
    try:
        parse_date(text)
    except DateValidationError:
        return False
    return True


def parse_meta(pairs):
    """--meta KEY=VALUE pairs -> (source dict, other footer keys). `source.X=V` goes into the
    footer's source JSON as X; integers become numbers."""
    source, extra = {}, {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.]*", key):
            raise UsageError(f"invalid --meta {pair!r}: expected KEY=VALUE, e.g. source.api_version=v3")
        if key.startswith("source."):
            source[key[len("source."):]] = int(value) if re.fullmatch(r"-?[0-9]+", value) else value
        elif key in schema.RESERVED_META:
            raise UsageError(f"invalid --meta {pair!r}: {key} is written by spx-ndjson2parquet itself")
        else:
            extra[key] = value
    return source, extra


def midnight_epoch_ms(day):
    """The instant of DAY's midnight in New York as ms since the epoch (DST-correct per date)."""
    midnight = _dt.datetime.combine(parse_date(day), _dt.time(0), ZoneInfo(schema.TIMEZONE))
    return int(midnight.timestamp()) * 1000


class Rejects:
    """The rejects file: one NDJSON line per invalid input line, created on the first reject."""

    def __init__(self, path):
        self.path = Path(path)
        self.count = 0
        self._stream = None

    def add(self, source, lineno, reason, raw):
        if self._stream is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._stream = open(self.path, "w", encoding="utf-8")
        ndjson.write(self._stream, {"file": source, "line": lineno, "reason": reason, "raw": raw[:RAW_LIMIT]})
        self.count += 1

    def close(self):
        if self._stream is not None:
            self._stream.close()
        else:
            # A file left by an earlier run would contradict this run's rejected == 0.
            self.path.unlink(missing_ok=True)


class Spill:
    """Valid rows parked per (root, expiration) until phase 2: typed rows written as Arrow IPC
    files in a private directory, or a way to load them again (a stage file's typed copy is such
    a file already)."""

    def __init__(self, directory):
        self.directory = Path(directory)
        self._pieces = {}
        self._count = 0

    def add(self, key, table):
        import pyarrow as pa
        path = self.directory / f"{self._count:06d}.arrow"
        self._count += 1
        with pa.OSFile(str(path), "wb") as sink, pa.ipc.new_file(sink, table.schema) as writer:
            writer.write_table(table)
        self._pieces.setdefault(key, []).append(functools.partial(_read_spilled, path))

    def add_source(self, key, load):
        """LOAD() gives rows of KEY again when they are taken; nothing is written."""
        self._pieces.setdefault(key, []).append(load)

    def keys(self):
        return sorted(self._pieces)

    def take(self, key):
        """All rows of KEY in the order they were added; their files are removed."""
        import pyarrow as pa
        return pa.concat_tables([load() for load in self._pieces.pop(key)])


def _read_spilled(path):
    import pyarrow as pa
    with pa.memory_map(str(path)) as source:
        table = pa.ipc.open_file(source).read_all()
    path.unlink()
    return table


class Converter:
    def __init__(self, spill_dir, rejects, day=None, block_bytes=BLOCK_BYTES):
        self.spill = Spill(spill_dir)
        self.rejects = rejects
        self.day = day
        self.block_bytes = block_bytes
        self.duplicates = 0
        self.conflicting_duplicates = 0
        self.quality = DayQuality()
        self.digest = schema.ContentDigest()
        self.rows = 0
        self.written = None         # the last (root, expiration) written
        self._writer = None

    # -- phase 1 ------------------------------------------------------------------------------
    def read_typed(self, source):
        """Take the rows of the stage file SOURCE from its typed copy (spx_data.staging) instead of
        parsing its text. False when there is no copy that belongs to the file as it is now, or
        when any row is invalid: then the text is read, so that rejects get their line numbers."""
        from .staging import load_typed
        loaded = load_typed(source) if source not in (None, "-") else None
        if loaded is None:
            return False
        table, meta = loaded
        day = self.day or (meta["date"] if _is_iso_date(meta["date"]) else None)
        if day is None or not _all_valid(_raw_rows(table, meta), day):
            return False
        self.day = day
        # Phase 2 loads the rows from the copy again: nothing to park, nothing held meanwhile.
        self.spill.add_source((meta["root"], meta["expiration"]), functools.partial(_typed_copy_rows, source))
        return True

    def read(self, source, stream):
        """Validate every line of the binary STREAM (named SOURCE in rejects) and spill its valid rows."""
        for first_line, lines, block in _blocks(stream, self.block_bytes):
            for typed in self._valid_rows(source, block, first_line, lines):
                for key, group in _split_by_expiration(typed):
                    self.spill.add(key, group)

    def _valid_rows(self, source, block, first_line, lines):
        """Typed tables of the valid rows of BLOCK (LINES whole lines from FIRST_LINE on).

        The whole block goes through the fast path; when that fails, the block is halved and
        each half tried again, down to LINE_BY_LINE_LINES lines checked one by one. So one bad
        row costs a few re-parses, not a Python pass over 16 MB."""
        if self.day is None:
            self.day = _first_valid_date(bytes(block))
        typed = self._fast(block, lines) if self.day is not None else None
        if typed is not None:
            yield typed
        elif lines <= LINE_BY_LINE_LINES or self.day is None:   # no day yet: every line is a reject
            yield _typed(self._line_by_line(source, first_line, bytes(block)))
        else:
            data = bytes(block)
            cut = _middle_line_end(data)
            head_lines = data.count(b"\n", 0, cut)
            view = memoryview(data)
            yield from self._valid_rows(source, view[:cut], first_line, head_lines)
            yield from self._valid_rows(source, view[cut:], first_line + head_lines, lines - head_lines)

    def _fast(self, block, lines):
        """The typed rows of BLOCK when it parses and every row is valid; None otherwise."""
        import pyarrow as pa
        import pyarrow.json as pj
        try:
            raw = pj.read_json(pa.BufferReader(block), parse_options=pj.ParseOptions(
                explicit_schema=raw_schema(), unexpected_field_behavior="ignore"))
            if raw.num_rows != lines or not _all_valid(raw, self.day):
                return None   # blank lines shift row numbers; invalid rows need their line numbers
            return _typed(raw)
        except pa.ArrowException:
            return None

    def _line_by_line(self, source, first_line, block):
        import pyarrow as pa
        columns = {name: [] for name in schema.TICK_FIELDS}
        for lineno, raw in enumerate(block.split(b"\n"), first_line):
            if not raw.strip():
                continue
            reason, record = self._check_line(source, lineno, raw)
            if reason:
                self.rejects.add(source, lineno, reason, raw.decode("utf-8", "replace").rstrip("\r"))
                continue
            for name, values in columns.items():
                values.append(float(record[name]) if name in schema.FLOAT_COLUMNS else record[name])
        return pa.table(columns, schema=raw_schema())

    def _check_line(self, source, lineno, raw):
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            return f"not valid UTF-8 ({exc.reason} at byte {exc.start})", None
        try:
            record = ndjson.parse_line(text, lineno, source)
        except SchemaValidationError as exc:
            return str(exc).removeprefix(f"{source}:{lineno}: "), None
        return tick_problem(record, self.day), record

    def add(self, name):
        """Phase 1 for the input NAME ("-" = stdin)."""
        if not self.read_typed(name):
            with _binary_input(name) as stream:
                self.read(name, stream)

    # -- phase 2 ------------------------------------------------------------------------------
    def open(self, path, row_group_rows):
        """Start the Parquet file PATH; write_through adds the groups, finish completes it."""
        import pyarrow.parquet as pq
        self._writer = pq.ParquetWriter(
            str(path), schema.arrow_schema(), compression="zstd", use_dictionary=list(DICTIONARY_COLUMNS),
            write_statistics=True, write_page_index=True, write_page_checksum=True,
            sorting_columns=[pq.SortingColumn(schema.NAMES.index(name)) for name in schema.KEY])
        self._row_group_rows = row_group_rows
        # The counters and the digest read the rows while the writer encodes them (both let go of
        # the GIL): the second core works instead of waiting. In order, one at a time.
        self._beside = ThreadPoolExecutor(max_workers=1)

    def write_through(self, last=None):
        """Write every spilled (root, expiration) group up to LAST (all when None), in order."""
        for key in self.spill.keys():
            if last is not None and key > last:
                break
            table = _pinned(self._deduplicated(_sorted(self.spill.take(key))), midnight_epoch_ms(self.day))
            counted = self._beside.submit(self._count, table)
            self._writer.write_table(table, row_group_size=self._row_group_rows)
            counted.result()
            self.rows += table.num_rows
            self.written = key

    def check_unwritten(self, source):
        """After reading SOURCE: none of its rows may belong to a group already written."""
        early = [key for key in self.spill.keys() if self.written is not None and key <= self.written]
        if early:
            raise UsageError(f"{source} holds rows of {' '.join(early[0])}, which are already written: "
                             "--follow takes stage files that hold their own expiration only")

    def finish(self, source_meta, extra_meta):
        """Write what is left, the footer metadata, and close; returns the row count."""
        self.write_through()
        self._writer.add_key_value_metadata({schema.meta_key(k): v for k, v in {
            schema.META_SCHEMA_VERSION: schema.SCHEMA_VERSION,
            schema.META_TOOL_VERSION: __version__,
            schema.META_SOURCE: ndjson.dumps(source_meta),
            schema.META_DATE: self.day,
            schema.META_ROW_COUNT: str(self.rows),
            schema.META_REJECTED: str(self.rejects.count),
            schema.META_DUPLICATES: str(self.duplicates),
            schema.META_CONTENT_SHA256: self.digest.hexdigest(),
            **extra_meta,
        }.items()})
        self.close()
        return self.rows

    def close(self):
        if self._writer is not None:
            writer, self._writer = self._writer, None
            try:
                writer.close()
            finally:
                self._beside.shutdown()

    def _count(self, table):
        self.quality.add(table)
        self.digest.update(table)

    def _deduplicated(self, table):
        """TABLE (sorted) without the repeats of a key; the first occurrence stays."""
        import pyarrow.compute as pc
        repeat = _repeat_mask(table)
        count = int(pc.sum(repeat).as_py() or 0) if repeat is not None else 0
        if not count:
            return table
        self.duplicates += count
        self.conflicting_duplicates += _conflicting(table, repeat)
        return table.filter(pc.invert(repeat))


def _blocks(stream, size):
    """(number of the first line, number of lines, whole lines) for consecutive blocks of STREAM.

    One buffer is reused (a fresh 16 MB allocation per block costs thousands of page faults), so
    a block is a memoryview valid only until the next one is asked for."""
    buffer = bytearray(size)
    lineno, carried = 1, 0      # carried: bytes of an unfinished line moved to the buffer's start
    while True:
        if carried == len(buffer):              # a line longer than the buffer: a bigger one
            buffer = buffer + bytearray(len(buffer))
        with memoryview(buffer) as free:
            end = carried + stream.readinto(free[carried:])
        if end == carried:
            if carried:
                yield lineno, 1, memoryview(buffer)[:carried]
            return
        cut = buffer.rfind(b"\n", carried, end) + 1     # the carried part holds no newline
        if cut == 0:
            carried = end
            continue
        lines = buffer.count(b"\n", 0, cut)
        yield lineno, lines, memoryview(buffer)[:cut]
        lineno += lines
        carried = end - cut
        buffer[:carried] = buffer[cut:end]


def _middle_line_end(data):
    """An offset near the middle of DATA (two lines or more) that ends a line and is not its end."""
    middle = len(data) // 2
    newline = data.find(b"\n", middle, len(data) - 1)
    if newline < 0:
        newline = data.rfind(b"\n", 0, middle)
    return newline + 1


def _first_valid_date(block):
    """The date of the first line of BLOCK that is an object with a valid ISO `date`, or None."""
    for raw in block.split(b"\n"):
        try:
            record = ndjson.parse_line(raw.decode("utf-8"))
        except (UnicodeDecodeError, SchemaValidationError):
            continue
        date = record.get("date")
        if isinstance(date, str) and _is_iso_date(date):
            return date
    return None


def _all_valid(raw, day):
    """Vectorised tick_problem(): True when every row of the raw table is valid for DAY.
    Aggregates only (unique values, min/max, sums), so no per-row masks are built."""
    import pyarrow.compute as pc
    if any(column.null_count for column in raw.columns):
        return False
    distinct = {name: pc.unique(raw[name]).to_pylist() for name in schema.STRING_COLUMNS}
    if distinct["date"] != [day] or not all(distinct["root"]) or not set(distinct["right"]) <= {"C", "P"}:
        return False
    if not all(_is_iso_date(expiration) and expiration >= day for expiration in distinct["expiration"]):
        return False
    bounds = {name: pc.min_max(raw[name]).as_py() for name in ("strike", "bid", "ask", "ms_of_day", "ms_of_day2")}
    if not (bounds["strike"]["min"] > 0 and bounds["bid"]["min"] >= 0 and bounds["ask"]["min"] >= 0
            and 0 <= bounds["ms_of_day"]["min"] and bounds["ms_of_day"]["max"] < MS_PER_DAY
            and INT32_MIN <= bounds["ms_of_day2"]["min"] and bounds["ms_of_day2"]["max"] <= INT32_MAX):
        return False
    # A sum is finite only when every value is (min/max skip NaN); an overflowing sum of finite
    # values merely sends the block down the exact line-by-line path.
    return all(math.isfinite(pc.sum(raw[name]).as_py()) for name in schema.FLOAT_COLUMNS)


def _raw_rows(table, meta):
    """The raw tick rows of a typed stage copy: its columns, and the date, root and expiration
    every row of it has."""
    import pyarrow as pa
    constant = {name: pa.repeat(pa.scalar(meta[name], pa.string()), table.num_rows)
                for name in ("date", "root", "expiration")}
    return pa.table({name: constant[name] if name in constant else table[name] for name in schema.TICK_FIELDS},
                    schema=raw_schema())


def _typed_copy_rows(source):
    from .staging import load_typed
    table, meta = load_typed(source, verify=False)   # (checked in phase 1)
    return _typed(_raw_rows(table, meta))


def _typed(raw):
    """Raw JSON-typed rows -> the tick columns with their final value types (root, right still str).
    Raises ArrowInvalid on an impossible date such as 2024-02-30."""
    import pyarrow as pa
    columns = {}
    for name in schema.TICK_FIELDS:
        column = raw[name]
        if name in ("date", "expiration"):
            column = column.cast(pa.date32())
        elif name in schema.INT_COLUMNS:
            column = column.cast(pa.int32())
        columns[name] = column
    return pa.table(columns)


def _split_by_expiration(table):
    """((root, expiration ISO), rows) for every (root, expiration) in TABLE."""
    import pyarrow.compute as pc
    if table.num_rows == 0:
        return
    keys = table.select(["root", "expiration"]).group_by(["root", "expiration"]).aggregate([])
    for root, expiration in zip(keys["root"].to_pylist(), keys["expiration"].to_pylist()):
        key = (root, expiration.isoformat())
        if keys.num_rows == 1:
            yield key, table
        else:
            mask = pc.and_(pc.equal(table["root"], root), pc.equal(table["expiration"], expiration))
            yield key, table.filter(mask)


def _sorted(table):
    import pyarrow.compute as pc
    if _in_order(table):   # the terminals send a chain by strike, right, time: no sort needed
        return table.combine_chunks()
    # sort_indices is stable: among equal keys the input order stays, so "first" means first read.
    return table.take(pc.sort_indices(table, sort_keys=[(name, "ascending") for name in SORT_WITHIN_GROUP]))


def _in_order(table):
    """True when every row's key (SORT_WITHIN_GROUP) is >= the previous row's (one root/expiration)."""
    import pyarrow.compute as pc
    n = table.num_rows
    if n < 2:
        return True
    after = same = None    # the key so far: row i's is greater than / equal to row i-1's
    for name in SORT_WITHIN_GROUP:
        current, previous = table[name].slice(1), table[name].slice(0, n - 1)
        greater, equal = pc.greater(current, previous), pc.equal(current, previous)
        after = greater if after is None else pc.or_(after, pc.and_(same, greater))
        same = equal if same is None else pc.and_(same, equal)
    return pc.all(pc.or_(after, same)).as_py()


def _repeat_mask(table):
    """True for each row whose key equals the previous row's (TABLE sorted, one root/expiration)."""
    import pyarrow as pa
    import pyarrow.compute as pc
    n = table.num_rows
    if n < 2:
        return None
    same = None
    for name in SORT_WITHIN_GROUP:
        column = table[name]
        equal = pc.equal(column.slice(1), column.slice(0, n - 1))
        same = equal if same is None else pc.and_(same, equal)
    return pa.chunked_array([pa.array([False]), *same.chunks])


def _conflicting(table, repeat):
    """How many repeats differ in any value from the first row of their key."""
    import pyarrow as pa
    import pyarrow.compute as pc
    positions = pa.array(range(table.num_rows), pa.int64())
    first = pc.fill_null_forward(pc.if_else(repeat, pa.scalar(None, pa.int64()), positions))
    differs = None
    for name in VALUE_COLUMNS:
        column = table[name]
        unequal = pc.not_equal(column, column.take(first))
        differs = unequal if differs is None else pc.or_(differs, unequal)
    return int(pc.sum(pc.and_(repeat, differs)).as_py() or 0)


def _pinned(table, base_ms):
    """The pinned schema's columns: dictionaries for root/right and the timestamp beside ms_of_day."""
    import pyarrow as pa
    import pyarrow.compute as pc
    target = schema.arrow_schema()
    columns = []
    for field in target:
        if field.name == "timestamp":
            instants = pc.add(table["ms_of_day"].cast(pa.int64()), base_ms)
            columns.append(instants.cast(field.type))
        else:
            columns.append(table[field.name].cast(field.type))
    return pa.Table.from_arrays(columns, schema=target)


@contextmanager
def _binary_input(name):
    if name in (None, "-"):
        yield sys.stdin.buffer
        return
    try:
        stream = open(name, "rb")
    except OSError as exc:
        raise UsageError(f"cannot read {name}: {exc.strerror}") from None
    with stream:
        yield stream


def _follow_order(inputs):
    """[((root, expiration), file)] of --follow's stage files, in the order of the Parquet file."""
    order = {}
    for name in inputs:
        key = layout.expiration_of(name)
        if key is None:
            raise UsageError(f"--follow takes stage files named ROOT-YYYY-MM-DD.ndjson, not {name}")
        order[key] = name
    return sorted(order.items())


def _follow(converter, order, events):
    """Read each stage file of ORDER when an expiration_done event on EVENTS says it is complete
    (spx-fetch commits a file before its event), and write every group as soon as the files of
    all groups up to it have been read: the file is written alongside the fetch, in order."""
    waiting = dict(order)
    keys = [key for key, _ in order]
    done = 0                        # keys[:done] are read
    for _lineno, event in ndjson.read(events, "stdin"):
        name = waiting.pop((event.get("root"), event.get("expiration")), None) \
            if event.get("event") == "expiration_done" else None
        if name is None:
            continue                # another event, or a file announced twice
        converter.add(name)
        converter.check_unwritten(name)
        while done < len(keys) and keys[done] not in waiting:
            done += 1
        if done:
            converter.write_through(keys[done - 1])
        if not waiting:
            return
    names = [name for key, name in order if key in waiting]
    raise IncompleteInputError(f"the events ended before {len(names)} of {len(order)} stage files were "
                                f"complete, {names[0]} first: was the fetch stopped?")


def convert(inputs, out, rejects_path=None, day=None, interval_ms=60000, meta=(), block_bytes=BLOCK_BYTES,
            row_group_rows=ROW_GROUP_ROWS, follow=None):
    """Convert the NDJSON files INPUTS ("-" = stdin) into the Parquet file OUT; returns the
    summary record. DAY (ISO) defaults to the date of the first row that has a valid one.
    FOLLOW (a text stream of spx-fetch events): INPUTS are stage files still being fetched; see
    _follow."""
    started = time.monotonic()
    out = Path(out)
    part = out.with_name(out.name + ".part")
    source_meta, extra_meta = parse_meta(meta)
    source_meta.setdefault("interval_ms", interval_ms)
    day = parse_date(day, "--date").isoformat() if day else None
    order = _follow_order(inputs) if follow is not None else None
    rejects = Rejects(rejects_path or f"{out}.rejects.ndjson")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.unlink(missing_ok=True)     # a stale OUT must not pass for this run's result
        spill_dir = tempfile.mkdtemp(prefix=f".{out.name}.spill-", dir=out.parent)
    except OSError as exc:
        raise filesystem_error(exc, out) from None
    converter = Converter(spill_dir, rejects, day, block_bytes)
    try:
        converter.open(part, row_group_rows)
        if order is None:
            for name in inputs or ["-"]:
                converter.add(name)
        else:
            _follow(converter, order, follow)
        if converter.day is None:
            raise UsageError("cannot tell the day: no row has a valid date; pass --date YYYY-MM-DD")
        rows = converter.finish(source_meta, extra_meta)
        os.replace(part, out)
    except OSError as exc:
        raise filesystem_error(exc, out) from None
    finally:
        converter.close()
        rejects.close()
        shutil.rmtree(spill_dir, ignore_errors=True)
        part.unlink(missing_ok=True)
    return {
        "event": "converted",
        "date": converter.day,
        "path": str(out),
        "rows": rows,
        "rejected": rejects.count,
        "duplicates": converter.duplicates,
        "conflicting_duplicates": converter.conflicting_duplicates,
        **converter.quality.summary(converter.day, interval_ms, rejects.count, converter.duplicates),
        "rejects": str(rejects.path) if rejects.count else None,
        "content_sha256": converter.digest.hexdigest(),
        "file_size_bytes": out.stat().st_size,
        "duration_ms": int((time.monotonic() - started) * 1000),
    }
