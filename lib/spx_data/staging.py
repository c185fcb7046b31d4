"""Per-expiration stage files: the unit of resume.

An expiration's tick rows are written to ROOT-YYYY-MM-DD.ndjson.part beside their final name
(spx_data.layout) and renamed to the final name once complete, after an fsync of the file and
followed by one of the directory. So a final stage file is always complete, a re-run skips it,
and a .part file is only ever the leftover of an interrupted attempt (rewritten from scratch).
"""
import os
from pathlib import Path

from . import layout
from .integrity import fsync_dir

_CHUNK = 1 << 20


def final_path(stage, root, expiration):
    return layout.expiration_file(stage, root, expiration)


def part_path(final):
    final = Path(final)
    return final.with_name(final.name + ".part")


def is_complete(stage, root, expiration):
    return final_path(stage, root, expiration).is_file()


def count_rows(path):
    """Lines of a stage file (one tick row per line), read in chunks."""
    lines = 0
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(_CHUNK), b""):
            lines += chunk.count(b"\n")
    return lines


class PartFile:
    """The .part file of one expiration: write, then commit() (rename into place) or abandon()."""

    def __init__(self, stage, root, expiration):
        self.final = final_path(stage, root, expiration)
        self.path = part_path(self.final)
        self.final.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        # O_TRUNC: a leftover from an interrupted run starts over; 0600 like every data file.
        self.file = os.fdopen(os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o600), "w+b")

    def commit(self):
        self.file.flush()
        os.fsync(self.file.fileno())
        self.file.close()
        os.replace(self.path, self.final)
        fsync_dir(self.final.parent)
        return self.final

    def abandon(self):
        self.file.close()
        try:
            self.path.unlink()
        except FileNotFoundError:
            pass
