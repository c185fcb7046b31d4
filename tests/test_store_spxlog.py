"""spx-log as a program: real processes on a real database file."""
import json
import os
import signal
import subprocess

import pytest

from spx_data.store import Store

WRITERS, EVENTS_EACH = 4, 1000
SHARED_DAY = "2024-01-02"


def spx_log(*args, stdin=None, text_input=None):
    return subprocess.run(["spx-log", *args], input=text_input, stdin=stdin, capture_output=True, text=True)


def lines(*events):
    return "".join(json.dumps(e) + "\n" for e in events)


def writer_events(writer):
    """Half running-total updates of one shared row (a lost update would show in the sum), half
    rows of the writer's own metric."""
    for n in range(EVENTS_EACH):
        if n % 2:
            yield {"event": "expiration_done", "date": SHARED_DAY, "root": "SPXW", "expiration": "2024-01-05",
                   "rows": 1, "requests": 1}
        else:
            yield {"event": "metric", "date": f"2024-02-{writer + 1:02d}", "metric_name": f"writer{writer}",
                   "metric_value": n}


@pytest.mark.parametrize("mode", [["record", "--each"], ["record"]], ids=["each", "batch"])
def test_four_concurrent_writers_lose_nothing(tmp_path, spx_env, mode):
    db = spx_env["SPX_DATA_DATABASE_PATH"]
    inputs = []
    for writer in range(WRITERS):
        path = tmp_path / f"writer{writer}.ndjson"
        path.write_text(lines(*writer_events(writer)))
        inputs.append(open(path, encoding="utf-8"))
    procs = [subprocess.Popen(["spx-log", *mode], stdin=handle, stderr=subprocess.PIPE, text=True)
             for handle in inputs]
    results = [(proc.wait(timeout=120), proc.stderr.read()) for proc in procs]
    for handle in inputs:
        handle.close()
    assert results == [(0, "")] * WRITERS
    store = Store.open(db, create=False)
    shared = store.processing(dates=[SHARED_DAY])[0]
    half = EVENTS_EACH // 2
    assert (shared["expiration_count"], shared["record_count"], shared["api_requests_made"]) == (WRITERS * half,) * 3
    counts = store.rows("SELECT metric_name, COUNT(*) AS n, SUM(metric_value) AS total "
                        "FROM performance_metrics GROUP BY metric_name ORDER BY metric_name")
    expected_total = sum(range(0, EVENTS_EACH, 2))
    assert counts == [{"metric_name": f"writer{w}", "n": half, "total": expected_total} for w in range(WRITERS)]


def test_concurrent_first_use_migrates_once(spx_env):
    procs = [subprocess.Popen(["spx-log", "record"], stdin=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(4)]
    for n, proc in enumerate(procs):
        proc.stdin.write(lines({"event": "queued", "date": f"2024-01-0{n + 2}"}))
        proc.stdin.close()
    assert [(proc.wait(timeout=60), proc.stderr.read()) for proc in procs] == [(0, "")] * 4
    store = Store.open(spx_env["SPX_DATA_DATABASE_PATH"], create=False)
    assert store.rows("SELECT version, COUNT(*) AS n FROM schema_version GROUP BY version HAVING n > 1") == []
    assert len(store.processing()) == 4


def test_a_bad_line_anywhere_writes_nothing(spx_env):
    good = lines({"event": "queued", "date": "2024-01-02"}, {"event": "queued", "date": "2024-01-03"})
    result = spx_log("record", text_input=good + '{"event": "queued", "date": "2024-01-04"')
    assert result.returncode == 2
    assert result.stderr.startswith("spx-log: -:3: not valid JSON")
    assert len(result.stderr.splitlines()) == 1
    assert not os.path.exists(spx_env["SPX_DATA_DATABASE_PATH"])  # not even created
    assert spx_log("record", text_input=good).returncode == 0
    assert Store.open(spx_env["SPX_DATA_DATABASE_PATH"]).processing() != []


def test_bad_utf8_is_reported_with_its_line(spx_env, tmp_path):
    path = tmp_path / "events.ndjson"
    path.write_bytes(lines({"event": "queued", "date": "2024-01-02"}).encode() + b'{"event": "\xff"}\n')
    result = spx_log("record", str(path))
    assert (result.returncode, result.stderr.strip()) == (2, f"spx-log: {path}:2: not UTF-8 text")


def test_each_keeps_the_good_lines_and_reports_the_bad(spx_env):
    text = (lines({"event": "queued", "date": "2024-01-02"}) + "garbage\n"
            + lines({"event": "queued", "date": "2024-13-01"}, {"event": "queued", "date": "2024-01-03"}))
    result = spx_log("record", "--each", text_input=text)
    assert result.returncode == 2
    assert [line.split(": ")[1] for line in result.stderr.splitlines()[:2]] == ["-:2", "-:3"]
    dates = [r["date"] for r in Store.open(spx_env["SPX_DATA_DATABASE_PATH"]).processing()]
    assert dates == ["2024-01-02", "2024-01-03"]


def test_each_commits_while_the_pipe_is_still_open(spx_env):
    proc = subprocess.Popen(["spx-log", "record", "--each"], stdin=subprocess.PIPE, text=True)
    try:
        proc.stdin.write(lines({"event": "started", "date": "2024-01-02"}))
        proc.stdin.flush()
        seen = []
        for _ in range(200):  # poll: the event must become visible without closing the pipe
            seen = json.loads(spx_log("query", "processing").stdout or "null") or []
            if seen:
                break
            subprocess.run(["sleep", "0.05"])
        assert seen and seen["status"] == "processing"
    finally:
        proc.stdin.close()
        proc.wait(timeout=30)
    assert proc.returncode == 0


def test_queries_print_ndjson(spx_env):
    spx_log("record", text_input=lines(
        {"event": "failed", "date": "2024-01-02", "error_type": "ApiConnection", "error_message": "reset"},
        {"event": "metric", "date": "2024-01-02", "metric_name": "rows", "metric_value": 5}))
    processing = spx_log("query", "processing", "--status", "failed")
    assert [json.loads(line)["date"] for line in processing.stdout.splitlines()] == ["2024-01-02"]
    errors = spx_log("query", "errors", "--type", "ApiConnection", "--unresolved").stdout.splitlines()
    assert json.loads(errors[0])["error_message"] == "reset"
    metrics = spx_log("query", "metrics", "--name", "rows").stdout.splitlines()
    assert json.loads(metrics[0])["metric_value"] == 5


@pytest.mark.parametrize("args, message", [
    (["query", "processing", "--status", "done"], "--status must be one of queued, processing"),
    (["query", "processing", "--from", "2024-02-30"], "invalid --from '2024-02-30'"),
    (["query", "processing", "--limit", "0"], "--limit must be a whole number of at least 1"),
    (["query", "errors", "--since", "last week"], "not an ISO-8601 timestamp"),
])
def test_bad_query_options_exit_2(args, message):
    result = spx_log(*args)
    assert result.returncode == 2
    assert message in result.stderr and "Traceback" not in result.stderr


def test_a_missing_database_reads_as_empty_and_is_not_created(spx_env):
    db = spx_env["SPX_DATA_DATABASE_PATH"]
    assert spx_log("query", "processing").stdout == ""
    assert json.loads(spx_log("query", "summary").stdout)["exists"] is False
    check = spx_log("check")
    assert check.returncode == 3 and "no database at" in check.stderr
    assert not os.path.exists(db)


def test_each_stopped_by_sigterm_keeps_what_it_committed(spx_env):
    proc = subprocess.Popen(["spx-log", "record", "--each"], stdin=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    proc.stdin.write(lines({"event": "queued", "date": "2024-01-02"}))
    proc.stdin.flush()
    for _ in range(200):  # wait until the line is committed
        if spx_log("query", "processing").stdout:
            break
        subprocess.run(["sleep", "0.05"])
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=30) == 143
    assert proc.stderr.read().strip() == "spx-log: interrupted"
    assert [json.loads(line)["date"] for line in spx_log("query", "processing").stdout.splitlines()] == ["2024-01-02"]
