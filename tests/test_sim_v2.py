"""spx-sim's v2 API over real HTTP: list endpoints, bulk greeks in JSON and CSV, pagination, errors."""
import datetime as dt
import time

import pytest

from fixtures.sim import SimHandle, v2_csv_rows, v2_json_rows
from spx_data.sim import dataset

DAY = "20240102"
FORMAT = ["ms_of_day", "bid", "ask", "delta", "theta", "vega", "rho", "epsilon", "lambda", "implied_vol",
          "iv_error", "ms_of_day2", "underlying_price", "date"]
GREEKS = "/v2/bulk_hist/option/greeks"


@pytest.fixture(scope="module")
def term(tmp_path_factory):
    """One tiny-preset terminal shared by the read-only tests of this module."""
    handle = SimHandle(tmp_path_factory.mktemp("sim"), {}).start()
    yield handle
    handle.stop()


@pytest.fixture(scope="module")
def oracle_rows(term):
    return term.oracle("2024-01-02")


def of(rows, root, expiration):
    return [r for r in rows if (r["root"], r["expiration"]) == (root, expiration)]


def greeks(term, root="SPXW", exp="20240103", day=DAY, **params):
    return term.get(GREEKS, root=root, exp=exp, start_date=day, end_date=day, ivl=60000, **params)


def assert_refused(response, status, name):
    assert response.status_code == status
    assert response.headers["Content-Type"].startswith("text/plain")
    assert response.text.startswith(f"{name}: ") and "\n" not in response.text.strip()


def test_status_is_plain_connected(term):
    for path in ("/v2/system/mdds/status", "/v2/system/fpss/status"):
        response = term.get(path)
        assert (response.status_code, response.text) == (200, "CONNECTED")


def test_list_contracts_lists_every_quoted_contract_of_the_day(term, oracle_rows):
    response = term.get("/v2/list/contracts/option/quote", start_date=DAY, root="SPXW,SPX")
    document = response.json()
    assert document["header"]["format"] == ["root", "expiration", "strike", "right"]
    assert document["header"]["error_type"] == document["header"]["next_page"] == "null"
    served = {(r["root"], r["expiration"], round(r["strike"] * 1000), r["right"]) for r in oracle_rows}
    listed = {(root, f"{e // 10000}-{e // 100 % 100:02d}-{e % 100:02d}", strike, right)
              for root, e, strike, right in document["response"]}
    assert listed == served
    assert all(isinstance(row[1], int) and isinstance(row[2], int) for row in document["response"])


def test_list_contracts_csv_and_one_root(term):
    text = term.get("/v2/list/contracts/option/quote", start_date=DAY, root="SPX", use_csv="true").text
    lines = text.splitlines()
    assert lines[0] == "root,expiration,strike,right"
    assert lines[1:] and all(line.startswith("SPX,2024") for line in lines[1:])
    assert {line.split(",")[3] for line in lines[1:]} == {"C", "P"}


def test_list_expirations_strikes_and_dates(term):
    expirations = term.get("/v2/list/expirations", root="SPXW").json()
    assert expirations["header"]["format"] == ["date"]
    assert {20240102, 20240103, 20240104} <= set(expirations["response"])
    assert expirations["response"] == sorted(expirations["response"])

    strikes = term.get("/v2/list/strikes", root="SPX", exp="20240119").json()["response"]
    assert strikes == dataset.Dataset(7, "tiny").strikes("SPX", dt.date(2024, 1, 19), dt.date(2024, 1, 18))

    dates = term.get("/v2/list/dates/option/quote", root="SPX", exp="20240119").json()["response"]
    assert dates[-1] == 20240118                    # an SPX monthly is not quoted on its expiry day
    assert 20240102 in dates and 20240106 not in dates
    csv_dates = term.get("/v2/list/dates/option/quote", root="SPX", exp="20240119", use_csv="true").text
    assert csv_dates.splitlines() == ["date"] + [str(d) for d in dates]

    chain_dates = term.get("/v2/list/dates/option/quote", root="SPXW").json()["response"]
    assert chain_dates[0] == 20170103 and set(dates) <= set(chain_dates) and 20240106 not in chain_dates
    csv_expirations = term.get("/v2/list/expirations", root="SPXW", use_csv="true").text.splitlines()
    assert csv_expirations == ["date"] + [str(e) for e in expirations["response"]]


def test_list_roots(term):
    assert term.get("/v2/list/roots/option").json()["response"] == ["SPX", "SPXW"]


@pytest.mark.parametrize("root,exp", [("SPXW", "20240102"), ("SPXW", "20240103"), ("SPX", "20240119")])
def test_bulk_greeks_json_is_the_oracle_value_for_value(term, oracle_rows, root, exp):
    response = greeks(term, root, exp)
    assert response.headers["Content-Type"] == "application/json"
    document = response.json()
    header = document["header"]
    assert header["format"] == FORMAT
    assert (header["error_type"], header["error_msg"], header["next_page"]) == ("null", "null", "null")
    contracts = [item["contract"] for item in document["response"]]
    assert all(isinstance(c["strike"], int) and c["expiration"] == int(exp) and c["right"] in "CP"
               for c in contracts)
    assert all(tick[13] == 20240102 for item in document["response"] for tick in item["ticks"])
    expected = of(oracle_rows, root, f"{exp[:4]}-{exp[4:6]}-{exp[6:]}")
    assert expected and v2_json_rows(response.content) == expected


def test_bulk_greeks_csv_is_the_oracle_value_for_value(term, oracle_rows):
    response = greeks(term, "SPXW", "20240103", use_csv="true")
    assert response.headers["Content-Type"] == "text/csv"
    assert response.headers["Next-Page"] == "null"
    assert response.text.splitlines()[0] == "root,expiration,strike,right," + ",".join(FORMAT)
    assert v2_csv_rows(response.text) == of(oracle_rows, "SPXW", "2024-01-03")


def test_interval_time_window_and_extended_hours(term, oracle_rows):
    minute = v2_json_rows(greeks(term).content)
    five = v2_json_rows(term.get(GREEKS, root="SPXW", exp="20240103", start_date=DAY, end_date=DAY,
                                 ivl=300000).content)
    assert five == [r for r in minute if (r["ms_of_day"] - 34_200_000) % 300_000 == 0]

    window = v2_json_rows(greeks(term, start_time="36000000", end_time="36600000").content)
    assert {r["ms_of_day"] for r in window} == set(range(36_000_000, 36_600_001, 60_000))
    assert window == [r for r in minute if 36_000_000 <= r["ms_of_day"] <= 36_600_000]

    extended = v2_json_rows(greeks(term, rth="false").content)
    assert len(extended) == len(minute) * 1440 // 390
    assert min(r["ms_of_day"] for r in extended) == 0


def test_single_contract_greeks_json_and_csv(term, oracle_rows):
    params = {"root": "SPXW", "exp": "20240103", "strike": 4770000, "right": "P", "start_date": DAY,
              "end_date": DAY, "ivl": 60000}
    expected = [r for r in of(oracle_rows, "SPXW", "2024-01-03") if (r["strike"], r["right"]) == (4770.0, "P")]
    document = term.get("/v2/hist/option/greeks", **params).json()
    assert document["header"]["format"] == FORMAT
    values = [[r[k] for k in FORMAT[:-1]] + [20240102] for r in expected]
    assert document["response"] == values
    lines = term.get("/v2/hist/option/greeks", **params, use_csv="true").text.splitlines()
    assert lines[0] == ",".join(FORMAT)
    assert [[float(v) for v in line.split(",")] for line in lines[1:]] == values
    assert_refused(term.get("/v2/hist/option/greeks", **{**params, "strike": "4770.5"}), 473, "INVALID_PARAMS")


@pytest.mark.parametrize("params,why", [
    ({"day": "20240106"}, "a Saturday"),
    ({"day": "20240101"}, "New Year's Day"),
    ({"exp": "20240105"}, "an expiration the tiny preset does not list"),
    ({"root": "SPX", "exp": "20240119", "day": "20240119"}, "an SPX monthly on its own expiry day"),
    ({"day": "20161230", "exp": "20170103"}, "before the data starts"),
    ({"day": "20991231", "exp": "20991231"}, "the future"),
    ({"root": "AAPL"}, "an unknown root"),
])
def test_no_data_is_472(term, params, why):
    assert_refused(greeks(term, **params), 472, "NO_DATA")


@pytest.mark.parametrize("params", [
    {"root": "SPXW", "start_date": DAY, "end_date": DAY, "ivl": 60000},                 # no exp
    {"exp": "20240103", "start_date": DAY, "end_date": DAY, "ivl": 60000},              # no root
    {"root": "SPXW", "exp": "20240103", "end_date": DAY, "ivl": 60000},                 # no start_date
    {"root": "SPXW", "exp": "20240230", "start_date": DAY, "end_date": DAY, "ivl": 60000},
    {"root": "SPXW", "exp": "2024-01-03", "start_date": DAY, "end_date": DAY, "ivl": 60000},
    {"root": "SPXW", "exp": "20240103", "start_date": DAY, "end_date": "20240101", "ivl": 60000},
    {"root": "SPXW", "exp": "20240103", "start_date": DAY, "end_date": DAY, "ivl": "1m"},
    {"root": "SPXW", "exp": "20240103", "start_date": DAY, "end_date": DAY},            # tick level
    {"root": "SPXW", "exp": "20240103", "start_date": DAY, "end_date": DAY, "ivl": 60000, "rth": "yes"},
    {"root": "SPXW", "exp": "20240103", "start_date": DAY, "end_date": DAY, "ivl": 60000, "use_csv": "1"},
])
def test_bad_parameters_are_473(term, params):
    assert_refused(term.get(GREEKS, **params), 473, "INVALID_PARAMS")


def test_list_errors(term):
    assert_refused(term.get("/v2/list/contracts/option/quote", start_date="20240106"), 472, "NO_DATA")
    assert_refused(term.get("/v2/list/contracts/option/quote"), 473, "INVALID_PARAMS")
    assert_refused(term.get("/v2/list/contracts/option/quote", start_date="2024-01-02"), 473, "INVALID_PARAMS")
    assert_refused(term.get("/v2/list/expirations"), 473, "INVALID_PARAMS")
    assert_refused(term.get("/v2/list/strikes", root="SPXW", exp="20240106"), 472, "NO_DATA")


def test_unknown_paths_are_404(term):
    for path in ("/v2/bulk_hist/option/nope", "/v2", "/v4/anything", "/"):
        assert_refused(term.get(path), 404, "NO_IMPL")
    assert_refused(term.session.post(term.base_url + "/v2/list/roots/option"), 404, "NO_IMPL")


def follow_json(term, first):
    """(rows, page ids, tick counts per page) of a paginated JSON response."""
    rows, ids, sizes = [], [], []
    response = first
    while True:
        document = response.json()
        rows += v2_json_rows(response.content)
        sizes.append(sum(len(item["ticks"]) for item in document["response"]))
        next_page = document["header"]["next_page"]
        if next_page == "null":
            return rows, ids, sizes
        assert next_page.startswith(term.base_url + "/v2/page/")
        ids.append(int(next_page.rsplit("/", 1)[1]))
        response = term.session.get(next_page, timeout=30)
        assert response.status_code == 200


def test_pagination_json_end_to_end(sim_factory):
    term = sim_factory(tick_limit=1000)
    rows, ids, sizes = follow_json(term, greeks(term))
    assert rows == of(term.oracle("2024-01-02"), "SPXW", "2024-01-03")
    assert len(sizes) == -(-len(rows) // 1000) and max(sizes) == 1000
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    # ids are global: a second paginated response continues after the first one's
    _, more_ids, _ = follow_json(term, greeks(term, "SPX", "20240119"))
    assert min(more_ids) > max(ids)
    assert term.stats()["requests"]["/v2/page/{id}"] == {"200": len(ids) + len(more_ids)}


def test_pagination_csv_end_to_end(sim_factory):
    term = sim_factory(tick_limit=700)
    response, rows, pages = greeks(term, use_csv="true"), [], 0
    while True:
        pages += 1
        page_rows = v2_csv_rows(response.text)
        assert 0 < len(page_rows) <= 700
        rows += page_rows
        if response.headers["Next-Page"] == "null":
            break
        response = term.session.get(response.headers["Next-Page"], timeout=30)
    assert rows == of(term.oracle("2024-01-02"), "SPXW", "2024-01-03")
    assert pages == -(-len(rows) // 700)


def test_a_live_page_can_be_fetched_again_and_unknown_pages_are_477(sim_factory):
    term = sim_factory(tick_limit=1000)
    next_page = greeks(term).json()["header"]["next_page"]
    first, again = term.session.get(next_page), term.session.get(next_page)
    assert first.status_code == again.status_code == 200
    assert v2_json_rows(first.content) == v2_json_rows(again.content)
    assert_refused(term.get("/v2/page/999999"), 477, "NO_PAGE_FOUND")
    assert_refused(term.get("/v2/page/abc"), 477, "NO_PAGE_FOUND")


def test_an_expired_page_is_477(sim_factory):
    term = sim_factory(tick_limit=1000, page_expire_ms=50)
    next_page = greeks(term).json()["header"]["next_page"]
    time.sleep(0.3)
    assert_refused(term.session.get(next_page), 477, "NO_PAGE_FOUND")
