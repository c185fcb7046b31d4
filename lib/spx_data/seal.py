"""Verify a day's Parquet file, and seal it into its final place (DESIGN §1, §3).

verify() is the one check of a file, reused by `spx-seal --check`, `spx-data verify` and gap
analysis: readable (every page decoded, page checksums verified), the pinned schema, the footer's
row count and content digest equal to what the data holds, the footer date equal to the name's,
and optionally the SHA-256 equal to an expected one.

seal() makes a verified file final: everything that needs disk space first (when TMP is on
another file system, a checked copy beside FINAL), then the sidecar (written, fsynced, renamed),
then the file itself (0600, fsynced, renamed atomically over any previous version of the day),
then the directory fsynced. The rename of the Parquet file is the commit point: before it the
previous file (or none) is in place, after it the new one. A full disk therefore fails before
the first rename, and the previous file keeps its own sidecar.
"""
import errno
import os
import shutil
from pathlib import Path

from . import integrity, layout, schema
from .dates import parse_date
from .errors import DateValidationError, FileCorruptionError, UsageError, filesystem_error

FILE_MODE = 0o600
DIR_MODE = 0o700


def verify(path, expected_sha256=None):
    """{"path","date","outcome": "ok"|"corrupt"|"missing","reason","sha256","rows"} for PATH."""
    result = {"path": str(path), "date": layout.date_of_final(path), "outcome": "ok", "reason": None,
              "sha256": None, "rows": None}
    if not os.path.isfile(path):
        return dict(result, outcome="missing", reason="no such file")
    try:
        result["sha256"] = integrity.sha256_file(path)
    except OSError as exc:
        return dict(result, outcome="corrupt", reason=f"unreadable: {exc.strerror}")
    if expected_sha256 and result["sha256"] != expected_sha256.lower():
        return dict(result, outcome="corrupt",
                    reason=f"sha256 {result['sha256']} differs from the expected {expected_sha256.lower()}")
    reason = _content_problem(path, result)
    return dict(result, outcome="corrupt", reason=reason) if reason else result


def _content_problem(path, result):
    """Why the Parquet file PATH is not a sound day file, or None; fills result's rows and date."""
    import pyarrow as pa
    import pyarrow.parquet as pq
    try:
        parquet = pq.ParquetFile(path, page_checksum_verification=True)
    except (pa.ArrowException, OSError) as exc:
        return f"not a readable Parquet file: {_first_line(exc)}"
    footer = schema.footer(parquet.metadata.metadata)
    if not parquet.schema_arrow.remove_metadata().equals(schema.arrow_schema()):
        return (f"schema is not the pinned schema (version {schema.SCHEMA_VERSION}; "
                f"file says {footer.get(schema.META_SCHEMA_VERSION, 'none')})")
    name_date, footer_date = result["date"], footer.get(schema.META_DATE)
    if name_date and footer_date != name_date:
        return f"footer date {footer_date} does not match the file name's {name_date}"
    result["date"] = footer_date
    digest = schema.ContentDigest()
    rows = 0
    try:
        for index in range(parquet.num_row_groups):
            table = parquet.read_row_group(index)
            rows += table.num_rows
            digest.update(table)
    except (pa.ArrowException, OSError) as exc:
        return f"unreadable data: {_first_line(exc)}"
    result["rows"] = rows
    if footer.get(schema.META_ROW_COUNT) != str(rows) or parquet.metadata.num_rows != rows:
        return f"footer row count {footer.get(schema.META_ROW_COUNT)} but the file holds {rows} rows"
    if footer.get(schema.META_CONTENT_SHA256) != digest.hexdigest():
        return "content digest differs from the footer's"
    return None


def _first_line(exc):
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def check(path):
    """verify() PATH against its .sha256 sidecar; a sealed file without a valid sidecar is corrupt."""
    expected = integrity.read_sidecar(path)
    result = verify(path, expected)
    if result["outcome"] == "ok" and expected is None:
        result.update(outcome="corrupt", reason=f"missing or invalid sidecar {layout.sidecar_path(path).name}")
    return result


def final_day(final):
    """The ISO day FINAL is the file of; UsageError unless FINAL has layout.final_path's shape."""
    final = Path(final)
    day = layout.date_of_final(final)
    try:
        parse_date(day)
        expected = layout.final_path(final.parents[3], day)
    except (DateValidationError, IndexError):
        expected = None
    if expected is None or expected != final:
        raise UsageError(f"invalid FINAL {final}: expected {{outputDir}}/YYYY/MM/DD/spx-options-YYYY-MM-DD.parquet, "
                         f"e.g. data/parquet/2024/01/02/spx-options-2024-01-02.parquet")
    return day


def seal(tmp, final):
    """Verify TMP and make it FINAL; returns the seal record. On failure FINAL is untouched."""
    tmp, final = Path(tmp), Path(final)
    day = final_day(final)
    if not tmp.is_file():
        raise UsageError(f"cannot seal {tmp}: no such file")
    result = verify(tmp)
    if result["outcome"] != "ok":
        raise FileCorruptionError(f"{tmp} failed verification ({result['reason']}); {final} left untouched")
    if result["date"] != day:
        raise UsageError(f"{tmp} holds {result['date']} but {final} is the file of {day}")
    try:
        _make_dirs(final.parent)
        os.chmod(tmp, FILE_MODE)
        integrity.fsync_path(tmp)
        source = tmp if _same_file_system(tmp, final.parent) else _copy_beside(tmp, final, result["sha256"])
        try:
            # The sidecar's temporary file goes beside SOURCE: outside the output tree whenever
            # TMP shares its file system, so a kill -9 never leaves a *.tmp among final files.
            _write_sidecar(final, result["sha256"], source.parent)
            _move(source, final, result["sha256"])
        finally:
            if source != tmp:
                source.unlink(missing_ok=True)  # gone after the rename; a leftover after a failure
        tmp.unlink(missing_ok=True)
        integrity.fsync_path(final.parent)
    except OSError as exc:
        raise filesystem_error(exc, final) from None
    return {"event": "sealed", "date": day, "path": str(final), "sha256": result["sha256"],
            "file_size_bytes": final.stat().st_size, "rows": result["rows"]}


def _make_dirs(directory):
    missing = []
    while not directory.exists():
        missing.append(directory)
        directory = directory.parent
    for created in reversed(missing):
        created.mkdir(mode=DIR_MODE, exist_ok=True)
        os.chmod(created, DIR_MODE)   # mkdir's mode is filtered by the umask


def _write_sidecar(final, checksum, scratch=None):
    """Write FINAL's sidecar atomically, through a temporary file in SCRATCH (a directory on the
    sidecar's file system; default: beside it)."""
    sidecar = layout.sidecar_path(final)
    temporary = Path(scratch or sidecar.parent) / f".{sidecar.name}.{os.getpid()}.tmp"
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    try:
        try:
            os.write(fd, integrity.sidecar_text(final, checksum).encode("ascii"))
            os.fchmod(fd, FILE_MODE)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(temporary, sidecar)
    except BaseException:
        temporary.unlink(missing_ok=True)  # never a partial file in the output tree
        raise


def _same_file_system(path, directory):
    return os.stat(path).st_dev == os.stat(directory).st_dev


def _copy_beside(tmp, final, checksum):
    """A checked copy of TMP next to FINAL (so that placing it is a rename); removed on failure."""
    copy = final.with_name(f".{final.name}.{os.getpid()}.part")
    try:
        shutil.copyfile(tmp, copy)
        os.chmod(copy, FILE_MODE)
        integrity.fsync_path(copy)
        if integrity.sha256_file(copy) != checksum:
            raise FileCorruptionError(f"the copy of {tmp} next to {final} differs from it; {final} left untouched")
    except BaseException:
        copy.unlink(missing_ok=True)
        raise
    return copy


def _move(source, final, checksum):
    try:
        os.replace(source, final)
    except OSError as exc:
        if exc.errno != errno.EXDEV:
            raise
        # One file system mounted twice (a bind mount): st_dev agreed, rename did not.
        copy = _copy_beside(source, final, checksum)
        try:
            os.replace(copy, final)
        finally:
            copy.unlink(missing_ok=True)
