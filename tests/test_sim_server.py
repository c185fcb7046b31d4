"""spx-sim as a server: determinism across processes, stats, keep-alive, control endpoints."""
import http.client

GREEKS_V2 = "/v2/bulk_hist/option/greeks"
GREEKS_V3 = "/v3/option/history/greeks/first_order"
REQUESTS = [
    ("/v2/list/contracts/option/quote", {"start_date": "20240102", "root": "SPXW,SPX"}),
    ("/v2/list/expirations", {"root": "SPX", "use_csv": "true"}),
    (GREEKS_V2, {"root": "SPXW", "exp": "20240103", "start_date": "20240102", "end_date": "20240102",
                 "ivl": 60000}),
    (GREEKS_V2, {"root": "SPX", "exp": "20240119", "start_date": "20240102", "end_date": "20240102",
                 "ivl": 60000, "use_csv": "true"}),
    (GREEKS_V3, {"symbol": "SPXW", "expiration": "20240104", "date": "20240102", "interval": "1m"}),
    (GREEKS_V3, {"symbol": "SPXW", "expiration": "20240102", "date": "20240102", "interval": "1m",
                 "format": "ndjson"}),
    (GREEKS_V3, {"symbol": "SPX", "expiration": "20240216", "date": "20240102", "interval": "1m",
                 "format": "json"}),
    ("/v3/option/list/contracts/quote", {"date": "20240102"}),
]


def bodies(term):
    return [term.get(path, **params).content for path, params in REQUESTS]


def test_same_seed_same_bytes_other_seed_other_data(sim_factory):
    first = bodies(sim_factory(tick_limit=100_000))
    assert bodies(sim_factory(tick_limit=100_000)) == first
    other = bodies(sim_factory(seed=8, tick_limit=100_000))
    greeks = [i for i, (path, _) in enumerate(REQUESTS) if "greeks" in path]
    assert all(other[i] != first[i] for i in greeks)


def test_repeated_requests_are_served_identically_from_the_cache(sim):
    assert bodies(sim) == bodies(sim)


def test_stats_count_requests_by_path_and_status_and_bytes(sim):
    sent = 0
    for path, params in REQUESTS[:3]:
        sent += len(sim.get(path, **params).content)
    sent += len(sim.get(GREEKS_V2, root="SPXW").content)                      # 473
    sent += len(sim.get("/v2/system/mdds/status").content)                     # not a data request
    sent += len(sim.get("/nowhere").content)                                   # 404
    stats = sim.stats()
    assert stats["requests"] == {
        "/v2/list/contracts/option/quote": {"200": 1}, "/v2/list/expirations": {"200": 1},
        GREEKS_V2: {"200": 1, "473": 1}, "/v2/system/mdds/status": {"200": 1}, "/nowhere": {"404": 1}}
    assert stats["bytes_sent"] == sent
    assert stats["data_requests"] == 4
    assert stats["max_in_flight"] == 1 and stats["in_flight"] == 0
    sim.reset_stats()
    assert sim.stats()["requests"] == {} and sim.stats()["bytes_sent"] == 0
    assert sim.session.post(sim.base_url + "/sim/reset-stats").text == "OK"
    assert sim.get("/sim/unknown").status_code == 404


def test_connections_are_kept_alive_across_answers_and_errors(sim):
    connection = http.client.HTTPConnection("127.0.0.1", sim.port, timeout=10)
    sockets = set()
    for path, params in REQUESTS[2:5] + [(GREEKS_V2, {"root": "SPXW"})]:
        connection.request("GET", path + "?" + "&".join(f"{k}={v}" for k, v in params.items()))
        response = connection.getresponse()
        assert len(response.read()) == int(response.headers["Content-Length"])
        assert not response.will_close
        sockets.add(id(connection.sock))
    assert len(sockets) == 1
    connection.close()


def test_it_listens_on_loopback_only(sim):
    # /proc/net/tcp: local address 0100007F is 127.0.0.1; state 0A is LISTEN
    with open("/proc/net/tcp") as table:
        listening = [line.split() for line in table if line.split()[3:4] == ["0A"]]
    ours = [fields[1] for fields in listening if int(fields[1].split(":")[1], 16) == sim.port]
    assert ours == [f"0100007F:{sim.port:04X}"]
