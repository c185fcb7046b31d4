"""The client's behaviour per terminal answer (DESIGN §6), at unit level with `responses`:
version detection, pages on one host, retries with events, 472, 570 splitting, fail-fast codes."""
import datetime as dt
import io
import re
import socket
from urllib.parse import parse_qs, urlsplit

import pytest
import responses
import ujson

from spx_data.errors import (ApiLargeRequestError, ApiRateLimitError, ApiRequestRejectedError,
                             ThetaTerminalNotRunningError)
from spx_data.thetadata.client import ThetaClient
from test_thetadata_parse import DAY, EXP, expected_rows, v2_csv, v2_json, v3_csv

BASE = "http://term.test:25510"
V3_STATUS = BASE + "/v3/terminal/mdds/status"
V2_STATUS = BASE + "/v2/system/mdds/status"
V2_GREEKS = BASE + "/v2/bulk_hist/option/greeks"
V3_GREEKS = BASE + "/v3/option/history/greeks/first_order"


def client(version="auto", fmt="csv", retries=3, **kwargs):
    events = []
    c = ThetaClient(BASE, version, fmt, max_retries=retries, retry_base_seconds=0.001,
                    on_retry=events.append, **kwargs)
    return c, events


def fetch(c):
    out = io.BytesIO()
    stats = c.fetch_expiration(DAY, "SPXW", EXP, out)
    return [ujson.loads(line) for line in out.getvalue().splitlines()], stats


def key(r):
    return r["strike"], r["right"], r["ms_of_day"]


def status(rsps, v3=(200, "CONNECTED"), v2=None):
    rsps.add(responses.GET, V3_STATUS, status=v3[0], body=v3[1])
    if v2:
        rsps.add(responses.GET, V2_STATUS, status=v2[0], body=v2[1])


# -- version detection ------------------------------------------------------------------------
@pytest.mark.parametrize("v3,v2,expected", [
    ((200, "CONNECTED"), None, "v3"),
    ((404, "NO_IMPL"), (200, "CONNECTED"), "v2"),
    ((404, "NO_IMPL"), (410, "GONE"), "v3"),
])
def test_auto_detection(v3, v2, expected):
    with responses.RequestsMock() as rsps:
        status(rsps, v3, v2)
        assert client()[0].version == expected


def test_forced_v2_on_a_v3_terminal_says_what_to_set():
    with responses.RequestsMock() as rsps:
        rsps.add(responses.GET, V2_STATUS, status=410, body="GONE")
        with pytest.raises(ApiRequestRejectedError, match="thetadata.apiVersion to v3 or auto"):
            client("v2")[0].api()


def test_a_terminal_that_is_not_running_is_reported_at_once():
    with socket.socket() as sock:  # a loopback port nobody listens on
        sock.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    events = []
    c = ThetaClient(url, max_retries=5, retry_base_seconds=0.001, on_retry=events.append)
    with pytest.raises(ThetaTerminalNotRunningError) as caught:
        c.api()
    assert str(caught.value) == f"is the Theta Terminal running at {url}? (start it, or `spx-sim` for the simulator)"
    assert caught.value.exit_code == 4 and events == []


def test_unverified_credentials_fail_fast():
    with responses.RequestsMock() as rsps:
        status(rsps, (200, "UNVERIFIED"))
        with pytest.raises(ApiRequestRejectedError, match="credentials"):
            client()[0].api()
        assert len(rsps.calls) == 1


def test_a_disconnected_terminal_is_waited_for():
    with responses.RequestsMock() as rsps:
        rsps.add(responses.GET, V3_STATUS, body="DISCONNECTED")
        rsps.add(responses.GET, V3_STATUS, status=571, body="SERVER_STARTING")
        rsps.add(responses.GET, V3_STATUS, body="CONNECTED")
        c, events = client()
        assert c.version == "v3"
    assert [e["retry_attempt"] for e in events] == [1, 2]
    assert [e["context_data"]["status"] for e in events] == [200, 571]
    assert all(e["error_type"] == "ApiConnection" for e in events)


# -- pages ------------------------------------------------------------------------------------
def test_v2_json_pages_are_followed_on_the_configured_host():
    records = expected_rows()
    with responses.RequestsMock() as rsps:
        status(rsps, (404, ""), (200, "CONNECTED"))
        rsps.add(responses.GET, V2_GREEKS, body=v2_json(records[:4], "http://127.0.0.1:25510/v2/page/11"))
        rsps.add(responses.GET, BASE + "/v2/page/11", body=v2_json(records[4:7], "http://127.0.0.1:25510/v2/page/12"))
        rsps.add(responses.GET, BASE + "/v2/page/12", body=v2_json(records[7:]))
        got, stats = fetch(client(fmt="json")[0])
        query = parse_qs(urlsplit(rsps.calls[2].request.url).query)
    assert sorted(got, key=key) == sorted(records, key=key)
    assert stats.rows == len(records) and stats.requests == 3 and len(stats.latency_ms) == 3
    assert query == {"root": ["SPXW"], "exp": ["20240105"], "start_date": ["20240102"], "end_date": ["20240102"],
                     "ivl": ["60000"], "rth": ["true"]}


def test_v2_csv_pages_come_from_the_next_page_header():
    records = expected_rows()
    with responses.RequestsMock() as rsps:
        status(rsps, (404, ""), (200, "CONNECTED"))
        rsps.add(responses.GET, V2_GREEKS, body=v2_csv(records[:5]),
                 headers={"Next-Page": "http://127.0.0.1:25510/v2/page/3"})
        rsps.add(responses.GET, BASE + "/v2/page/3", body=v2_csv(records[5:]), headers={"Next-Page": "null"})
        got, stats = fetch(client()[0])
    assert sorted(got, key=key) == sorted(records, key=key) and stats.requests == 2


def test_an_expired_page_restarts_the_expiration_and_keeps_rows_once():
    records = expected_rows()
    with responses.RequestsMock() as rsps:
        status(rsps)
        rsps.add(responses.GET, V3_GREEKS, body=v3_csv(records[:5]), headers={"Next-Page": BASE + "/v3/page/1"})
        rsps.add(responses.GET, BASE + "/v3/page/1", status=477, body="NO_PAGE_FOUND")
        rsps.add(responses.GET, V3_GREEKS, body=v3_csv(records[:5]), headers={"Next-Page": BASE + "/v3/page/2"})
        rsps.add(responses.GET, BASE + "/v3/page/2", body=v3_csv(records[5:]))
        c, events = client()
        got, _ = fetch(c)
    assert sorted(got, key=key) == sorted(records, key=key)
    assert [(e["error_type"], e["retry_attempt"]) for e in events] == [("ApiResponseInvalid", 1)]


def test_a_fault_on_a_later_page_retries_that_page_alone():
    records = expected_rows()
    rest = v2_csv(records[5:])
    with responses.RequestsMock() as rsps:
        status(rsps, (404, ""), (200, "CONNECTED"))
        rsps.add(responses.GET, V2_GREEKS, body=v2_csv(records[:5]), headers={"Next-Page": BASE + "/v2/page/3"})
        rsps.add(responses.GET, BASE + "/v2/page/3", status=429, body="OS_LIMIT")
        rsps.add(responses.GET, BASE + "/v2/page/3", body=rest[:-1])          # cut short mid-row
        rsps.add(responses.GET, BASE + "/v2/page/3", body=rest, headers={"Next-Page": "null"})
        c, events = client()
        got, stats = fetch(c)
        greeks_calls = [call for call in rsps.calls if call.request.url.startswith(V2_GREEKS)]
    assert sorted(got, key=key) == sorted(records, key=key)                 # page 1's rows once, none cut
    assert stats.rows == len(records) and stats.requests == 4 and len(greeks_calls) == 1
    assert [(e["retry_attempt"], e["context_data"]["page"]) for e in events] == [(1, 1), (2, 1)]


# -- retries ----------------------------------------------------------------------------------
@pytest.mark.parametrize("failure", [(429, "OS_LIMIT"), (474, "DISCONNECTED"), (571, "SERVER_STARTING"),
                                     (200, "truncated")])
def test_retryable_answers_are_retried_and_reported(failure):
    records = expected_rows()
    good = v3_csv(records)
    with responses.RequestsMock() as rsps:
        status(rsps)
        body = good[:-1] if failure[1] == "truncated" else failure[1]
        rsps.add(responses.GET, V3_GREEKS, status=failure[0], body=body)
        rsps.add(responses.GET, V3_GREEKS, status=failure[0], body=body)
        rsps.add(responses.GET, V3_GREEKS, body=good)
        c, events = client()
        got, stats = fetch(c)
    assert sorted(got, key=key) == sorted(records, key=key)
    assert stats.requests == 3
    assert [e["retry_attempt"] for e in events] == [1, 2]
    assert all(e["date"] == DAY.isoformat() and e["context_data"]["expiration"] == EXP.isoformat()
               and e["context_data"]["status"] == failure[0] and e["context_data"]["url"].startswith(V3_GREEKS)
               for e in events)


def test_retries_stop_at_max_retries():
    with responses.RequestsMock() as rsps:
        status(rsps)
        for _ in range(3):
            rsps.add(responses.GET, V3_GREEKS, status=429, body="OS_LIMIT")
        c, events = client(retries=2)
        with pytest.raises(ApiRateLimitError):
            fetch(c)
        assert len(rsps.calls) == 4
    assert len(events) == 2


def test_no_data_is_an_empty_expiration_not_an_error():
    with responses.RequestsMock() as rsps:
        status(rsps)
        rsps.add(responses.GET, V3_GREEKS, status=472, body="No data found for your request")
        c, events = client()
        got, stats = fetch(c)
    assert got == [] and stats.rows == 0 and stats.requests == 1 and events == []


@pytest.mark.parametrize("code,advice", [
    (471, "subscription does not include option greeks \\(Standard or Pro\\)"),
    (473, "parameters: " + re.escape(V3_GREEKS)),
    (476, "use one host name"),
    (478, "another terminal is running with the same credentials"),
    (404, "no such endpoint"),
])
def test_rejections_fail_fast_with_advice(code, advice):
    with responses.RequestsMock() as rsps:
        status(rsps)
        rsps.add(responses.GET, V3_GREEKS, status=code, body="nope")
        c, events = client()
        with pytest.raises(ApiRequestRejectedError, match=advice) as caught:
            fetch(c)
        assert len(rsps.calls) == 2 and events == []
    assert caught.value.exit_code == 4


# -- 570: split ------------------------------------------------------------------------------
def windowed_rows(strikes, first, last):
    """Rows of STRIKES (dollars) for every minute in [first, last] ms of day."""
    out = []
    for strike in strikes:
        for right in "CP":
            for ms in range(34_200_000, 57_600_000, 60_000):
                if first <= ms <= last:
                    out.append({"date": DAY.isoformat(), "root": "SPXW", "expiration": EXP.isoformat(),
                                "strike": strike, "right": right, "ms_of_day": ms, "bid": 1.0, "ask": 1.25,
                                "delta": 0.5, "theta": -0.25, "vega": 0.125, "rho": 0.0625, "epsilon": -0.5,
                                "lambda": 2.0, "implied_vol": 0.2, "iv_error": 0.0, "ms_of_day2": ms - 1,
                                "underlying_price": 4700.5})
    return out


def v3_terminal(max_rows, strikes=(4700.0, 4705.0)):
    """A v3 greeks callback that answers 570 above MAX_ROWS rows, like a terminal's size limit."""
    def ms(text):
        h, m, s = text.split(":")
        return (int(h) * 60 + int(m)) * 60_000 + round(float(s) * 1000)

    def answer(request):
        query = {k: v[0] for k, v in parse_qs(urlsplit(request.url).query).items()}
        first, last = ms(query.get("start_time", "09:30:00")), ms(query.get("end_time", "16:00:00"))
        chosen = [float(query["strike"])] if "strike" in query else strikes
        found = windowed_rows(chosen, first, last)
        if len(found) > max_rows:
            return 570, {}, "LARGE_REQUEST"
        return (200, {}, v3_csv(found)) if found else (472, {}, "No data")
    return answer


def test_570_splits_by_time_window_and_returns_every_row_once():
    with responses.RequestsMock() as rsps:
        status(rsps)
        rsps.add_callback(responses.GET, V3_GREEKS, callback=v3_terminal(max_rows=400))
        c, events = client()
        got, stats = fetch(c)
    assert sorted(got, key=key) == sorted(windowed_rows((4700.0, 4705.0), 0, 10 ** 8), key=key)
    assert len({key(r) for r in got}) == len(got) == 4 * 390
    splits = [e for e in events if e["error_type"] == "ApiLargeRequest"]
    assert splits and all(e["retry_attempt"] == 0 and "split into 2" in e["context_data"]["action"] for e in splits)


def test_570_on_one_interval_splits_by_strike():
    with responses.RequestsMock() as rsps:
        status(rsps)
        rsps.add_callback(responses.GET, V3_GREEKS, callback=v3_terminal(max_rows=2))
        rsps.add(responses.GET, BASE + "/v3/option/list/strikes",
                 body=b"symbol,strike\r\nSPXW,4705.000\r\nSPXW,4700.000\r\n")
        c, _ = client()
        got, _ = fetch(c)
    assert sorted(got, key=key) == sorted(windowed_rows((4700.0, 4705.0), 0, 10 ** 8), key=key)


def test_570_for_one_strike_in_one_interval_is_a_failure():
    with responses.RequestsMock() as rsps:
        status(rsps)
        rsps.add_callback(responses.GET, V3_GREEKS, callback=v3_terminal(max_rows=1))
        rsps.add(responses.GET, BASE + "/v3/option/list/strikes", body=b"symbol,strike\r\nSPXW,4700.000\r\n")
        with pytest.raises(ApiLargeRequestError, match="even one strike in one interval is too large"):
            fetch(client()[0])


# -- expirations ------------------------------------------------------------------------------
def test_expirations_in_root_order_then_by_date():
    body = b"symbol,expiration,strike,right\r\n" + b"".join(
        f"{root},{exp},4700.000,{right}\r\n".encode()
        for root, exp in [("SPXW", "2024-01-12"), ("SPX", "2024-01-19"), ("SPXW", "2024-01-05"), ("SPX", "2024-02-16")]
        for right in ("CALL", "PUT"))
    with responses.RequestsMock() as rsps:
        status(rsps)
        rsps.add(responses.GET, BASE + "/v3/option/list/contracts/quote", body=body)
        pairs = client()[0].expirations(DAY, ["SPXW", "SPX"])
        assert parse_qs(urlsplit(rsps.calls[1].request.url).query)["symbol"] == ["SPXW,SPX"]
    assert pairs == [("SPXW", dt.date(2024, 1, 5)), ("SPXW", dt.date(2024, 1, 12)),
                     ("SPX", dt.date(2024, 1, 19)), ("SPX", dt.date(2024, 2, 16))]


def test_no_expirations_on_a_day_without_data():
    with responses.RequestsMock() as rsps:
        status(rsps)
        rsps.add(responses.GET, BASE + "/v3/option/list/contracts/quote", status=472, body="No data")
        assert client()[0].expirations(dt.date(2024, 1, 6), ["SPXW", "SPX"]) == []


def test_connection_errors_mid_fetch_are_retried():
    records = expected_rows()
    with responses.RequestsMock() as rsps:
        status(rsps)
        rsps.add(responses.GET, V3_GREEKS, body=ConnectionResetError("reset by peer"))
        rsps.add(responses.GET, V3_GREEKS, body=v3_csv(records))
        c, events = client()
        got, _ = fetch(c)
    assert len(got) == len(records)
    assert [e["error_type"] for e in events] == ["ApiConnection"]
