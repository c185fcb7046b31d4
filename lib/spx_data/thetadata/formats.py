"""Reading Theta Terminal bodies with Arrow: whole-body checks and the shared column helpers of
the v2 and v3 parsers. Line formats (CSV, NDJSON) are parsed a block of whole lines at a time as
the body arrives, so memory does not grow with the reply; a JSON document is parsed once whole.
A body cut short is an ApiConnectionError (retried), never data: a line without its newline is
never parsed, and whatever the blocks before it produced is cut off again by the caller."""
import datetime as _dt
import mmap
import tempfile
import threading
from contextlib import contextmanager

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.json as pajson

from ..errors import ApiConnectionError, ApiResponseInvalidError
from .transport import Reply

MS_PER_DAY = 86_400_000
BLOCK_BYTES = 2 << 20    # whole lines parsed at once: a few MB keeps Arrow fast and memory small
_ONE_DOCUMENT = threading.Lock()
_BLANK_CHECK_BYTES = 1 << 16   # a body this small may be only whitespace; a larger one is not empty
_EPOCH = _dt.date(1970, 1, 1)


def require_final_newline(reply, what):
    """CSV and NDJSON bodies end with a newline; one that does not was cut off."""
    if reply.body and not reply.body.endswith(b"\n"):
        raise _truncated(reply, what, len(reply.body))


def _truncated(reply, what, size):
    return ApiConnectionError(f"truncated {what} reply (no final newline, {size} bytes)", reply.status, reply.url)


def line_blocks(reply, what, block_bytes=None):
    """REPLY's body (its chunks()) as blocks of whole lines of about BLOCK_BYTES, each handed out
    as soon as it is complete; ApiConnectionError at the end when the last line has no newline.
    Each byte is copied once, into its block."""
    block_bytes = block_bytes or BLOCK_BYTES
    parts, held, size = [], 0, 0        # the chunks not handed out yet, and their length
    for chunk in reply.chunks():
        size += len(chunk)
        parts.append(chunk)
        held += len(chunk)
        cut = chunk.rfind(b"\n") + 1 if held >= block_bytes else 0
        if cut:
            rest = chunk[cut:]
            parts[-1] = memoryview(chunk)[:cut]
            yield b"".join(parts)
            parts, held = ([rest], len(rest)) if rest else ([], 0)
    tail = b"".join(parts)
    if tail:
        if not tail.endswith(b"\n"):
            raise _truncated(reply, what, size)
        yield tail


def read_csv(reply, column_types):
    """A table of a complete CSV body with a header row; text columns stay text."""
    require_final_newline(reply, "CSV")
    return None if _blank(reply.body) else _csv_table(reply.body, column_types, reply)


def csv_tables(reply, column_types):
    """A table per block of a CSV body with a header row, as the body arrives."""
    names = None           # the header's, for the blocks after the first
    for block in line_blocks(reply, "CSV"):
        if _blank(block):
            continue
        table = _csv_table(block, column_types, reply, names)
        names = names or table.column_names
        yield table


def _csv_table(data, column_types, reply, names=None):
    """The table of DATA, CSV with a header row, or without one when its column NAMES are given."""
    try:
        return pacsv.read_csv(pa.BufferReader(data), read_options=pacsv.ReadOptions(column_names=names),
                              convert_options=pacsv.ConvertOptions(column_types=column_types,
                                                                   include_missing_columns=False,
                                                                   strings_can_be_null=False))
    except pa.ArrowInvalid as exc:
        raise ApiResponseInvalidError(f"unreadable CSV from the terminal: {_first_line(exc)}",
                                      reply.status, reply.url) from None


def ndjson_tables(reply, schema):
    """A table per block of an NDJSON body, as the body arrives."""
    for block in line_blocks(reply, "NDJSON"):
        if not _blank(block):
            yield _json_table(block, schema, reply, one_document=False)


def whole(reply):
    """REPLY with its whole body read (a JSON document is parsed only once complete)."""
    body = bytearray()
    for chunk in reply.chunks():
        body += chunk
    return Reply(reply.status, reply.headers, body, reply.url, None)


def collect(read_greeks, reply, day, root, expiration, contract):
    """(one table of every row, next page) of READ_GREEKS (an API's) over a whole REPLY."""
    from .rows import empty_table
    tables = []
    next_page = read_greeks(reply, day, root, expiration, contract, tables.append)
    return (pa.concat_tables(tables) if tables else empty_table()), next_page


@contextmanager
def json_document(reply, schema):
    """The one JSON document of REPLY's body (a table of one row), for the block's duration.

    A document can only be parsed whole, and parsing and working through it takes about four
    times the body's size. So the body is spooled to a temporary file as it arrives (waiting, it
    takes no memory, and the request slot is free once it is in), and one document at a time per
    process is parsed and worked on: memory stays that of one document, however many workers."""
    with tempfile.TemporaryFile() as spool:
        for chunk in reply.chunks():
            spool.write(chunk)
        size = spool.tell()
        if size == 0:
            raise ApiConnectionError("empty JSON reply", reply.status, reply.url)
        spool.flush()
        with _ONE_DOCUMENT, mmap.mmap(spool.fileno(), 0, access=mmap.ACCESS_READ) as body:
            if size <= _BLANK_CHECK_BYTES and body[:].isspace():
                raise ApiConnectionError("empty JSON reply", reply.status, reply.url)
            table = _json_table(body, schema, reply, one_document=True)
            if table.num_rows != 1:
                raise ApiResponseInvalidError(f"expected one JSON document, got {table.num_rows}", reply.status,
                                              reply.url)
            yield table


def _json_table(body, schema, reply, one_document):
    options = pajson.ReadOptions(use_threads=False, block_size=len(body) + 1 if one_document else 1 << 24)
    parse = pajson.ParseOptions(explicit_schema=schema, unexpected_field_behavior="ignore",
                                newlines_in_values=one_document)
    try:
        return pajson.read_json(pa.BufferReader(body), read_options=options, parse_options=parse)
    except pa.ArrowInvalid as exc:
        # A body cut short is the usual reason; ask again rather than trust any of it.
        raise ApiConnectionError(f"the reply is not complete JSON: {_first_line(exc)}",
                                 reply.status, reply.url) from None


def _blank(body):
    return not body or body.isspace()   # (strip() would copy a large body)


def _first_line(exc):
    return str(exc).splitlines()[0][:200]


def require_columns(table, names, reply):
    missing = [name for name in names if name not in table.column_names]
    if missing:
        raise ApiResponseInvalidError(f"the terminal's reply lacks column(s) {', '.join(missing)}",
                                      reply.status, reply.url)


def require_all(condition, message, reply):
    """CONDITION: a boolean array that must be true everywhere (no nulls)."""
    if len(condition) and not pc.all(pc.fill_null(condition, False)).as_py():
        raise ApiResponseInvalidError(message, reply.status, reply.url)


def epoch_ms(day):
    return (day - _EPOCH).days * MS_PER_DAY


def ms_of_day(timestamps, day, reply, check_day=True):
    """Milliseconds after midnight of naive ET timestamps; CHECK_DAY: all must fall on DAY."""
    values = np.asarray(pc.cast(timestamps, pa.int64()).to_numpy(zero_copy_only=False))
    start = epoch_ms(day)
    if check_day and len(values) and not ((values >= start) & (values < start + MS_PER_DAY)).all():
        raise ApiResponseInvalidError(f"the terminal sent rows of another day than {day}", reply.status, reply.url)
    return pa.array(values % MS_PER_DAY if not check_day else values - start, pa.int64())


def yyyymmdd(day):
    return day.year * 10000 + day.month * 100 + day.day


def from_yyyymmdd(value):
    value = int(value)
    return _dt.date(value // 10000, value // 100 % 100, value % 100)
