"""Vectorised text for response bodies: numbers, clock times, and rows joined without a Python loop.

A body is built as one Arrow string array with a row per element (each carrying its own
separators), whose data buffer already is the concatenated body: `body()` hands it out
zero-copy.
"""
import pyarrow as pa
import pyarrow.compute as pc


def column(table, name):
    """One column of TABLE as a single Array (the kernels below mix it with plain arrays)."""
    return table.column(name).combine_chunks()


def number(values):
    """Shortest round-trip text of numbers (integers print without a fraction)."""
    return pc.cast(values, pa.string())


def fixed(values, decimals):
    """Non-negative floats with exactly DECIMALS decimals ("4700.000", "1.20")."""
    scale = 10 ** decimals
    units = pc.cast(pc.round(pc.multiply(values, float(scale))), pa.int64())
    whole = pc.cast(pc.divide(units, scale), pa.string())
    frac = pc.utf8_lpad(pc.cast(pc.subtract(units, pc.multiply(pc.divide(units, scale), scale)), pa.string()),
                        width=decimals, padding="0")
    return join([whole, frac], ".")


def _two(values):
    return pc.utf8_lpad(pc.cast(values, pa.string()), width=2, padding="0")


def clock(ms_of_day):
    """HH:MM:SS.mmm for milliseconds after midnight."""
    seconds = pc.divide(ms_of_day, 1000)
    millis = pc.utf8_lpad(pc.cast(pc.subtract(ms_of_day, pc.multiply(seconds, 1000)), pa.string()),
                          width=3, padding="0")
    minutes = pc.divide(seconds, 60)
    hours = pc.divide(minutes, 60)
    return join([join([_two(hours), _two(pc.subtract(minutes, pc.multiply(hours, 60))),
                       _two(pc.subtract(seconds, pc.multiply(minutes, 60)))], ":"), millis], ".")


def join(parts, separator=""):
    """Element-wise concatenation of string arrays and str constants."""
    return pc.binary_join_element_wise(*[pa.scalar(p) if isinstance(p, str) else p for p in parts], separator)


def contract_edges(contract):
    """(first, last): masks of the rows that open and close each run of one contract."""
    n = len(contract)
    previous = pa.concat_arrays([pa.array([-1], pa.int32()), contract.slice(0, n - 1)])
    following = pa.concat_arrays([contract.slice(1), pa.array([-1], pa.int32())])
    return pc.not_equal(contract, previous), pc.not_equal(contract, following)


def body(rows):
    """The bytes of a string array's elements back to back, without copying."""
    if len(rows) == 0:
        return b""
    if isinstance(rows, pa.ChunkedArray):
        rows = rows.combine_chunks()
    _, offsets, data = rows.buffers()
    offsets = memoryview(offsets).cast("i")     # int32 offsets of a (non-large) string array
    return memoryview(data)[offsets[rows.offset]:offsets[rows.offset + len(rows)]]
