"""spx-sim's fault injection, for every greeks encoding: v2 JSON, v2 CSV, v3 CSV, v3 NDJSON."""
import http.client
import socket
import time

import pytest
import requests

from fixtures.sim import v2_csv_rows, v2_json_rows, v3_csv_rows, v3_ndjson_rows

V2 = "/v2/bulk_hist/option/greeks"
V3 = "/v3/option/history/greeks/first_order"
V2_PARAMS = {"root": "SPXW", "exp": "20240103", "start_date": "20240102", "end_date": "20240102", "ivl": 60000}
V3_PARAMS = {"symbol": "SPXW", "expiration": "20240103", "date": "20240102", "interval": "1m"}
KINDS = {
    "v2-json": (V2, V2_PARAMS),
    "v2-csv": (V2, {**V2_PARAMS, "use_csv": "true"}),
    "v3-csv": (V3, V3_PARAMS),
    "v3-ndjson": (V3, {**V3_PARAMS, "format": "ndjson"}),
}


def fetch(term, kind, **extra):
    path, params = KINDS[kind]
    return term.get(path, **{**params, **extra})


def wait_until(condition, timeout=10):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.02)


def hold_request(term, path, params):
    """Send a request on a raw socket and return the socket without reading the answer."""
    query = "&".join(f"{k}={v}" for k, v in params.items())
    sock = socket.create_connection(("127.0.0.1", term.port))
    sock.sendall(f"GET {path}?{query} HTTP/1.1\r\nHost: 127.0.0.1:{term.port}\r\n\r\n".encode())
    return sock


@pytest.mark.parametrize("status,name", [(429, "OS_LIMIT"), (474, "DISCONNECTED"), (571, "SERVER_STARTING"),
                                         (570, "LARGE_REQUEST")])
def test_status_faults_hit_every_greeks_encoding(sim_factory, status, name):
    term = sim_factory(**{f"p{status}": 1.0})
    for kind in KINDS:
        response = fetch(term, kind)
        assert response.status_code == status, kind
        assert response.text.startswith(f"{name}: ")
    assert term.get("/v2/system/mdds/status").text == "CONNECTED"       # status requests are exempt
    listing = term.get("/v2/list/contracts/option/quote", start_date="20240102")
    assert listing.status_code == (200 if status == 570 else status)    # 570 is for greeks only
    assert term.stats()["faults"] == {str(status): len(KINDS) + (status != 570)}


def statuses(term, count=40):
    return [term.get("/v2/list/roots/option").status_code for _ in range(count)]


def test_drawn_faults_repeat_for_the_same_seed(sim_factory):
    flags = {"p429": 0.25, "p474": 0.25}
    first = statuses(sim_factory(**flags))
    assert statuses(sim_factory(**flags)) == first
    assert {200, 429, 474} == set(first)
    assert statuses(sim_factory(seed=8, **flags)) != first


def test_truncated_bodies_stop_short_of_their_content_length(sim_factory):
    term = sim_factory(truncate=1.0)
    for kind in KINDS:
        with pytest.raises(requests.exceptions.ChunkedEncodingError):
            fetch(term, kind)
        path, params = KINDS[kind]
        connection = http.client.HTTPConnection("127.0.0.1", term.port, timeout=10)
        connection.request("GET", path + "?" + "&".join(f"{k}={v}" for k, v in params.items()))
        response = connection.getresponse()
        assert response.status == 200
        with pytest.raises(http.client.IncompleteRead) as cut:
            response.read()
        assert 0 < len(cut.value.partial) < int(response.headers["Content-Length"])
        connection.close()
    assert term.stats()["faults"]["truncate"] == 2 * len(KINDS)


def test_resets_drop_the_connection_without_an_answer(sim_factory):
    term = sim_factory(reset=1.0)
    for kind in KINDS:
        with pytest.raises(requests.exceptions.ConnectionError):
            fetch(term, kind)
    assert term.stats()["requests"][V2] == {"reset": 2}
    assert term.stats()["requests"][V3] == {"reset": 2}
    assert term.get("/v3/terminal/mdds/status").text == "CONNECTED"


def test_latency_holds_each_data_request(sim_factory):
    term = sim_factory(latency_ms=400)
    for kind in ("v2-json", "v3-ndjson"):
        started = time.monotonic()
        assert fetch(term, kind).status_code == 200
        assert time.monotonic() - started >= 0.4
    sock = hold_request(term, *KINDS["v2-csv"])
    wait_until(lambda: term.stats()["in_flight"] == 1)     # seen in flight while it waits
    sock.close()


def test_bandwidth_cap_paces_the_body(sim_factory):
    term = sim_factory(bandwidth=1_000_000)
    expected = [r for r in term.oracle("2024-01-02") if (r["root"], r["expiration"]) == ("SPXW", "2024-01-03")]
    for kind, parse in (("v2-csv", v2_csv_rows), ("v3-csv", v3_csv_rows)):
        started = time.monotonic()
        response = fetch(term, kind)
        assert response.status_code == 200 and len(response.content) > 200_000
        assert time.monotonic() - started >= len(response.content) / 1_000_000
        assert parse(response.text) == expected          # paced, not garbled


def test_requests_beyond_the_in_flight_cap_get_429(sim_factory):
    term = sim_factory(max_in_flight=2, latency_ms=30_000)
    held = [hold_request(term, *KINDS["v2-json"]), hold_request(term, *KINDS["v3-csv"])]
    wait_until(lambda: term.stats()["in_flight"] == 2)
    for kind in KINDS:
        response = fetch(term, kind)
        assert response.status_code == 429 and response.text.startswith("OS_LIMIT: ")
    assert term.stats()["max_in_flight"] == 3            # the refused one was in flight too, briefly
    assert term.get("/v2/system/mdds/status").text == "CONNECTED"
    for sock in held:
        sock.close()


def test_a_terminal_that_dies_after_n_data_requests(sim_factory):
    term = sim_factory(die_after=3)
    expected = v2_json_rows(fetch(term, "v2-json").content)
    assert fetch(term, "v2-csv").status_code == 200
    assert term.get("/v2/system/mdds/status").text == "CONNECTED"   # status requests do not count
    assert fetch(term, "v3-csv").status_code == 200
    with pytest.raises(requests.exceptions.ConnectionError):
        fetch(term, "v3-ndjson")
    assert term.wait_exit() == 1
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.get(term.base_url + "/v2/system/mdds/status", timeout=5)   # the port is closed
    port = term.port
    term.restart()
    assert term.port == port
    assert v2_json_rows(fetch(term, "v2-json").content) == expected


def test_a_terminal_still_starting(sim_factory):
    term = sim_factory(starting_seconds=1.5)
    assert term.get("/v2/system/mdds/status").text == "DISCONNECTED"
    assert term.get("/v3/terminal/mdds/status").text == "DISCONNECTED"
    for kind in KINDS:
        assert fetch(term, kind).status_code == 571
    wait_until(lambda: term.get("/v2/system/mdds/status").text == "CONNECTED")
    for kind in KINDS:
        assert fetch(term, kind).status_code == 200


def test_chosen_expirations_have_no_data(sim_factory):
    term = sim_factory(no_data=["SPXW:2024-01-03"])
    for kind in KINDS:
        response = fetch(term, kind)
        assert response.status_code == 472 and response.text.startswith("NO_DATA: ")
    assert fetch(term, "v3-csv", expiration="20240104").status_code == 200
    listing = term.get("/v2/list/contracts/option/quote", start_date="20240102", root="SPXW").json()["response"]
    assert 20240103 in {row[1] for row in listing}                     # still listed, like the real thing
    assert not [r for r in term.oracle("2024-01-02") if r["expiration"] == "2024-01-03"]


def test_large_requests_get_570_until_split(sim_factory):
    term = sim_factory(large_over=2000)                 # a tiny expiration is 8 contracts x 390 rows
    for kind in KINDS:
        assert fetch(term, kind).status_code == 570
    expected = [r for r in term.oracle("2024-01-02") if (r["root"], r["expiration"]) == ("SPXW", "2024-01-03")]
    # v2 splits by time window
    halves = [fetch(term, "v2-json", start_time=0, end_time=46_799_999),
              fetch(term, "v2-json", start_time=46_800_000, end_time=86_399_999)]
    assert [h.status_code for h in halves] == [200, 200]
    by_contract = sorted(v2_json_rows(halves[0].content) + v2_json_rows(halves[1].content),
                         key=lambda r: (r["strike"], r["right"], r["ms_of_day"]))
    assert by_contract == expected
    # v3 splits by strike range (or one strike at a time)
    near = fetch(term, "v3-ndjson", strike_range=0)
    assert near.status_code == 200
    assert v3_ndjson_rows(near.text) == [r for r in expected if r["strike"] == 4770.0]
