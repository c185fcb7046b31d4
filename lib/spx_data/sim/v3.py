"""The Theta Terminal v3 endpoints (format=csv by default, ndjson, json).

Each endpoint is f(terminal, query, host) -> Reply and raises HttpError for 472/473.
"""
from . import chain, market, render_v3, select
from .params import clock, required, roots, v3_date, v3_interval
from .render_v3 import Number, strike_text
from .replies import Reply, invalid, no_data

NO_DATA = "No data found for your request"
_RIGHTS = {"call": ("C",), "put": ("P",), "both": ("C", "P")}


def _format(query):
    fmt = query.get("format", "csv").strip().lower() or "csv"
    if fmt == "html":
        raise invalid("format=html is not simulated; use csv, ndjson or json")
    if fmt not in render_v3.CONTENT_TYPES:
        raise invalid(f"invalid format {fmt!r}: expected csv, ndjson or json")
    return fmt


def _listing(query, columns, rows):
    if not rows:
        raise no_data(NO_DATA)
    fmt = _format(query)
    return Reply(200, render_v3.listing(columns, rows, fmt), render_v3.CONTENT_TYPES[fmt])


def _symbols(query):
    return [s for s in roots(query, "symbol", chain.ROOTS) if s in chain.ROOTS]


def list_expirations(term, query, host):
    required(query, "symbol", "SPXW")
    rows = [{"symbol": root, "expiration": e.isoformat()}
            for root in _symbols(query) for e in term.dataset.all_expirations(root)]
    return _listing(query, ["symbol", "expiration"], rows)


def list_strikes(term, query, host):
    root = required(query, "symbol", "SPXW").upper()
    expiration = v3_date(required(query, "expiration", "20240105"), "expiration")
    days = term.dataset.quote_dates(root, expiration)
    rows = [{"symbol": root, "strike": Number(strike_text(k))}
            for k in (term.dataset.strikes(root, expiration, days[-1]) if days else [])]
    return _listing(query, ["symbol", "strike"], rows)


def list_dates(term, query, host):
    root = required(query, "symbol", "SPXW").upper()
    expiration = query.get("expiration", "*").strip()
    expiration = None if expiration in ("", "*") else v3_date(expiration, "expiration")
    rows = [{"date": d.isoformat()} for d in term.dataset.quote_dates(root, expiration)]
    return _listing(query, ["date"], rows)


def list_contracts(term, query, host):
    day = v3_date(required(query, "date", "20240102"), "date")
    max_dte = query.get("max_dte", "").strip()
    if max_dte and not max_dte.isdigit():
        raise invalid(f"invalid max_dte {max_dte!r}: expected a whole number of days")
    rows = [{"symbol": root, "expiration": expiration.isoformat(), "strike": Number(strike_text(strike)),
             "right": render_v3.RIGHTS[right]}
            for root in _symbols(query)
            for expiration, strike, right in term.dataset.contracts(root, day)
            if not max_dte or (expiration - day).days <= int(max_dte)]
    return _listing(query, ["symbol", "expiration", "strike", "right"], rows)


def _strike(query):
    """Tenths of a cent of the strike parameter, or None for '*'."""
    value = query.get("strike", "*").strip()
    if value in ("", "*"):
        return None
    try:
        return round(float(value) * 1000)
    except ValueError:
        raise invalid(f"invalid strike {value!r}: expected dollars such as 4700 or 4700.000, or *") from None


def _strike_range(query):
    value = query.get("strike_range", "").strip()
    if value and not value.isdigit():
        raise invalid(f"invalid strike_range {value!r}: expected a whole number of strikes")
    return int(value) if value else None


def _near_the_money(block, spot, count):
    """Strikes within COUNT listed strikes of the one closest to SPOT."""
    ladder = sorted({strike for strike, _ in block.contracts})
    atm = min(range(len(ladder)), key=lambda i: abs(ladder[i] / 1000 - spot))
    return set(ladder[max(0, atm - count):atm + count + 1])


def greeks_first_order(term, query, host):
    root = required(query, "symbol", "SPXW").upper()
    expiration = required(query, "expiration", "20240105")
    if expiration == "*":
        raise invalid("expiration=* is not supported for greeks history; request one expiration at a time")
    expiration = v3_date(expiration, "expiration")
    if query.get("date", "").strip():
        day = v3_date(query["date"].strip(), "date")
    else:
        day = v3_date(required(query, "start_date", "20240102"), "start_date")
        if v3_date(required(query, "end_date", "20240102"), "end_date") != day:
            raise invalid("the simulator serves one day per request: pass date=YYYYMMDD")
    right = query.get("right", "both").strip().lower() or "both"
    if right not in _RIGHTS:
        raise invalid(f"invalid right {right!r}: expected call, put or both")
    strike, strike_range = _strike(query), _strike_range(query)
    interval = v3_interval(query)
    start, end = clock(query, "start_time", "09:30:00"), clock(query, "end_time", "16:00:00")
    fmt = _format(query)

    block = term.block(root, day, expiration, interval, True, missing=NO_DATA)
    table = select.between(block.table, start, end)
    near = _near_the_money(block, market.spot_level(term.dataset.seed, day), strike_range) \
        if strike_range is not None else None
    table = select.contracts(table, block, lambda k, r: r in _RIGHTS[right] and (strike is None or k == strike)
                             and (near is None or k in near))
    if table.num_rows == 0:
        raise no_data(NO_DATA)
    term.check_size(table.num_rows)
    key = (*block.key, "v3", fmt) if table is block.table else None
    parts = term.body(key, lambda: render_v3.ticks(block, table, fmt))
    return Reply(200, parts, render_v3.CONTENT_TYPES[fmt])


_ROUTES = {
    "/v3/option/list/expirations": list_expirations,
    "/v3/option/list/strikes": list_strikes,
    "/v3/option/list/dates/quote": list_dates,
    "/v3/option/list/dates/trade": list_dates,
    "/v3/option/list/contracts/quote": list_contracts,
    "/v3/option/list/contracts/trade": list_contracts,
    "/v3/option/history/greeks/first_order": greeks_first_order,
}
GREEKS_PATHS = {"/v3/option/history/greeks/first_order"}
STATUS_PATHS = {"/v3/terminal/mdds/status", "/v3/terminal/fpss/status"}


def route(path):
    return _ROUTES.get(path)
