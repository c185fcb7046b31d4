"""spx-data retry: real failures of the real pipeline against the simulator, real clean-up,
real confirmation on a pseudo-terminal, and what retry logs."""
import fcntl
import json
import os
import pty
import select
import signal
import subprocess
import termios
import time

import pytest

from spx_data import layout, logclient
from spx_data.daylock import DayLock
from spx_data.ops import artifacts, retry
from test_ops_status import closed_port_url
from test_ops_support import flip_byte, log_failure, log_success, row_of, seal_day, spx

GREEKS_PATH = "/v3/option/history/greeks/first_order"


@pytest.fixture
def terminal(sim_factory, monkeypatch):
    """A tiny simulator as the configured terminal; requests one at a time, fast retries."""
    def start(**faults):
        handle = sim_factory(**faults)
        monkeypatch.setenv("SPX_DATA_THETADATA_BASEURL", handle.base_url)
        return handle
    monkeypatch.setenv("SPX_DATA_THETADATA_MAXCONCURRENTREQUESTS", "1")
    monkeypatch.setenv("SPX_DATA_THETADATA_MAXRETRIES", "1")
    monkeypatch.setenv("SPX_DATA_THETADATA_RETRYBASESECONDS", "0.01")
    return start


@pytest.fixture
def dirs(spx_env):
    return spx_env["SPX_DATA_PROCESSING_TEMPDIRECTORY"], spx_env["SPX_DATA_PROCESSING_OUTPUTDIRECTORY"]


def retry_cmd(*argv, **kwargs):
    result = spx("spx-data", "retry", "--format", "ndjson", *argv, **kwargs)
    return result, [json.loads(line) for line in result.stdout.splitlines()]


def greeks_requests(sim):
    return sum(sum(by_status.values()) for path, by_status in sim.stats()["requests"].items() if path == GREEKS_PATH)


def retry_metrics(day):
    return [m for m in logclient.query("metrics", date=day) if m["metric_name"] == "retry_succeeded"]


# -- real runs ------------------------------------------------------------------------------
def test_retry_after_a_terminal_crash_cleans_resumes_and_resolves(terminal, dirs):
    temp_dir, out_dir = dirs
    sim = terminal(die_after=3)       # the expiration list and two expirations, then the terminal dies
    failed = spx("spx-data", "process", "--quiet", "2024-01-02")
    assert failed.returncode == 1
    original = row_of("2024-01-02")
    assert original["status"] == "failed"
    stage = layout.stage_dir(temp_dir, "2024-01-02")
    total = sum(1 for line in open(layout.expirations_file(stage)) if line.strip())
    completed = len(list(stage.glob("SPX*-????-??-??.ndjson")))
    assert 0 < completed < total
    (stage / "day.parquet.part").write_bytes(b"half a file")    # leftovers no re-run can use
    (stage / "SPXW-2099-01-01.ndjson.part").write_bytes(b"{")

    sim.restart()
    result, rows = retry_cmd("2024-01-02")
    assert result.returncode == 0, result.stderr
    assert rows == [{"date": "2024-01-02", "reason": "failed", "original_error": original["error_type"],
                     "retries": 0, "outcome": "succeeded"}]
    assert "removed" in result.stderr and "day.parquet.part" in result.stderr
    assert not stage.exists()                                    # removed after the success
    # It resumed: the expiration list and the completed expirations were not fetched again.
    assert sim.stats()["requests"].get("/v3/option/list/contracts/quote") is None
    assert greeks_requests(sim) == total - completed
    done = row_of("2024-01-02")
    assert (done["status"], done["record_count"], done["retry_count"]) == ("success", len(sim.oracle("2024-01-02")), 1)
    check = spx("spx-data", "verify", "2024-01-02")
    assert check.returncode == 0, check.stdout
    errors = logclient.query("errors", date="2024-01-02")
    assert errors and all(e["resolved_at"] and e["resolution_method"] == "retry" for e in errors)
    [metric] = retry_metrics("2024-01-02")
    assert metric["metric_value"] == 1.0
    assert metric["context"]["original_error_type"] == original["error_type"]
    assert metric["context"]["original_error_message"] == original["error_message"]
    assert metric["context"]["outcome"] == "succeeded"


def test_clean_stage_downloads_the_whole_day_again(terminal, dirs):
    temp_dir, _ = dirs
    sim = terminal()
    log_failure("2024-01-02")
    stage = layout.stage_dir(temp_dir, "2024-01-02")
    stage.mkdir(parents=True)
    (stage / "expirations.ndjson").write_text('{"date":"2024-01-02","root":"SPXW","expiration":"2024-01-03"}\n')
    (stage / "SPXW-2024-01-03.ndjson").write_text("")            # "complete", but --clean-stage drops it
    result, _ = retry_cmd("2024-01-02", "--clean-stage")
    assert result.returncode == 0, result.stderr
    assert sim.stats()["requests"]["/v3/option/list/contracts/quote"]
    assert greeks_requests(sim) == len({(r["root"], r["expiration"]) for r in sim.oracle("2024-01-02")})


def test_corrupt_sealed_file_is_quarantined_and_rebuilt(terminal, dirs, tmp_path):
    _, out_dir = dirs
    terminal()
    sealed = seal_day(out_dir, "2024-01-02", tmp_path)
    log_success("2024-01-02", sealed)
    flip_byte(sealed["path"])
    result, rows = retry_cmd("2024-01-02")
    assert result.returncode == 0, result.stderr
    assert rows[0]["reason"] == "corrupt" and rows[0]["outcome"] == "succeeded"
    quarantined = [p.name for p in layout.final_path(out_dir, "2024-01-02").parent.iterdir()
                   if artifacts.QUARANTINE_MARK in p.name]
    assert len(quarantined) == 2 and any(name.startswith("spx-options-2024-01-02.parquet.sha256") for name in quarantined)
    assert spx("spx-data", "verify", "2024-01-02").returncode == 0


def test_all_failed_since_date_in_parallel(terminal):
    terminal()
    for day in ("2024-01-02", "2024-01-03", "2024-01-04"):
        log_failure(day)
    result, rows = retry_cmd("--all-failed", "--since-date", "2024-01-03", "--parallel", "2")
    assert result.returncode == 0, result.stderr
    assert [(r["date"], r["outcome"]) for r in rows] == [("2024-01-03", "succeeded"), ("2024-01-04", "succeeded")]
    assert row_of("2024-01-02")["status"] == "failed"
    assert "2 succeeded" in result.stderr


def test_force_past_the_limit_asks_on_the_terminal(terminal):
    terminal()
    log_failure("2024-01-02", attempts=4)                       # retry_count 3 = processing.retryLimit
    answer_no = run_on_tty(["spx-data", "retry", "--force", "2024-01-02"], "n\n")
    assert answer_no["code"] == 1 and "past processing.retryLimit" in answer_no["output"]
    assert row_of("2024-01-02")["retry_count"] == 3
    answer_yes = run_on_tty(["spx-data", "retry", "--force", "2024-01-02"], "y\n")
    assert answer_yes["code"] == 0, answer_yes["output"]
    assert row_of("2024-01-02")["status"] == "success"
    assert {e["resolution_method"] for e in logclient.query("errors", date="2024-01-02")} == {"retry --force"}


def test_interrupting_a_batch_stops_it_cleanly(terminal, dirs):
    temp_dir, _ = dirs
    terminal(latency_ms=300)
    for day in ("2024-01-02", "2024-01-03"):
        log_failure(day)
    proc = subprocess.Popen(["spx-data", "retry", "--all-failed", "--parallel", "1", "--format", "ndjson"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lock = layout.lock_path(temp_dir, "2024-01-02")
    deadline = time.monotonic() + 60
    while not lock.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    outcomes = {r["date"]: r["outcome"] for r in map(json.loads, out.splitlines())}
    assert outcomes == {"2024-01-02": "interrupted", "2024-01-03": "not_started"}
    assert (row_of("2024-01-02")["status"], row_of("2024-01-02")["error_type"]) == ("failed", "Interrupted")
    assert row_of("2024-01-03")["retry_count"] == 0                 # never started: no retry used up
    assert "1 interrupted, 1 not started" in err


# -- refusals: nothing runs -----------------------------------------------------------------
def test_limit_holds_a_named_date_back(terminal):
    terminal()
    log_failure("2024-01-02", attempts=4)
    result, _ = retry_cmd("2024-01-02")
    assert result.returncode == 1
    assert "retried 3 times (processing.retryLimit 3)" in result.stderr and "--force" in result.stderr
    assert row_of("2024-01-02")["retry_count"] == 3


def test_force_without_a_terminal_needs_yes(terminal):
    terminal()
    log_failure("2024-01-02", attempts=4)
    result, _ = retry_cmd("2024-01-02", "--force")
    assert result.returncode == 2
    assert "pass --yes" in result.stderr
    assert row_of("2024-01-02")["retry_count"] == 3


def test_last_n_picks_the_most_recent_failures_and_batches_report_held_back_dates(terminal):
    terminal()
    log_failure("2024-01-04", attempts=4)     # failed first ...
    log_failure("2024-01-02", attempts=4)     # ... failed last: the latest failure
    result, rows = retry_cmd("--last-n", "1")
    assert [(r["date"], r["outcome"]) for r in rows] == [("2024-01-02", "held_back")]
    assert result.returncode == 1
    result, rows = retry_cmd("--all-failed")
    assert [(r["date"], r["outcome"]) for r in rows] == [("2024-01-02", "held_back"), ("2024-01-04", "held_back")]
    assert "held back by the retry limit: 2024-01-02 2024-01-04" in result.stderr


def test_unreachable_terminal_retries_nothing(monkeypatch):
    monkeypatch.setenv("SPX_DATA_THETADATA_BASEURL", closed_port_url())
    log_failure("2024-01-02")
    result, _ = retry_cmd("2024-01-02")
    assert result.returncode == 4
    assert "nothing retried" in result.stderr
    assert row_of("2024-01-02")["retry_count"] == 0 and row_of("2024-01-02")["status"] == "failed"


def test_date_not_in_the_log_is_bad_usage():
    result, _ = retry_cmd("2024-01-02")
    assert result.returncode == 2
    assert "spx-data process 2024-01-02" in result.stderr


def test_sealed_and_valid_date_has_nothing_to_retry(dirs, tmp_path):
    _, out_dir = dirs
    log_success("2024-01-02", seal_day(out_dir, "2024-01-02", tmp_path))
    result, rows = retry_cmd("2024-01-02")
    assert result.returncode == 0 and rows == []
    assert "nothing to retry" in result.stderr


def test_a_date_a_live_run_holds_is_not_touched(dirs):
    temp_dir, _ = dirs
    log_failure("2024-01-02")
    stage = layout.stage_dir(temp_dir, "2024-01-02")
    stage.mkdir(parents=True)
    (stage / "x.part").write_text("in use")
    with DayLock(temp_dir, "2024-01-02") as lock:
        assert lock.acquire()
        result, _ = retry_cmd("2024-01-02")
    assert result.returncode == 1
    assert f"pid {os.getpid()}" in result.stderr
    assert (stage / "x.part").exists()


def test_no_failed_dates():
    result, rows = retry_cmd("--all-failed")
    assert result.returncode == 0 and rows == []
    assert "no failed dates" in result.stderr


@pytest.mark.parametrize("argv", [["--last-n", "0"], ["--last-n", "x"], ["2024-01-02", "--all-failed"],
                                  ["2024-13-01"], ["--all-failed", "--parallel", "0"]])
def test_bad_usage(argv):
    result, _ = retry_cmd(*argv)
    assert result.returncode == 2


# -- the library ----------------------------------------------------------------------------
def test_died_runs_count_as_failed_but_live_ones_do_not(dirs):
    temp_dir, _ = dirs
    rows = [{"date": "2024-01-02", "status": "processing"}, {"date": "2024-01-03", "status": "processing"},
            {"date": "2024-01-04", "status": "success"}, {"date": "2024-01-05", "status": "failed"}]
    with DayLock(temp_dir, "2024-01-03") as lock:
        assert lock.acquire()
        chosen = retry.select_failed(rows, temp_dir)
    assert [(r["date"], r["retry_reason"]) for r in chosen] == [("2024-01-02", "died"), ("2024-01-05", "failed")]


def test_cleaning_keeps_what_a_re_run_can_resume(dirs):
    temp_dir, out_dir = dirs
    stage = layout.stage_dir(temp_dir, "2024-01-02")
    stage.mkdir(parents=True)
    keep = ["expirations.ndjson", "SPXW-2024-01-03.ndjson", "SPX-2024-01-19.ndjson"]
    drop = ["SPXW-2024-01-05.ndjson.part", "day.parquet", "rejects.ndjson", "spx-fetch-abc.err"]
    for name in keep + drop:
        (stage / name).write_text("x")
    retry.clean_previous_attempt("2024-01-02", temp_dir, out_dir)
    assert sorted(p.name for p in stage.iterdir()) == sorted(keep)
    retry.clean_previous_attempt("2024-01-02", temp_dir, out_dir, clean_stage=True)
    assert not stage.exists()


# -- a pseudo-terminal, so that the command has a /dev/tty to ask on -------------------------
def run_on_tty(argv, answer, timeout=120):
    master, slave = pty.openpty()

    def controlling_tty():
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)

    proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, start_new_session=True,
                            preexec_fn=controlling_tty)
    os.close(slave)
    output, answered = b"", False
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.1)
        if ready:
            try:
                chunk = os.read(master, 4096)
            except OSError:   # EIO: every slave end closed, the command is done
                break
            if not chunk:
                break
            output += chunk
            if not answered and b"[y/N]" in output:
                os.write(master, answer.encode())
                answered = True
        elif proc.poll() is not None:
            break
    os.close(master)
    return {"code": proc.wait(timeout=timeout), "output": output.decode(errors="replace")}
