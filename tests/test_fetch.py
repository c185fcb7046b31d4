"""spx-expirations and spx-fetch as a user runs them, against the simulator (real HTTP on
loopback): the rows fetched are exactly the simulator's, whatever the API version, format,
paging, faults or splitting; stage files resume; the machine-wide request cap holds."""
import json
import re
import signal
import socket
import subprocess

import pytest
import ujson

DAY = "2024-01-03"
KEY = ("root", "expiration", "strike", "right", "ms_of_day")


@pytest.fixture(autouse=True)
def fast_retries(monkeypatch):
    monkeypatch.setenv("SPX_DATA_THETADATA_RETRYBASESECONDS", "0.01")


def run(args, stdin="", check=True, **kwargs):
    result = subprocess.run(args, input=stdin, capture_output=True, text=True, timeout=120, **kwargs)
    if check:
        assert result.returncode == 0, result.stderr
    return result


def expirations(sim, *args, day=DAY):
    return run(["spx-expirations", "--base-url", sim.base_url, *args, day]).stdout


_LINES = {}


def day_lines(sim):
    """The expiration lines of DAY, from the oracle (cheaper than running spx-expirations)."""
    key = (sim.flags["seed"], sim.flags["preset"])
    if key not in _LINES:
        pairs = sorted({(r["root"] != "SPXW", r["root"], r["expiration"]) for r in sim.oracle(DAY)})
        _LINES[key] = "".join(json.dumps({"date": DAY, "root": root, "expiration": exp}) + "\n"
                              for _, root, exp in pairs)
    return _LINES[key]


def fetch(sim, lines, *args, check=True):
    return run(["spx-fetch", "--base-url", sim.base_url, *args], lines, check=check)


def parse(text):
    return [ujson.loads(line) for line in text.splitlines()]


def ordered(records):
    return sorted(records, key=lambda r: tuple(r[k] for k in KEY))


def assert_rows_are_the_oracle(records, sim, day=DAY):
    expected = sim.oracle(day)
    assert len(records) == len(expected)
    assert ordered(records) == ordered(expected)       # every value, exactly
    for record in records[:50]:
        assert all(type(record[k]) is type(v) for k, v in expected[0].items()), record


def greeks_requests(sim):
    paths = sim.stats()["requests"]
    return sum(n for path, codes in paths.items() if "greeks" in path or "/page/" in path for n in codes.values())


# -- spx-expirations --------------------------------------------------------------------------
def test_expirations_are_the_pairs_served_in_root_order(sim):
    lines = parse(expirations(sim))
    served = {(r["root"], r["expiration"]) for r in sim.oracle(DAY)}
    assert {(r["root"], r["expiration"]) for r in lines} == served
    assert [(r["root"] != "SPXW", r["expiration"]) for r in lines] == \
        sorted((r["root"] != "SPXW", r["expiration"]) for r in lines)
    assert all(r == {"date": DAY, "root": r["root"], "expiration": r["expiration"]} for r in lines)
    assert parse(expirations(sim, "--roots", "SPX")) == [r for r in lines if r["root"] == "SPX"]
    assert parse(expirations(sim, "--api-version", "v2")) == lines


def test_a_day_without_data_prints_nothing_and_says_so(sim):
    result = run(["spx-expirations", "--base-url", sim.base_url, "2024-01-06", DAY])
    assert [r["date"] for r in parse(result.stdout)] == [DAY] * len(parse(expirations(sim)))
    assert "2024-01-06: the terminal lists no SPXW/SPX contracts" in result.stderr


def test_retries_of_the_listing_are_events_or_notes(sim_factory):
    sim = sim_factory(p429=0.5)  # seed 7 draws a 429 for data request 1, not for 2
    events_file = sim.workdir / "events.ndjson"
    lines = parse(expirations(sim, "--events", str(events_file)))
    assert lines and [(e["event"], e["date"], e["error_type"], e["retry_attempt"])
                      for e in parse(events_file.read_text())] == [("error", DAY, "ApiRateLimit", 1)]
    sim.restart(p429=0.5)
    result = run(["spx-expirations", "--base-url", sim.base_url, DAY])
    assert parse(result.stdout) == lines
    assert result.stderr == "spx-expirations: the terminal is busy (429 OS_LIMIT) (retry 1)\n"


def test_a_bad_date_is_exit_2_before_any_request(sim):
    result = run(["spx-expirations", "--base-url", sim.base_url, DAY, "2024-02-30"], check=False)
    assert result.returncode == 2 and "2024-02-30" in result.stderr
    assert result.stdout == "" and sim.stats()["data_requests"] == 0
    nothing = fetch(sim, "\n")
    assert nothing.stdout == nothing.stderr == "" and sim.stats()["requests"] == {}


def test_a_terminal_that_is_not_running_is_exit_4_with_advice():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    result = run(["spx-expirations", "--base-url", url, DAY], check=False)
    assert result.returncode == 4
    assert result.stderr.strip() == \
        f"spx-expirations: is the Theta Terminal running at {url}? (start it, or `spx-sim` for the simulator)"


# -- spx-fetch: rows ---------------------------------------------------------------------------
@pytest.mark.parametrize("version,fmt,tick_limit", [
    ("v2", "json", 1000), ("v2", "csv", 1000), ("v3", "csv", None), ("v3", "ndjson", None), ("v3", "json", None),
])
def test_fetched_rows_are_exactly_the_simulators(sim_factory, version, fmt, tick_limit):
    sim = sim_factory(**({"tick_limit": tick_limit} if tick_limit else {}))
    result = fetch(sim, day_lines(sim), "--api-version", version, "--format", fmt)
    assert_rows_are_the_oracle(parse(result.stdout), sim)
    stats = sim.stats()["requests"]
    if tick_limit:  # every page followed
        assert stats["/v2/page/{id}"]["200"] >= len(sim.oracle(DAY)) // tick_limit - 5
    assert all(code == "200" for codes in stats.values() for code in codes)


def test_v2_and_v3_give_byte_identical_rows(sim):
    lines = day_lines(sim)
    by_version = {version: sorted(fetch(sim, lines, "--api-version", version).stdout.splitlines())
                  for version in ("v2", "v3")}
    assert by_version["v2"] == by_version["v3"] and len(by_version["v2"]) == len(sim.oracle(DAY))


def test_each_expiration_comes_out_whole(sim):
    records = parse(fetch(sim, day_lines(sim)).stdout)
    runs = [(r["root"], r["expiration"]) for i, r in enumerate(records)
            if i == 0 or (r["root"], r["expiration"]) != (records[i - 1]["root"], records[i - 1]["expiration"])]
    assert len(runs) == len(set(runs))   # no expiration interleaved with another


def test_auto_detects_a_v3_only_terminal(sim_factory):
    sim = sim_factory(v3_only=True)
    assert_rows_are_the_oracle(parse(fetch(sim, day_lines(sim)).stdout), sim)
    assert "/v2/bulk_hist/option/greeks" not in sim.stats()["requests"]


def test_forcing_v2_on_a_v3_only_terminal_says_what_to_do(sim_factory):
    sim = sim_factory(v3_only=True)
    result = fetch(sim, day_lines(sim), "--api-version", "v2", check=False)
    assert result.returncode == 4
    assert "set thetadata.apiVersion to v3 or auto" in result.stderr


@pytest.mark.parametrize("version", ["v2", "v3"])
def test_faults_are_retried_and_every_row_still_arrives_once(sim_factory, monkeypatch, version):
    monkeypatch.setenv("SPX_DATA_THETADATA_MAXRETRIES", "12")
    # One request at a time: the simulator's fault draws (seeded, per request number) then hit
    # the same requests on every run; seed 2 faults the very first ones.
    monkeypatch.setenv("SPX_DATA_THETADATA_MAXCONCURRENTREQUESTS", "1")
    sim = sim_factory(seed=2, p429=0.1, p474=0.05, p571=0.05, truncate=0.1, reset=0.05, tick_limit=2000)
    lines = day_lines(sim)
    events_file = sim.workdir / "events.ndjson"
    result = fetch(sim, lines, "--api-version", version, "--events", str(events_file))
    assert_rows_are_the_oracle(parse(result.stdout), sim)
    events = parse(events_file.read_text())
    errors = [e for e in events if e["event"] == "error"]
    faults = sim.stats()["faults"]
    assert sum(faults.values()) >= len(errors) > 0
    assert {e["error_type"] for e in errors} <= {"ApiRateLimit", "ApiConnection", "ApiResponseInvalid"}
    assert all(e["date"] == DAY and e["retry_attempt"] >= 1 and e["context_data"]["url"] for e in errors)
    done = [e for e in events if e["event"] == "expiration_done"]
    assert sorted(e["expiration"] for e in done) == sorted(r["expiration"] for r in parse(lines))


def test_without_an_events_file_retries_are_notes_on_stderr(sim_factory, monkeypatch):
    monkeypatch.setenv("SPX_DATA_THETADATA_MAXCONCURRENTREQUESTS", "1")
    sim = sim_factory(p429=0.5)
    result = fetch(sim, day_lines(sim))
    assert_rows_are_the_oracle(parse(result.stdout), sim)
    notes = result.stderr.splitlines()
    assert len(notes) == sim.stats()["faults"]["429"] > 0
    assert all(re.fullmatch(r"spx-fetch: SPXW? \d{4}-\d\d-\d\d: the terminal is busy \(429 OS_LIMIT\) "
                            r"\(retry \d+\)", note) for note in notes), notes


@pytest.mark.parametrize("version", ["v2", "v3"])
def test_570_is_split_until_it_fits(sim_factory, version):
    sim = sim_factory(large_over=700)
    result = fetch(sim, day_lines(sim), "--api-version", version)
    assert_rows_are_the_oracle(parse(result.stdout), sim)
    assert sim.stats()["requests"]["/v2/bulk_hist/option/greeks" if version == "v2" else
                                   "/v3/option/history/greeks/first_order"]["570"] > 0


def test_570_down_to_single_strikes(sim_factory):
    sim = sim_factory(large_over=1)  # one interval of a whole chain is too much; one contract fits
    lines = "".join(line + "\n" for line in day_lines(sim).splitlines()[:1])
    records = parse(fetch(sim, lines, "--api-version", "v2", "--interval-ms", "1800000").stdout)
    expected = [r for r in sim.oracle(DAY, interval_ms=1800000) if r["expiration"] == parse(lines)[0]["expiration"]
                and r["root"] == parse(lines)[0]["root"]]
    assert ordered(records) == ordered(expected) and records
    assert "/v2/hist/option/greeks" in sim.stats()["requests"]


def test_malformed_input_is_exit_2_with_its_line_and_nothing_fetched(sim):
    good = day_lines(sim).splitlines()[0]
    for bad, reason in [("{not json", "not valid JSON"), ('{"date":"2024-01-03","root":"SPXW"}', "expiration"),
                        ('{"date":"2024-13-03","root":"SPXW","expiration":"2024-01-05"}', "2024-13-03"),
                        ('{"date":"2024-01-03","root":"spx w","expiration":"2024-01-05"}', "root")]:
        result = fetch(sim, f"{good}\n\n{bad}\n", check=False)
        assert result.returncode == 2, result.stderr
        assert result.stderr.startswith("spx-fetch: -:3: ") and reason in result.stderr
    assert result.stdout == "" and sim.stats()["data_requests"] == 0


# -- spx-fetch --stage ---------------------------------------------------------------------------
def spawn_fetch(sim, lines, tmp_path, *args):
    """A running spx-fetch reading LINES (from a file, so that communicate() works)."""
    source = tmp_path / "lines.ndjson"
    source.write_text(lines)
    with open(source) as stdin:
        return subprocess.Popen(["spx-fetch", "--base-url", sim.base_url, *args], stdin=stdin,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def stage_rows(stage):
    return [r for path in sorted(stage.glob("*.ndjson")) for r in parse(path.read_text())]


def test_stage_files_and_events(sim, tmp_path):
    stage = tmp_path / "stage"
    lines = parse(day_lines(sim))
    result = fetch(sim, "".join(json.dumps(r) + "\n" for r in lines), "--stage", str(stage))
    events = parse(result.stdout)
    assert sorted(p.name for p in stage.iterdir()) == sorted(f"{r['root']}-{r['expiration']}.ndjson" for r in lines)
    assert_rows_are_the_oracle(stage_rows(stage), sim)
    for event in events:
        path = stage / f"{event['root']}-{event['expiration']}.ndjson"
        assert set(event) == {"event", "date", "root", "expiration", "rows", "requests", "bytes", "empty", "skipped",
                              "seconds", "latency_ms"}
        assert event["event"] == "expiration_done" and event["date"] == DAY and not event["skipped"]
        assert event["rows"] == len(path.read_text().splitlines()) > 0 and not event["empty"]
        assert event["requests"] == len(event["latency_ms"]) == 1 and event["bytes"] > 0
        assert oct(path.stat().st_mode & 0o777) == "0o600"


def test_an_expiration_without_data_is_an_empty_stage_file(sim_factory, tmp_path):
    probe = sim_factory()
    lines = parse(expirations(probe))
    probe.stop()
    empty = lines[1]
    sim = sim_factory(no_data=[f"{empty['root']}:{empty['expiration']}"])
    stage = tmp_path / "stage"
    events = parse(fetch(sim, "".join(json.dumps(r) + "\n" for r in lines), "--stage", str(stage)).stdout)
    by_exp = {(e["root"], e["expiration"]): e for e in events}
    assert (stage / f"{empty['root']}-{empty['expiration']}.ndjson").read_bytes() == b""
    assert by_exp[(empty["root"], empty["expiration"])]["empty"] is True
    assert [e for e in events if e["event"] == "error"] == []
    assert sum(1 for e in events if e["empty"]) == 1


def test_a_rerun_fetches_only_what_is_missing(sim, tmp_path):
    stage = tmp_path / "stage"
    lines = day_lines(sim)
    fetch(sim, "".join(lines.splitlines(keepends=True)[:2]), "--stage", str(stage))
    sim.reset_stats()
    events = parse(fetch(sim, lines, "--stage", str(stage)).stdout)
    skipped = {(e["root"], e["expiration"]) for e in events if e["skipped"]}
    assert skipped == {(r["root"], r["expiration"]) for r in parse(lines)[:2]}
    assert greeks_requests(sim) == len(parse(lines)) - 2
    served = {}
    for r in sim.oracle(DAY):
        served[(r["root"], r["expiration"])] = served.get((r["root"], r["expiration"]), 0) + 1
    assert all(e["rows"] == served[(e["root"], e["expiration"])] for e in events)
    assert_rows_are_the_oracle(stage_rows(stage), sim)
    sim.reset_stats()
    again = parse(fetch(sim, lines, "--stage", str(stage)).stdout)
    assert all(e["skipped"] for e in again) and sim.stats()["requests"] == {}   # not even a status check


def test_a_terminal_dying_mid_day_keeps_completed_expirations_and_resumes(sim_factory, tmp_path, monkeypatch):
    monkeypatch.setenv("SPX_DATA_THETADATA_MAXRETRIES", "1")
    monkeypatch.setenv("SPX_DATA_THETADATA_MAXCONCURRENTREQUESTS", "1")
    sim = sim_factory(die_after=2)
    stage = tmp_path / "stage"
    lines = day_lines(sim)
    first = fetch(sim, lines, "--stage", str(stage), check=False)
    assert first.returncode == 4 and "is the Theta Terminal running" in first.stderr
    done = [e for e in parse(first.stdout) if e["event"] == "expiration_done"]
    assert len(done) == 2 and sorted(stage.iterdir()) == sorted(
        stage / f"{e['root']}-{e['expiration']}.ndjson" for e in done)  # no .part left
    sim.restart()
    second = parse(fetch(sim, lines, "--stage", str(stage)).stdout)
    assert sum(e["skipped"] for e in second) == 2
    assert greeks_requests(sim) == len(parse(lines)) - 2
    assert_rows_are_the_oracle(stage_rows(stage), sim)


def test_ctrl_c_removes_only_the_unfinished_part_files(sim_factory, tmp_path, monkeypatch):
    monkeypatch.setenv("SPX_DATA_THETADATA_MAXCONCURRENTREQUESTS", "2")
    sim = sim_factory(latency_ms=400)
    stage = tmp_path / "stage"
    lines = day_lines(sim)
    proc = spawn_fetch(sim, lines, tmp_path, "--stage", str(stage))
    first_event = proc.stdout.readline()     # one expiration finished, others in flight
    proc.send_signal(signal.SIGINT)
    rest, err = proc.stdout.read(), proc.stderr.read()   # (communicate() would skip readline's buffer)
    assert proc.wait(60) == 130, err
    assert "interrupted" in err
    done = parse(first_event + rest)
    assert 1 <= len(done) < len(parse(lines))
    assert sorted(p.name for p in stage.iterdir()) == sorted(f"{e['root']}-{e['expiration']}.ndjson" for e in done)


# -- the machine-wide cap --------------------------------------------------------------------------
def test_concurrent_fetches_share_the_request_cap(sim_factory, tmp_path, monkeypatch):
    monkeypatch.setenv("SPX_DATA_THETADATA_MAXCONCURRENTREQUESTS", "2")
    sim = sim_factory(latency_ms=60, max_in_flight=2)  # any 3rd request in flight gets 429
    lines = day_lines(sim)
    procs = [spawn_fetch(sim, lines, tmp_path, "--stage", str(tmp_path / f"stage{i}"))
             for i in range(3)]
    outputs = [proc.communicate(timeout=120) for proc in procs]
    assert [proc.returncode for proc in procs] == [0, 0, 0], [err for _, err in outputs]
    stats = sim.stats()
    assert stats["max_in_flight"] <= 2
    assert not any("429" in codes for codes in stats["requests"].values())
    assert all(e["event"] == "expiration_done" for out, _ in outputs for e in parse(out))
    for i in range(3):
        assert_rows_are_the_oracle(stage_rows(tmp_path / f"stage{i}"), sim)
