"""Theta Terminal v3: requests and parsers (API reference §9).

Greeks come from /v3/option/history/greeks/first_order, one (symbol, expiration, date) per
request, as CSV (default; header row, CRLF), NDJSON (one flat object per row) or JSON
({"response": [{"contract": {...}, "data": [{...}]}]}). Strikes are dollars ("4700.000"), rights
CALL/PUT, times "YYYY-MM-DDTHH:MM:SS.SSS" in New York time. A `Next-Page` header, if the
terminal sends one, is followed like v2's.
"""
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..errors import UsageError
from . import formats, rows
from .versions import STATUS_PATHS

VERSION = "v3"
STATUS_PATH = STATUS_PATHS[VERSION]
GREEKS_PATH = "/v3/option/history/greeks/first_order"
CONTRACTS_PATH = "/v3/option/list/contracts/quote"
STRIKES_PATH = "/v3/option/list/strikes"
INTERVALS = {10: "10ms", 100: "100ms", 500: "500ms", 1000: "1s", 5000: "5s", 10000: "10s", 15000: "15s",
             30000: "30s", 60000: "1m", 300000: "5m", 600000: "10m", 900000: "15m", 1800000: "30m",
             3600000: "1h"}
CONTRACT_FIELDS = [("symbol", pa.string()), ("expiration", pa.string()), ("strike", pa.float64()),
                   ("right", pa.string())]
DATA_FIELDS = [("timestamp", pa.timestamp("ms")), *[(name, pa.float64()) for name in rows.GREEKS],
               ("underlying_timestamp", pa.timestamp("ms")), ("underlying_price", pa.float64())]
_FLAT_SCHEMA = pa.schema(CONTRACT_FIELDS + DATA_FIELDS)
_CSV_TYPES = dict(zip(_FLAT_SCHEMA.names, _FLAT_SCHEMA.types))
_NESTED_SCHEMA = pa.schema([("response", pa.list_(pa.struct([("contract", pa.struct(CONTRACT_FIELDS)),
                                                              ("data", pa.list_(pa.struct(DATA_FIELDS)))])))])
_LIST_TYPES = {"symbol": pa.string(), "expiration": pa.date32(), "strike": pa.float64(), "right": pa.string()}
_RIGHTS = pa.array(["CALL", "PUT", "C", "P"])


def clock(ms):
    """34200000 -> "09:30:00.000" (v3 start_time/end_time)."""
    seconds, millis = divmod(int(ms), 1000)
    return f"{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}.{millis:03d}"


class V3Api:
    version = VERSION
    status_path = STATUS_PATH

    def __init__(self, response_format="csv", interval_ms=60000):
        if interval_ms not in INTERVALS:
            raise UsageError(f"interval {interval_ms} ms is not served by a v3 terminal: "
                             f"use one of {', '.join(map(str, INTERVALS))}")
        self.format = response_format
        self.interval = INTERVALS[interval_ms]
        self.interval_ms = interval_ms

    # -- lists (always CSV: small, and every terminal's default) -----------------------------
    def contracts_request(self, day, roots):
        return CONTRACTS_PATH, {"date": formats.yyyymmdd(day), "symbol": ",".join(roots), "format": "csv"}

    def parse_contracts(self, reply):
        table = formats.read_csv(reply, _LIST_TYPES)
        next_page = _next_page(reply)
        if table is None or table.num_rows == 0:
            return [], next_page
        formats.require_columns(table, ("symbol", "expiration"), reply)
        pairs = table.select(["symbol", "expiration"]).group_by(["symbol", "expiration"]).aggregate([])
        return sorted(zip(pairs.column("symbol").to_pylist(), pairs.column("expiration").to_pylist())), next_page

    def strikes_request(self, root, expiration):
        return STRIKES_PATH, {"symbol": root, "expiration": formats.yyyymmdd(expiration), "format": "csv"}

    def parse_strikes(self, reply):
        table = formats.read_csv(reply, _LIST_TYPES)
        if table is None or table.num_rows == 0:
            return [], _next_page(reply)
        formats.require_columns(table, ("strike",), reply)
        return [f"{strike:.3f}" for strike in sorted(set(table.column("strike").to_pylist()))], _next_page(reply)

    # -- greeks -----------------------------------------------------------------------------
    def greeks_request(self, day, root, expiration, window=None, contract=None):
        """One request: the chain of (ROOT, EXPIRATION) on DAY, or only WINDOW (first, last ms of
        day, both inclusive), or only the strike CONTRACT[0] (both rights)."""
        params = {"symbol": root, "expiration": formats.yyyymmdd(expiration), "date": formats.yyyymmdd(day),
                  "interval": self.interval, "format": self.format}
        if window is not None:
            params["start_time"], params["end_time"] = clock(window[0]), clock(window[1])
        if contract is not None:
            params["strike"] = contract[0]
        return GREEKS_PATH, params

    def contracts_of_strike(self, strike):
        return [(strike, "both")]

    def read_greeks(self, reply, day, root, expiration, contract, emit):
        """Hand the rows of one greeks reply to EMIT as TICK_SCHEMA tables (CSV and NDJSON a block
        at a time while the body arrives); returns the next page URL or None."""
        if self.format == "json":
            with formats.json_document(reply, _NESTED_SCHEMA) as document:
                self._emit_all([_flatten(document)], day, root, expiration, reply, emit)
        else:
            tables = formats.csv_tables(reply, _CSV_TYPES) if self.format == "csv" else \
                formats.ndjson_tables(reply, _FLAT_SCHEMA)
            self._emit_all(tables, day, root, expiration, reply, emit)
        return _next_page(reply)

    @staticmethod
    def _emit_all(tables, day, root, expiration, reply, emit):
        for table in tables:
            if table.num_rows:
                formats.require_columns(table, _FLAT_SCHEMA.names, reply)
                emit(_normalise(table, day, root, expiration, reply))

    def parse_greeks(self, reply, day, root, expiration, contract=None):
        """(TICK_SCHEMA table, next page URL or None) of one whole greeks reply."""
        return formats.collect(self.read_greeks, reply, day, root, expiration, contract)


def _next_page(reply):
    value = reply.headers.get("Next-Page")
    return None if value in (None, "", "null") else value


def _flatten(document):
    """The flat rows of the nested JSON shape: each contract's fields repeated over its data."""
    items = document.column("response").chunk(0).flatten()
    data = items.field("data")
    per_contract = pc.fill_null(pc.list_value_length(data), 0).to_numpy(zero_copy_only=False)
    owner = pa.array(np.repeat(np.arange(len(items)), per_contract))
    points = data.flatten()
    contract = items.field("contract")
    columns = {name: pc.take(contract.field(name), owner) for name, _ in CONTRACT_FIELDS}
    columns.update({name: points.field(name) for name, _ in DATA_FIELDS})
    return pa.table(columns)


def _normalise(table, day, root, expiration, reply):
    """Check that the rows are the ones asked for, and shape them as TICK_SCHEMA."""
    formats.require_all(pc.equal(table.column("symbol"), root), f"the terminal sent rows of another root than {root}",
                        reply)
    formats.require_all(pc.equal(table.column("expiration"), expiration.isoformat()),
                        f"the terminal sent rows of another expiration than {expiration}", reply)
    right = table.column("right")
    formats.require_all(pc.is_in(right, _RIGHTS), "a right that is not CALL or PUT", reply)
    columns = {"strike": table.column("strike"), "right": pc.utf8_slice_codeunits(right, 0, 1),
               "ms_of_day": formats.ms_of_day(table.column("timestamp"), day, reply)}
    columns.update({name: table.column(name) for name in rows.GREEKS})
    columns["ms_of_day2"] = formats.ms_of_day(table.column("underlying_timestamp"), day, reply, check_day=False)
    columns["underlying_price"] = table.column("underlying_price")
    return pa.table(columns).cast(rows.TICK_SCHEMA)
