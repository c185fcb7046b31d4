"""Per-expiration stage files: the unit of resume.

An expiration's tick rows are written to ROOT-YYYY-MM-DD.ndjson.part beside their final name
(spx_data.layout) and renamed to the final name once complete, after an fsync of the file and
followed by one of the directory. So a final stage file is always complete, a re-run skips it,
and a .part file is only ever the leftover of an interrupted attempt (rewritten from scratch).

The typed copy (spx-fetch --typed-copy): spx-fetch has every row as an Arrow table before it
writes it as text, and spx-ndjson2parquet would parse that text straight back (most of its time).
So beside the NDJSON file the same rows can be kept in Arrow IPC form, ROOT-YYYY-MM-DD.ndjson.arrow,
stamped with the identity of the committed NDJSON file: size, inode, mtime and ctime, to the
nanosecond. The NDJSON stays the one truth: the typed copy is used only while the NDJSON file is
still that very file, untouched (writing it, replacing it, even setting its times back changes its
ctime, which nobody can set), and it is not kept at all when an attempt had to cut rows off again
(a retried request). The copy is made durable and renamed into place after the NDJSON file, so a
crash in between leaves an NDJSON file without a copy, never a copy that does not belong.
"""
import os
from contextlib import suppress
from pathlib import Path

from . import layout
from .integrity import fsync_path

_CHUNK = 1 << 20
TYPED_SUFFIX = ".arrow"
_STAMP = b"ndjson_identity"
_META_KEYS = ("date", "root", "expiration")


def final_path(stage, root, expiration):
    return layout.expiration_file(stage, root, expiration)


def part_path(final):
    final = Path(final)
    return final.with_name(final.name + ".part")


def typed_path(final):
    final = Path(final)
    return final.with_name(final.name + TYPED_SUFFIX)


def is_complete(stage, root, expiration):
    return final_path(stage, root, expiration).is_file()


def count_rows(path):
    """Lines of a stage file (one tick row per line), read in chunks."""
    lines = 0
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(_CHUNK), b""):
            lines += chunk.count(b"\n")
    return lines


class _AppendOnly:
    """The NDJSON .part file. Moving back to cut rows off again (client retries) means the rows
    handed to add_typed are no longer those of the file: `intact` turns False."""

    def __init__(self, raw):
        self._raw = raw
        self.intact = True

    def seek(self, position, whence=os.SEEK_SET):
        if whence != os.SEEK_SET or position != self._raw.tell():
            self.intact = False
        return self._raw.seek(position, whence)

    def truncate(self, size=None):
        if size is not None and size != self._raw.tell():
            self.intact = False
        return self._raw.truncate(size)

    def __getattr__(self, name):   # write, tell, flush, fileno, close, ...
        return getattr(self._raw, name)


def _identity(path):
    """What tells one file from any other, or from itself after any change."""
    st = os.stat(path)
    return f"{st.st_size}:{st.st_ino}:{st.st_mtime_ns}:{st.st_ctime_ns}".encode()


class _TypedPart:
    """The typed copy being written: an Arrow IPC file of TICK_SCHEMA batches (opened with the
    first rows), stamped at commit by a last, empty batch carrying the NDJSON file's identity."""

    def __init__(self, final, day, root, expiration):
        self.final = typed_path(final)
        self.path = part_path(self.final)
        self.meta = {"date": _iso(day), "root": root, "expiration": _iso(expiration)}
        self.final.unlink(missing_ok=True)   # one of an older attempt would be checked in vain
        self._sink = self._writer = self._schema = None

    def add(self, table):
        import pyarrow as pa
        if self._writer is None:
            self._schema = table.schema.with_metadata(self.meta)
            self._sink = pa.OSFile(str(self.path), "wb")
            os.chmod(self.path, 0o600)          # like the NDJSON file it mirrors
            self._writer = pa.ipc.new_file(self._sink, self._schema)
        self._writer.write_table(table)

    def commit(self, ndjson):
        """Stamp with the identity of the committed file NDJSON, close, fsync and rename into
        place; nothing when no rows were added."""
        if self._writer is None:
            return
        import pyarrow as pa
        empty = pa.record_batch([pa.array([], field.type) for field in self._schema], schema=self._schema)
        self._writer.write_batch(empty, custom_metadata={_STAMP: _identity(ndjson)})
        self._close()
        fsync_path(self.path)
        os.replace(self.path, self.final)

    def abandon(self):
        try:
            with suppress(OSError):     # a full disk fails the last write; the file goes anyway
                self._close()
        finally:
            self.path.unlink(missing_ok=True)

    def _close(self):
        if self._writer is not None:
            writer, self._writer = self._writer, None
            try:
                writer.close()
            finally:
                self._sink.close()


class PartFile:
    """The .part file of one expiration: write, then commit() (rename into place) or abandon().
    With DAY, `add_typed(table)` keeps the typed copy of the rows written (see above)."""

    def __init__(self, stage, root, expiration, day=None):
        self.final = final_path(stage, root, expiration)
        self.path = part_path(self.final)
        self.final.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        # O_TRUNC: a leftover from an interrupted run starts over; 0600 like every data file.
        raw = os.fdopen(os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o600), "w+b")
        self.file = _AppendOnly(raw)
        self._typed = _TypedPart(self.final, day, root, expiration) if day is not None else None

    def add_typed(self, table):
        """TABLE (rows.TICK_SCHEMA), just written to `file` as NDJSON."""
        if self._typed is not None and self.file.intact and table.num_rows:
            self._typed.add(table)

    def commit(self):
        self.file.flush()
        os.fsync(self.file.fileno())
        self.file.close()
        os.replace(self.path, self.final)
        if self._typed is not None:
            if self.file.intact:
                self._typed.commit(self.final)
            else:
                self._typed.abandon()
        fsync_path(self.final.parent)
        return self.final

    def abandon(self):
        try:
            with suppress(OSError):     # closing flushes, which fails on a full disk: discarded anyway
                self.file.close()
            if self._typed is not None:
                self._typed.abandon()
        finally:
            self.path.unlink(missing_ok=True)


def load_typed(ndjson_path, verify=True):
    """The typed copy of the stage file NDJSON_PATH as (table, {"date","root","expiration"}), or
    None unless it exists, is readable and (VERIFY) stamped with the identity the file has now."""
    import pyarrow as pa
    path = typed_path(ndjson_path)
    try:
        with pa.memory_map(str(path)) as source:
            reader = pa.ipc.open_file(source)
            last = reader.num_record_batches - 1
            stamp = reader.get_batch_with_custom_metadata(last).custom_metadata if last >= 0 else None
            meta = {k.decode(): v.decode() for k, v in (reader.schema.metadata or {}).items()}
            if not stamp or any(k not in meta for k in _META_KEYS) \
                    or (verify and stamp.get(_STAMP) != _identity(ndjson_path)):
                return None
            table = reader.read_all()
    except (OSError, pa.ArrowException):
        return None
    return table.replace_schema_metadata(None), {k: meta[k] for k in _META_KEYS}


def _iso(day):
    return day.isoformat() if hasattr(day, "isoformat") else str(day)
