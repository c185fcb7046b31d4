"""Reading Theta Terminal bodies with Arrow: whole-body checks and the shared column helpers of
the v2 and v3 parsers. A body is parsed only when it is complete; anything cut short is an
ApiConnectionError (retried), never data."""
import datetime as _dt

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.json as pajson

from ..errors import ApiConnectionError, ApiResponseInvalidError

MS_PER_DAY = 86_400_000
_EPOCH = _dt.date(1970, 1, 1)


def require_final_newline(reply, what):
    """CSV and NDJSON bodies end with a newline; one that does not was cut off."""
    if reply.body and not reply.body.endswith(b"\n"):
        raise ApiConnectionError(f"truncated {what} reply (no final newline, {len(reply.body)} bytes)",
                                 reply.status, reply.url)


def read_csv(reply, column_types):
    """A table of a complete CSV body with a header row; text columns stay text."""
    require_final_newline(reply, "CSV")
    if _blank(reply.body):
        return None
    try:
        return pacsv.read_csv(pa.BufferReader(reply.body), convert_options=pacsv.ConvertOptions(
            column_types=column_types, include_missing_columns=False, strings_can_be_null=False))
    except pa.ArrowInvalid as exc:
        raise ApiResponseInvalidError(f"unreadable CSV from the terminal: {_first_line(exc)}",
                                      reply.status, reply.url) from None


def read_ndjson(reply, schema):
    require_final_newline(reply, "NDJSON")
    return _read_json(reply, schema, one_document=False)


def read_json_document(reply, schema):
    """The one JSON document of a body (a table of one row)."""
    return _read_json(reply, schema, one_document=True)


def _read_json(reply, schema, one_document):
    body = reply.body
    if _blank(body):
        if one_document:
            raise ApiConnectionError("empty JSON reply", reply.status, reply.url)
        return schema.empty_table()
    options = pajson.ReadOptions(use_threads=False, block_size=len(body) + 1 if one_document else 1 << 24)
    parse = pajson.ParseOptions(explicit_schema=schema, unexpected_field_behavior="ignore",
                                newlines_in_values=one_document)
    try:
        table = pajson.read_json(pa.BufferReader(body), read_options=options, parse_options=parse)
    except pa.ArrowInvalid as exc:
        # A body cut short is the usual reason; ask again rather than trust any of it.
        raise ApiConnectionError(f"the reply is not complete JSON: {_first_line(exc)}",
                                 reply.status, reply.url) from None
    if one_document and table.num_rows != 1:
        raise ApiResponseInvalidError(f"expected one JSON document, got {table.num_rows}", reply.status, reply.url)
    return table


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
