"""The Theta Terminal v2 endpoints (legacy JSON by default, CSV with use_csv=true).

Each endpoint is f(terminal, query, host) -> Reply and raises HttpError for 472/473/477.
"""
from functools import partial

from . import chain, market, render_v2, select
from .params import boolean, milliseconds, required, roots, yyyymmdd
from .replies import HttpError, Reply, invalid, no_data

FORMAT = render_v2.FORMAT
PAGE_PREFIX = "/v2/page/"


def _list_reply(query, format_, rows):
    if boolean(query, "use_csv", False):
        return Reply(200, render_v2.list_csv(format_, rows), render_v2.CSV_TYPE)
    return Reply(200, render_v2.list_json(format_, rows), render_v2.JSON_TYPE)


def _root(query):
    root = required(query, "root", "SPXW").upper()
    if root not in chain.ROOTS:
        raise no_data(f"No data for root {root}; this terminal quotes {', '.join(chain.ROOTS)}.")
    return root


def list_roots(term, query, host):
    return _list_reply(query, ["root"], sorted(chain.ROOTS))


def list_expirations(term, query, host):
    root = _root(query)
    return _list_reply(query, ["date"], [render_v2.yyyymmdd(e) for e in term.dataset.all_expirations(root)])


def list_strikes(term, query, host):
    root = _root(query)
    expiration = yyyymmdd(required(query, "exp", "20240105"), "exp")
    days = term.dataset.quote_dates(root, expiration)
    if not days:
        raise no_data()
    return _list_reply(query, ["strike"], term.dataset.strikes(root, expiration, days[-1]))


def list_dates(term, query, host):
    root = _root(query)
    expiration = query.get("exp", "").strip()
    expiration = yyyymmdd(expiration, "exp") if expiration and expiration != "0" else None
    days = term.dataset.quote_dates(root, expiration)
    if not days:
        raise no_data()
    return _list_reply(query, ["date"], [render_v2.yyyymmdd(d) for d in days])


def list_contracts(term, query, host):
    day = yyyymmdd(required(query, "start_date", "20240102"), "start_date")
    rows = [[root, render_v2.yyyymmdd(expiration), strike, right]
            for root in roots(query, "root", chain.ROOTS)
            for expiration, strike, right in term.dataset.contracts(root, day)]
    if not rows:
        raise no_data()
    return _list_reply(query, render_v2.CONTRACT_FORMAT, rows)


def _greeks_request(term, query):
    """(block, table) of a greeks request: one root, expiration and day, its time window."""
    root = required(query, "root", "SPXW").upper()
    expiration = yyyymmdd(required(query, "exp", "20240105"), "exp")
    start = yyyymmdd(required(query, "start_date", "20240102"), "start_date")
    end = yyyymmdd(required(query, "end_date", "20240102"), "end_date")
    if end < start:
        raise invalid(f"end_date {end:%Y%m%d} is before start_date {start:%Y%m%d}")
    if end != start:
        raise invalid("the simulator serves one day per request: set end_date equal to start_date")
    interval = milliseconds(query, "ivl", 0)
    if interval == 0:
        raise invalid("ivl=0 (tick data) is not simulated; pass an interval such as ivl=60000")
    if boolean(query, "pretty_time", False):
        raise invalid("pretty_time=true is not simulated; leave it out")
    block = term.block(root, start, expiration, interval, boolean(query, "rth", True))
    table = select.between(block.table, milliseconds(query, "start_time", 0),
                           milliseconds(query, "end_time", market.DAY_MS))
    if table.num_rows == 0:
        raise no_data()
    return block, table


def bulk_greeks(term, query, host):
    block, table = _greeks_request(term, query)
    return _ticks(term, block, table, boolean(query, "use_csv", False), host)


def contract_greeks(term, query, host):
    """/v2/hist/option/greeks: one contract; response is a flat list of tick arrays."""
    block, table = _greeks_request(term, query)
    strike = required(query, "strike", "4700000")
    if not strike.isdigit():
        raise invalid(f"invalid strike {strike!r}: expected tenths of a cent, e.g. 4700000 for $4,700")
    strike = int(strike)
    right = query.get("right", "C").strip().upper()
    if right not in ("C", "P"):
        raise invalid(f"invalid right {right!r}: expected C or P")
    table = select.contracts(table, block, lambda k, r: (k, r) == (strike, right))
    term.check_size(table.num_rows)
    if boolean(query, "use_csv", False):
        return Reply(200, render_v2.rows_csv(block, table), render_v2.CSV_TYPE)
    return Reply(200, render_v2.document(render_v2.header(FORMAT), [render_v2.rows_json(block, table)]),
                 render_v2.JSON_TYPE)


def _ticks(term, block, table, use_csv, host, start=0):
    """One page of a bulk greeks response from row START; registers the next page if any."""
    rows = table.num_rows
    if start == 0:
        term.check_size(rows)
    limit = term.settings.tick_limit
    end = min(rows, start + limit) if limit else rows
    next_page = "null"
    if end < rows:
        page_id = term.pages.add(partial(_ticks, term, block, table, use_csv, host, end))
        next_page = f"http://{host}{PAGE_PREFIX}{page_id}"
    page = table if (start, end) == (0, rows) else table.slice(start, end - start)
    # a whole expiration is what clients ask for again (retries, re-runs): keep its bytes
    key = (*block.key, "v2", use_csv) if page is block.table else None
    if use_csv:
        parts = term.body(key, lambda: render_v2.ticks_csv(block, page))
        return Reply(200, parts, render_v2.CSV_TYPE, {"Next-Page": next_page})
    inner = term.body(key, lambda: [render_v2.ticks_json(block, page)])
    head = render_v2.header(FORMAT, next_page, latency_ms=term.faults.latency_ms + page.num_rows // 10_000)
    return Reply(200, render_v2.document(head, inner), render_v2.JSON_TYPE)


def page(term, query, host, page_id):
    render = term.pages.get(int(page_id)) if page_id.isdigit() else None
    if render is None:
        raise HttpError(477, f"page {page_id} does not exist or has expired; fetch pages as soon as they are offered")
    return render()


_ROUTES = {
    "/v2/list/roots/option": list_roots,
    "/v2/list/expirations": list_expirations,
    "/v2/list/strikes": list_strikes,
    "/v2/list/dates/option/quote": list_dates,
    "/v2/list/dates/option/trade": list_dates,
    "/v2/list/contracts/option/quote": list_contracts,
    "/v2/list/contracts/option/trade": list_contracts,
    "/v2/bulk_hist/option/greeks": bulk_greeks,
    "/v2/hist/option/greeks": contract_greeks,
}
GREEKS_PATHS = {"/v2/bulk_hist/option/greeks", "/v2/hist/option/greeks"}
STATUS_PATHS = {"/v2/system/mdds/status", "/v2/system/fpss/status"}


def route(path):
    """The endpoint for PATH, or None."""
    if path.startswith(PAGE_PREFIX):
        return partial(page, page_id=path[len(PAGE_PREFIX):])
    return _ROUTES.get(path)
