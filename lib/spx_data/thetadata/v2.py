"""Theta Terminal v2: requests and parsers (API reference §2-§5).

Greeks come from /v2/bulk_hist/option/greeks, one (root, expiration, day) per request, as legacy
JSON ({"header": {..., "next_page", "format"}, "response": [{"ticks": [[14 numbers]...],
"contract": {...}}]}) or CSV (a header row `root,expiration,strike,right,<format>` and the next
page in the `Next-Page` HTTP header). Strikes are integers in tenths of a cent, dates YYYYMMDD.
The single-contract /v2/hist/option/greeks (for splitting a request by strike) answers the same
columns without the contract.
"""
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import ujson

from ..errors import ApiConnectionError, ApiResponseInvalidError, UsageError
from . import formats, rows
from .versions import STATUS_PATHS
from .errors import NAMES, error_for

VERSION = "v2"
STATUS_PATH = STATUS_PATHS[VERSION]
BULK_GREEKS_PATH = "/v2/bulk_hist/option/greeks"
CONTRACT_GREEKS_PATH = "/v2/hist/option/greeks"
CONTRACTS_PATH = "/v2/list/contracts/option/quote"
STRIKES_PATH = "/v2/list/strikes"
FORMAT = ("ms_of_day", "bid", "ask", "delta", "theta", "vega", "rho", "epsilon", "lambda", "implied_vol",
          "iv_error", "ms_of_day2", "underlying_price", "date")
CONTRACT_COLUMNS = ("root", "expiration", "strike", "right")
_INTEGERS = ("expiration", "strike", "ms_of_day", "ms_of_day2", "date")
_CSV_TYPES = {name: (pa.int64() if name in _INTEGERS else pa.string() if name in ("root", "right") else pa.float64())
              for name in CONTRACT_COLUMNS + FORMAT}
_CONTRACT_TYPE = pa.struct([("root", pa.string()), ("expiration", pa.int64()), ("strike", pa.int64()),
                            ("right", pa.string())])
_HEADER_TYPE = pa.struct([("next_page", pa.string()), ("format", pa.list_(pa.string())),
                          ("error_type", pa.string()), ("error_msg", pa.string())])
_TICKS = pa.list_(pa.list_(pa.float64()))
_BULK_SCHEMA = pa.schema([("header", _HEADER_TYPE),
                          ("response", pa.list_(pa.struct([("ticks", _TICKS), ("contract", _CONTRACT_TYPE)])))])
_FLAT_SCHEMA = pa.schema([("header", _HEADER_TYPE), ("response", _TICKS)])
_STATUS_BY_NAME = {name: status for status, name in NAMES.items()}


def strike_dollars(tenths_of_cent):
    """4700000 -> 4700.0 (exact: IEEE division is correctly rounded, like parsing "4700.000")."""
    return pc.divide(pc.cast(tenths_of_cent, pa.float64()), 1000.0)


class V2Api:
    version = VERSION
    status_path = STATUS_PATH

    def __init__(self, response_format="csv", interval_ms=60000):
        if response_format not in ("csv", "json"):
            raise UsageError(f"thetadata.responseFormat {response_format} is not served by a v2 terminal: "
                             "use csv or json (or a v3 terminal)")
        self.use_csv = response_format == "csv"
        self.interval_ms = interval_ms

    # -- lists ------------------------------------------------------------------------------
    def contracts_request(self, day, roots):
        return CONTRACTS_PATH, {"start_date": formats.yyyymmdd(day), "root": ",".join(roots)}

    def parse_contracts(self, reply):
        """([(root, expiration date)], next page URL or None) of a list/contracts reply."""
        document = _json_document(reply)
        names = list(document["header"].get("format") or CONTRACT_COLUMNS)
        try:
            root_at, exp_at = names.index("root"), names.index("expiration")
            pairs = {(row[root_at], formats.from_yyyymmdd(row[exp_at])) for row in document.get("response") or []}
        except (ValueError, TypeError, IndexError):
            raise ApiResponseInvalidError("unexpected list/contracts rows from the terminal",
                                          reply.status, reply.url) from None
        return sorted(pairs), _next_page_value(document["header"].get("next_page"))

    def strikes_request(self, root, expiration):
        return STRIKES_PATH, {"root": root, "exp": formats.yyyymmdd(expiration)}

    def parse_strikes(self, reply):
        """([strike as the request parameter], next page) of a list/strikes reply."""
        document = _json_document(reply)
        try:
            strikes = sorted({int(row[0] if isinstance(row, list) else row) for row in document.get("response") or []})
        except (TypeError, ValueError, IndexError):
            raise ApiResponseInvalidError("unexpected list/strikes rows from the terminal",
                                          reply.status, reply.url) from None
        return strikes, _next_page_value(document["header"].get("next_page"))

    # -- greeks -----------------------------------------------------------------------------
    def greeks_request(self, day, root, expiration, window=None, contract=None):
        """One request: the whole chain of (ROOT, EXPIRATION) on DAY, or only WINDOW (first, last ms
        of day, both inclusive), or only CONTRACT (strike parameter, right)."""
        params = {"root": root, "exp": formats.yyyymmdd(expiration), "start_date": formats.yyyymmdd(day),
                  "end_date": formats.yyyymmdd(day), "ivl": self.interval_ms, "rth": "true"}
        if window is not None:
            params["start_time"], params["end_time"] = str(window[0]), str(window[1])
        if self.use_csv:
            params["use_csv"] = "true"
        if contract is None:
            return BULK_GREEKS_PATH, params
        params["strike"], params["right"] = contract
        return CONTRACT_GREEKS_PATH, params

    def contracts_of_strike(self, strike):
        return [(strike, "C"), (strike, "P")]

    def read_greeks(self, reply, day, root, expiration, contract, emit):
        """Hand the rows of one greeks reply to EMIT as TICK_SCHEMA tables (CSV a block at a time
        while the body arrives); returns the next page URL or None."""
        if self.use_csv:
            for table in formats.csv_tables(reply, _CSV_TYPES):
                if table.num_rows:
                    formats.require_columns(table, FORMAT if contract else FORMAT + CONTRACT_COLUMNS, reply)
                    emit(_normalise(table, day, root, expiration, contract, reply))
            return _next_page_value(reply.headers.get("Next-Page"))
        with formats.json_document(reply, _FLAT_SCHEMA if contract else _BULK_SCHEMA) as document:
            header = document.column("header")[0].as_py() or {}
            _raise_header_error(header, reply)
            for table in _tick_tables(document, header.get("format") or FORMAT, contract is None, reply):
                emit(_normalise(table, day, root, expiration, contract, reply))
        return _next_page_value(header.get("next_page"))

    def parse_greeks(self, reply, day, root, expiration, contract=None):
        """(TICK_SCHEMA table, next page URL or None) of one whole greeks reply."""
        return formats.collect(self.read_greeks, reply, day, root, expiration, contract)


def _next_page_value(value):
    return None if value in (None, "", "null") else value


def _json_document(reply):
    try:
        document = ujson.loads(reply.body)
    except (ValueError, OverflowError):
        raise ApiConnectionError("the reply is not complete JSON", reply.status, reply.url) from None
    if not isinstance(document, dict) or not isinstance(document.get("header"), dict):
        raise ApiResponseInvalidError("a v2 reply without a header object", reply.status, reply.url)
    _raise_header_error(document["header"], reply)
    return document


def _raise_header_error(header, reply):
    # Older terminals report errors in the JSON header instead of (or as well as) the HTTP status.
    error_type = header.get("error_type")
    if error_type in (None, "null", ""):
        return
    status = _STATUS_BY_NAME.get(error_type, 470)
    raise error_for(status, reply.url, f"{error_type}: {header.get('error_msg')}".encode())


def _tick_tables(document, format_names, bulk, reply):
    """The flat tables of a legacy-JSON greeks document, rows.SLICE_ROWS rows at a time (a whole
    expiration's columns at once would double the memory the document takes): FORMAT columns,
    and the contract columns if BULK."""
    format_names = list(format_names)
    missing = [name for name in FORMAT if name not in format_names]
    if missing:
        raise ApiResponseInvalidError(f"the header format lacks {', '.join(missing)}", reply.status, reply.url)
    response = document.column("response").chunk(0)
    contracts = response.flatten() if bulk else None
    ticks = contracts.field("ticks") if bulk else response.flatten()
    tick_rows = ticks.flatten() if bulk else ticks
    width = len(format_names)
    formats.require_all(pc.equal(pc.list_value_length(tick_rows), width),
                        f"a tick that is not {width} values long", reply)
    matrix = tick_rows.flatten().to_numpy(zero_copy_only=False).reshape(-1, width)
    if bulk:
        per_contract = pc.fill_null(pc.list_value_length(ticks), 0).to_numpy(zero_copy_only=False)
        owner = np.repeat(np.arange(len(contracts), dtype=np.int32), per_contract)
        contract = contracts.field("contract")
    for start in range(0, len(matrix), rows.SLICE_ROWS):
        piece = matrix[start:start + rows.SLICE_ROWS]
        table = {name: pa.array(piece[:, format_names.index(name)], pa.int64() if name in _INTEGERS else pa.float64())
                 for name in FORMAT}
        if bulk:
            owners = pa.array(owner[start:start + rows.SLICE_ROWS])
            for name in CONTRACT_COLUMNS:
                table[name] = pc.take(contract.field(name), owners)
        yield pa.table(table)


def _normalise(table, day, root, expiration, contract, reply):
    """Check that the rows are the ones asked for, and shape them as TICK_SCHEMA."""
    formats.require_all(pc.equal(table.column("date"), formats.yyyymmdd(day)),
                        f"the terminal sent rows of another day than {day}", reply)
    if contract is None:
        formats.require_all(pc.equal(table.column("root"), root), f"the terminal sent rows of another root than {root}",
                            reply)
        formats.require_all(pc.equal(table.column("expiration"), formats.yyyymmdd(expiration)),
                            f"the terminal sent rows of another expiration than {expiration}", reply)
        strike, right = table.column("strike"), table.column("right")
    else:
        strike = pa.repeat(pa.scalar(contract[0], pa.int64()), table.num_rows)
        right = pa.repeat(pa.scalar(contract[1], pa.string()), table.num_rows)
    formats.require_all(pc.is_in(right, pa.array(["C", "P"])), "a right that is not C or P", reply)
    columns = {"strike": strike_dollars(strike), "right": right}
    for name in rows.TICK_SCHEMA.names[2:]:
        columns[name] = table.column(name)
    return pa.table(columns).cast(rows.TICK_SCHEMA)
