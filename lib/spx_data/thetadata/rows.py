"""Tick rows (DESIGN §2) as an Arrow table, and their NDJSON encoding.

Every parser (v2 JSON/CSV, v3 CSV/NDJSON/JSON) produces a table of TICK_SCHEMA for one
(date, root, expiration); `encode` turns it into NDJSON bytes without a per-row Python loop:
numbers are cast to text by Arrow (shortest round-trip form, so they parse back to the identical
float), each column gets its `"key":` prefix, and Arrow's CSV writer joins the columns with the
commas a JSON object needs. CSV forbids quotes in unquoted values, so '"' travels as a
placeholder byte that no value can contain, swapped back once over the finished buffer.
"""
import datetime as _dt
import io

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from ..errors import ApiResponseInvalidError

FIELDS = ("date", "root", "expiration", "strike", "right", "ms_of_day", "bid", "ask", "delta", "theta",
          "vega", "rho", "epsilon", "lambda", "implied_vol", "iv_error", "ms_of_day2", "underlying_price")
GREEKS = ("bid", "ask", "delta", "theta", "vega", "rho", "epsilon", "lambda", "implied_vol", "iv_error")

# The per-row columns; date, root and expiration are constant for one request and live beside.
TICK_SCHEMA = pa.schema([("strike", pa.float64()), ("right", pa.string()), ("ms_of_day", pa.int64()),
                         *[(name, pa.float64()) for name in GREEKS],
                         ("ms_of_day2", pa.int64()), ("underlying_price", pa.float64())])

_QUOTE = "\x01"          # stands for '"' inside the CSV writer
_BIG = 1 << 30           # a slice position past the end of any value: "append"
SLICE_ROWS = 1 << 16
_WRITE = pacsv.WriteOptions(include_header=False, quoting_style="none", batch_size=1 << 16)


def empty_table():
    return TICK_SCHEMA.empty_table()


def iso(day):
    return day.isoformat() if isinstance(day, _dt.date) else str(day)


def _float_text(name, column):
    """Shortest round-trip text; integral values keep a '.0' so that they read back as floats."""
    values = column.to_numpy(zero_copy_only=False)
    if not np.isfinite(values).all():
        raise ApiResponseInvalidError(f"the terminal sent a non-finite {name} (NaN or Infinity)")
    text = pc.cast(column, pa.string())
    integral = (np.floor(values) == values) & (np.abs(values) < 1e15)
    if not integral.any():
        return text
    return pc.if_else(pa.array(integral), pc.binary_replace_slice(text, _BIG, _BIG, ".0"), text)


def _keyed(name, text, quoted=False):
    q = _QUOTE if quoted else ""
    keyed = pc.binary_replace_slice(text, 0, 0, f"{_QUOTE}{name}{_QUOTE}:{q}")
    return pc.binary_replace_slice(keyed, _BIG, _BIG, q) if quoted else keyed


def _constant(name, value, rows, first=False):
    text = f"{'{' if first else ''}{_QUOTE}{name}{_QUOTE}:{_QUOTE}{value}{_QUOTE}".encode()
    offsets = np.arange(0, (rows + 1) * len(text), len(text), dtype=np.int32)
    return pa.StringArray.from_buffers(rows, pa.py_buffer(offsets), pa.py_buffer(text * rows))


def encode(table, date, root, expiration):
    """NDJSON bytes of TABLE (TICK_SCHEMA) as tick rows of DATE, ROOT, EXPIRATION."""
    rows = table.num_rows
    if rows == 0:
        return b""
    table = table.combine_chunks()
    columns = [_constant("date", iso(date), rows, first=True), _constant("root", root, rows),
               _constant("expiration", iso(expiration), rows)]
    for name in TICK_SCHEMA.names:
        column = table.column(name).chunk(0)
        if name == "right":
            columns.append(_keyed(name, column, quoted=True))
        elif pa.types.is_integer(column.type):
            columns.append(_keyed(name, pc.cast(column, pa.string())))
        else:
            columns.append(_keyed(name, _float_text(name, column)))
    columns[-1] = pc.binary_replace_slice(columns[-1], _BIG, _BIG, "}")
    out = io.BytesIO()
    pacsv.write_csv(pa.table(columns, names=[f"c{i}" for i in range(len(columns))]), out, _WRITE)
    return out.getvalue().replace(_QUOTE.encode(), b'"')


def write(out, table, date, root, expiration):
    """Write TABLE to the binary file OUT as NDJSON tick rows, a slice at a time (the text of a
    row is about ten times its Arrow size: a whole large expiration at once costs too much memory)."""
    for start in range(0, table.num_rows, SLICE_ROWS):
        out.write(encode(table.slice(start, SLICE_ROWS), date, root, expiration))
