"""Tick rows (DESIGN §2) as an Arrow table, and their NDJSON encoding.

Every parser (v2 JSON/CSV, v3 CSV/NDJSON/JSON) produces a table of TICK_SCHEMA for one
(date, root, expiration); `encode` turns it into NDJSON bytes without a per-row Python loop:
numbers are cast to text by Arrow (shortest round-trip form, so they parse back to the identical
float), and one element-wise join puts each row together from its values and the constant text
between them ('{"date":"2024-01-02",...,"strike":', ',"right":"', ...). The joined string array's
data buffer already is the NDJSON, so it is written out without another copy.
"""
import datetime as _dt

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import ujson

from ..errors import ApiResponseInvalidError

FIELDS = ("date", "root", "expiration", "strike", "right", "ms_of_day", "bid", "ask", "delta", "theta",
          "vega", "rho", "epsilon", "lambda", "implied_vol", "iv_error", "ms_of_day2", "underlying_price")
GREEKS = ("bid", "ask", "delta", "theta", "vega", "rho", "epsilon", "lambda", "implied_vol", "iv_error")

# The per-row columns; date, root and expiration are constant for one request and live beside.
TICK_SCHEMA = pa.schema([("strike", pa.float64()), ("right", pa.string()), ("ms_of_day", pa.int64()),
                         *[(name, pa.float64()) for name in GREEKS],
                         ("ms_of_day2", pa.int64()), ("underlying_price", pa.float64())])

_BIG = 1 << 30           # a slice position past the end of any value: "append"
SLICE_ROWS = 1 << 16
_SAMPLE_ROWS = 1024      # rows that tell whether a column repeats its values
_REPEATING = 0.5         # ... at most this fraction of them distinct


def empty_table():
    return TICK_SCHEMA.empty_table()


def iso(day):
    return day.isoformat() if isinstance(day, _dt.date) else str(day)


def _float_text(name, values):
    """Shortest round-trip text; integral values keep a '.0' so that they read back as floats."""
    numbers = values.to_numpy(zero_copy_only=False)
    if not np.isfinite(numbers).all():
        raise ApiResponseInvalidError(f"the terminal sent a non-finite {name} (NaN or Infinity)")
    text = pc.cast(values, pa.string())
    integral = (np.floor(numbers) == numbers) & (np.abs(numbers) < 1e15)
    if not integral.any():
        return text
    return pc.if_else(pa.array(integral), pc.binary_replace_slice(text, _BIG, _BIG, ".0"), text)


def _plain_text(name, values):
    return _float_text(name, values) if pa.types.is_floating(values.type) else pc.cast(values, pa.string())


def _number_text(name, column):
    """The text of every number of COLUMN. Most columns repeat their values a lot (strikes, times,
    the underlying, two-decimal prices): those are formatted once per distinct value and gathered,
    which is several times cheaper than formatting every row."""
    if column.null_count:   # a missing value, or "NaN", which Arrow's CSV reader reads as missing
        raise ApiResponseInvalidError(f"the terminal sent a non-finite {name} (NaN, Infinity or nothing)")
    sample = column.slice(0, _SAMPLE_ROWS)
    if pc.count_distinct(sample).as_py() > len(sample) * _REPEATING:
        return _plain_text(name, column)
    encoded = pc.dictionary_encode(column)
    return pc.take(_plain_text(name, encoded.dictionary), encoded.indices)


def _pieces(table, date, root, expiration):
    """The arguments of the row join: constant text (str) and per-row text arrays, in row order."""
    key = lambda name: ujson.dumps(name) + ":"   # noqa: E731
    pieces = ["{" + ",".join(key(name) + ujson.dumps(value) for name, value in
                             (("date", iso(date)), ("root", root), ("expiration", iso(expiration))))]
    for name in TICK_SCHEMA.names:
        column = table.column(name).chunk(0)
        pieces.append(f",{key(name)}")
        if name == "right":
            pieces += ['"', column, '"']
        else:
            pieces.append(_number_text(name, column))
    pieces.append("}\n")
    return pieces


def _lines(table, date, root, expiration):
    """One string array element per row, each a whole NDJSON line."""
    arguments = []
    for piece in _pieces(table.combine_chunks(), date, root, expiration):
        if isinstance(piece, str) and arguments and isinstance(arguments[-1], str):
            arguments[-1] += piece     # adjacent constants: one argument
        else:
            arguments.append(piece)
    return pc.binary_join_element_wise(*[pa.scalar(a) if isinstance(a, str) else a for a in arguments], "")


def _text(lines):
    """The bytes of a string array's elements back to back, without copying."""
    _, offsets, data = lines.buffers()
    offsets = memoryview(offsets).cast("i")     # int32 offsets: a slice never holds 2 GB of text
    return memoryview(data)[offsets[lines.offset]:offsets[lines.offset + len(lines)]]


def encode(table, date, root, expiration):
    """NDJSON bytes of TABLE (TICK_SCHEMA) as tick rows of DATE, ROOT, EXPIRATION."""
    if table.num_rows == 0:
        return b""
    return bytes(_text(_lines(table, date, root, expiration)))


def write(out, table, date, root, expiration):
    """Write TABLE to the binary file OUT as NDJSON tick rows, a slice at a time (the text of a
    row is about ten times its Arrow size: a whole large expiration at once costs too much memory)."""
    for start in range(0, table.num_rows, SLICE_ROWS):
        out.write(_text(_lines(table.slice(start, SLICE_ROWS), date, root, expiration)))
