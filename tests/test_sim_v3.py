"""spx-sim's v3 API over real HTTP: lists, greeks/first_order in csv, ndjson and json, filters, errors."""
import json

import pytest

from fixtures.sim import SimHandle, v3_csv_rows, v3_json_rows, v3_ndjson_rows

GREEKS = "/v3/option/history/greeks/first_order"
COLUMNS = ("symbol,expiration,strike,right,timestamp,bid,ask,delta,theta,vega,rho,epsilon,lambda,"
           "implied_vol,iv_error,underlying_timestamp,underlying_price")
PARSERS = {"csv": v3_csv_rows, "ndjson": v3_ndjson_rows, "json": v3_json_rows}


@pytest.fixture(scope="module")
def term(tmp_path_factory):
    handle = SimHandle(tmp_path_factory.mktemp("sim"), {}).start()
    yield handle
    handle.stop()


@pytest.fixture(scope="module")
def oracle_rows(term):
    return term.oracle("2024-01-02")


def of(rows, root, expiration, **where):
    return [r for r in rows if (r["root"], r["expiration"]) == (root, expiration)
            and all(r[k] == v for k, v in where.items())]


def greeks(term, symbol="SPXW", expiration="20240103", **params):
    params = {"date": "20240102", "interval": "1m", **params}
    return term.get(GREEKS, symbol=symbol, expiration=expiration, **params)


def parse(response, fmt):
    return PARSERS[fmt](response.content if fmt == "json" else response.text)


def assert_refused(response, status, name):
    assert response.status_code == status
    assert response.headers["Content-Type"].startswith("text/plain")
    assert response.text.startswith(f"{name}: ")


def test_status(term):
    assert term.get("/v3/terminal/mdds/status").text == "CONNECTED"
    assert term.get("/v3/terminal/fpss/status").text == "CONNECTED"


def test_csv_is_the_default_with_crlf_dollar_strikes_call_put_and_et_timestamps(term, oracle_rows):
    response = greeks(term, "SPX", "2024-01-19")
    assert response.headers["Content-Type"] == "text/csv"
    lines = response.text.split("\r\n")
    assert lines[0] == COLUMNS and lines[-1] == ""
    first = dict(zip(COLUMNS.split(","), lines[1].split(",")))
    assert first["strike"].endswith(".000") and first["right"] in ("CALL", "PUT")
    assert first["timestamp"] == "2024-01-02T09:30:00.000"
    assert first["underlying_timestamp"].startswith("2024-01-02T09:29:59.")
    assert v3_csv_rows(response.text) == of(oracle_rows, "SPX", "2024-01-19")


@pytest.mark.parametrize("fmt,content_type", [("ndjson", "application/x-ndjson"), ("json", "application/json")])
def test_ndjson_and_json_are_the_oracle_value_for_value(term, oracle_rows, fmt, content_type):
    response = greeks(term, "SPXW", "20240102", format=fmt)
    assert response.headers["Content-Type"] == content_type
    assert parse(response, fmt) == of(oracle_rows, "SPXW", "2024-01-02")
    if fmt == "ndjson":
        record = json.loads(response.text.splitlines()[0])
        assert list(record) == COLUMNS.split(",") and record["right"] in ("CALL", "PUT")
    else:
        item = response.json()["response"][0]
        assert set(item) == {"contract", "data"}
        assert set(item["contract"]) == {"symbol", "strike", "right", "expiration"}


@pytest.mark.parametrize("fmt", ["csv", "ndjson"])
def test_strike_right_time_window_and_interval_filters(term, oracle_rows, fmt):
    rows = of(oracle_rows, "SPXW", "2024-01-03")
    one = parse(greeks(term, strike="4770", right="put", format=fmt), fmt)
    assert one == [r for r in rows if (r["strike"], r["right"]) == (4770.0, "P")]
    same = parse(greeks(term, strike="4770.000", right="put", format=fmt), fmt)
    assert same == one

    window = parse(greeks(term, start_time="10:00:00", end_time="10:10:00", format=fmt), fmt)
    assert window == [r for r in rows if 36_000_000 <= r["ms_of_day"] <= 36_600_000]

    five = parse(greeks(term, interval="5m", format=fmt), fmt)
    assert five == [r for r in rows if (r["ms_of_day"] - 34_200_000) % 300_000 == 0]


def test_strike_range_keeps_strikes_around_the_money(term, oracle_rows):
    rows = of(oracle_rows, "SPXW", "2024-01-03")
    ladder = sorted({r["strike"] for r in rows})
    spot = rows[0]["underlying_price"]               # at 09:30, the day's reference level
    atm = min(range(len(ladder)), key=lambda i: abs(ladder[i] - spot))
    only = v3_csv_rows(greeks(term, strike_range="0").text)
    assert {r["strike"] for r in only} == {ladder[atm]}
    wider = v3_csv_rows(greeks(term, strike_range="1").text)
    assert wider == [r for r in rows if r["strike"] in ladder[atm - 1:atm + 2]]


def test_list_contracts_expirations_strikes_and_dates(term, oracle_rows):
    text = term.get("/v3/option/list/contracts/quote", date="20240102", symbol="SPXW,SPX").text
    lines = text.split("\r\n")
    assert lines[0] == "symbol,expiration,strike,right"
    listed = {tuple(line.split(",")) for line in lines[1:] if line}
    served = {(r["root"], r["expiration"], f"{r['strike']:.3f}", {"C": "CALL", "P": "PUT"}[r["right"]])
              for r in oracle_rows}
    assert listed == served

    near = term.get("/v3/option/list/contracts/quote", date="2024-01-02", symbol="SPXW", max_dte="1",
                    format="ndjson").text
    assert {json.loads(line)["expiration"] for line in near.splitlines()} == {"2024-01-02", "2024-01-03"}

    expirations = term.get("/v3/option/list/expirations", symbol="SPX", format="json").json()["response"]
    assert {"symbol": "SPX", "expiration": "2024-01-19"} in expirations

    strikes = term.get("/v3/option/list/strikes", symbol="SPX", expiration="20240119", format="ndjson").text
    assert all(isinstance(json.loads(line)["strike"], float) for line in strikes.splitlines())

    dates = term.get("/v3/option/list/dates/quote", symbol="SPX", expiration="20240119").text.split("\r\n")
    assert dates[0] == "date" and "2024-01-02" in dates and "2024-01-19" not in dates
    every_day = term.get("/v3/option/list/dates/quote", symbol="SPXW", format="ndjson").text.splitlines()
    assert json.loads(every_day[0]) == {"date": "2017-01-03"} and len(every_day) > len(dates)


@pytest.mark.parametrize("params", [
    {"date": "20240106"},                              # a Saturday
    {"expiration": "20240105"},                        # not listed in the tiny preset
    {"strike": "4771"},                                # not a listed strike
    {"start_time": "17:00:00", "end_time": "18:00:00"},
])
def test_no_data_is_472(term, params):
    assert_refused(greeks(term, **params), 472, "NO_DATA")


@pytest.mark.parametrize("params", [
    {"expiration": "*"}, {"interval": "2m"}, {"interval": "tick"}, {"format": "xml"}, {"format": "html"},
    {"date": "2024-02-30"}, {"right": "both_ways"}, {"strike": "abc"}, {"start_time": "9:75:00"},
    {"strike_range": "-1"},
])
def test_bad_parameters_are_473(term, params):
    assert_refused(greeks(term, **params), 473, "INVALID_PARAMS")


def test_missing_parameters_are_473(term):
    assert_refused(term.get(GREEKS, expiration="20240103", date="20240102"), 473, "INVALID_PARAMS")
    assert_refused(term.get(GREEKS, symbol="SPXW", date="20240102"), 473, "INVALID_PARAMS")
    assert_refused(term.get(GREEKS, symbol="SPXW", expiration="20240103"), 473, "INVALID_PARAMS")
    assert_refused(term.get("/v3/option/list/contracts/quote"), 473, "INVALID_PARAMS")


def test_unknown_v3_path_is_404(term):
    assert_refused(term.get("/v3/option/history/greeks/fifth_order"), 404, "NO_IMPL")


def test_v3_only_terminal_answers_410_on_every_v2_path(sim_factory):
    term = sim_factory(v3_only=True)
    for path in ("/v2/system/mdds/status", "/v2/list/contracts/option/quote", "/v2/bulk_hist/option/greeks",
                 "/v2/whatever"):
        assert_refused(term.get(path, start_date="20240102"), 410, "GONE")
    assert term.get("/v3/terminal/mdds/status").text == "CONNECTED"
    assert greeks(term).status_code == 200
