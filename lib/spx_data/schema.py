"""The pinned Arrow/Parquet schema of a sealed day, and the footer metadata keys.

One schema for every day, also an empty one: a day without rows never changes a column's type.
Every column is non-nullable. Changing a column (name, type, order or meaning) is a new
SCHEMA_VERSION; readers can branch on the footer key `spx_data.schema_version`.

pyarrow is imported only by arrow_schema(), so the column names can be imported cheaply.
"""
import functools
import hashlib

from . import arrowmemory  # noqa: F401  (every command that reads or writes Parquet imports this module first)

SCHEMA_VERSION = "1"
TIMEZONE = "America/New_York"
METADATA_PREFIX = "spx_data."

# (name, Arrow type, meaning) in file order. The README's column table is this list.
COLUMNS = (
    ("date", "date32", "trading day (America/New_York)"),
    ("root", "dictionary<int8, string>", "option root: SPXW (weeklies, PM-settled) or SPX (monthlies, AM-settled)"),
    ("expiration", "date32", "expiration date of the contract"),
    ("strike", "float64", "strike in dollars (v2's 1/10-cent integers divided by 1000)"),
    ("right", "dictionary<int8, string>", "C (call) or P (put)"),
    ("ms_of_day", "int32", "milliseconds after midnight ET of the interval (as sent by the terminal)"),
    ("timestamp", f"timestamp[ms, tz={TIMEZONE}]",
     "the instant: date's midnight in New York + ms_of_day (EST/EDT per date; equals the New York "
     "wall-clock time of ms_of_day on every trading day)"),
    ("bid", "float64", "option bid"),
    ("ask", "float64", "option ask"),
    ("delta", "float64", "delta"),
    ("theta", "float64", "theta"),
    ("vega", "float64", "vega"),
    ("rho", "float64", "rho"),
    ("epsilon", "float64", "epsilon (dividend sensitivity)"),
    ("lambda", "float64", "lambda (leverage)"),
    ("implied_vol", "float64", "implied volatility of the option midpoint"),
    ("iv_error", "float64", "option value from the IV divided by the quoted value (grows in the wings)"),
    ("ms_of_day2", "int32", "milliseconds after midnight ET of the underlying quote used"),
    ("underlying_price", "float64", "SPX index price used for the greeks"),
)
NAMES = tuple(name for name, _type, _meaning in COLUMNS)
KEY = ("root", "expiration", "strike", "right", "ms_of_day")   # unique per row; also the sort order
FLOAT_COLUMNS = tuple(name for name, arrow_type, _m in COLUMNS if arrow_type == "float64")
INT_COLUMNS = ("ms_of_day", "ms_of_day2")
STRING_COLUMNS = ("date", "root", "expiration", "right")        # JSON strings in tick rows
TICK_FIELDS = tuple(name for name in NAMES if name != "timestamp")  # DESIGN §2 tick row fields

# Footer key-value metadata, all prefixed with METADATA_PREFIX.
META_SCHEMA_VERSION = "schema_version"
META_TOOL_VERSION = "tool_version"
META_SOURCE = "source"              # JSON object: api version, endpoint, interval (from --meta)
META_DATE = "date"
META_ROW_COUNT = "row_count"
META_REJECTED = "rejected"
META_DUPLICATES = "duplicates"
META_CONTENT_SHA256 = "content_sha256"
RESERVED_META = (META_SCHEMA_VERSION, META_TOOL_VERSION, META_SOURCE, META_DATE, META_ROW_COUNT,
                 META_REJECTED, META_DUPLICATES, META_CONTENT_SHA256)


def meta_key(name):
    return f"{METADATA_PREFIX}{name}"


@functools.lru_cache(maxsize=1)
def arrow_schema():
    """The pinned pyarrow schema (no metadata)."""
    import pyarrow as pa
    types = {
        "date32": pa.date32(),
        "dictionary<int8, string>": pa.dictionary(pa.int8(), pa.string()),
        "float64": pa.float64(),
        "int32": pa.int32(),
        f"timestamp[ms, tz={TIMEZONE}]": pa.timestamp("ms", tz=TIMEZONE),
    }
    return pa.schema([pa.field(name, types[arrow_type], nullable=False) for name, arrow_type, _m in COLUMNS])


def footer(key_value_metadata):
    """The spx_data.* entries of a Parquet footer's key-value metadata (bytes -> bytes, as
    pyarrow's FileMetaData.metadata gives it), prefix removed, values as str."""
    prefix = METADATA_PREFIX.encode()
    return {k[len(prefix):].decode(): v.decode() for k, v in (key_value_metadata or {}).items()
            if k.startswith(prefix)}


class ContentDigest:
    """SHA-256 of a day's row content in file order, whatever the chunking.

    Each column has its own hashers fed with the column's canonical bytes (little-endian values;
    strings as their UTF-8 bytes plus, separately, their lengths; dictionaries decoded), so
    feeding a column in one piece or in many gives the same digest. A resumed run and a clean
    run therefore agree, and `spx-seal --check` can recompute it row group by row group.
    """

    def __init__(self):
        self._values = [hashlib.sha256() for _ in NAMES]
        self._lengths = [hashlib.sha256() for _ in NAMES]

    def update(self, table):
        """Add the next rows: a pyarrow Table or RecordBatch with the pinned columns."""
        for index, name in enumerate(NAMES):
            column = table.column(name)
            for chunk in getattr(column, "chunks", [column]):
                self._update_column(index, chunk)

    def _update_column(self, index, array):
        import pyarrow as pa
        import pyarrow.compute as pc
        if len(array) == 0:
            return
        if pa.types.is_dictionary(array.type):
            array = array.dictionary_decode()
        buffers = array.buffers()
        if pa.types.is_string(array.type):
            offsets = pa.Array.from_buffers(pa.int32(), len(array) + 1, [None, buffers[1]], offset=array.offset)
            start, end = offsets[0].as_py(), offsets[-1].as_py()
            lengths = pc.subtract(offsets[1:], offsets[:-1])
            self._lengths[index].update(lengths.buffers()[1].slice(lengths.offset * 4, len(array) * 4))
            if end > start:
                self._values[index].update(buffers[2].slice(start, end - start))
        else:
            width = array.type.bit_width // 8
            self._values[index].update(buffers[1].slice(array.offset * width, len(array) * width))

    def hexdigest(self):
        total = hashlib.sha256()
        for name, values, lengths in zip(NAMES, self._values, self._lengths):
            total.update(name.encode() + b"\0" + values.digest() + lengths.digest())
        return total.hexdigest()
