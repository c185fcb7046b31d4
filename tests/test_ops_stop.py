"""spx-data stop against real processes holding real day locks. (The real pipeline being stopped
mid-day, logging Interrupted and resuming, is in tests/bats/ops.bats and test_ops_runs.py.)"""
import json
import subprocess
import sys
from pathlib import Path

import pytest

from spx_data import daylock
from test_ops_support import spx

LIB = str(Path(__file__).resolve().parent.parent / "lib")
HOLDER = """
import signal, sys, time
sys.path.insert(0, sys.argv[1])
from spx_data.daylock import DayLock
locks = [DayLock(sys.argv[2], day) for day in sys.argv[4:]]
assert all(lock.acquire() for lock in locks)
if sys.argv[3] == "ignore":
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
print("ready", flush=True)
time.sleep(120)
"""


@pytest.fixture
def holders(spx_env):
    started = []

    def start(*days, on_term="die"):
        proc = subprocess.Popen([sys.executable, "-c", HOLDER, LIB, spx_env["SPX_DATA_PROCESSING_TEMPDIRECTORY"],
                                 on_term, *days], stdout=subprocess.PIPE, text=True)
        assert proc.stdout.readline().strip() == "ready"
        started.append(proc)
        return proc
    yield start
    for proc in started:
        proc.kill()
        proc.wait()


def stop(*argv):
    return spx("spx-data", "stop", "--format", "ndjson", *argv)


def test_stops_every_lock_holder_and_waits_for_its_locks(holders, spx_env):
    one = holders("2024-01-02", "2024-01-03")
    two = holders("2024-01-04")
    result = stop()
    assert result.returncode == 0, result.stderr
    report = [json.loads(line) for line in result.stdout.splitlines()]
    assert report == [{"pid": one.pid, "dates": ["2024-01-02", "2024-01-03"], "outcome": "stopped"},
                      {"pid": two.pid, "dates": ["2024-01-04"], "outcome": "stopped"}]
    assert daylock.running(spx_env["SPX_DATA_PROCESSING_TEMPDIRECTORY"]) == {}
    assert one.wait(timeout=5) == -15 and two.wait(timeout=5) == -15


def test_a_process_that_does_not_stop_is_reported_and_fails_the_command(holders):
    stubborn = holders("2024-01-02", on_term="ignore")
    result = stop("--timeout", "0.3")
    assert result.returncode == 1
    assert json.loads(result.stdout) == {"pid": stubborn.pid, "dates": ["2024-01-02"], "outcome": "running"}
    assert f"kill -9 {stubborn.pid}" in result.stderr
    assert stubborn.poll() is None


def test_table_lists_pid_dates_and_outcome(holders):
    proc = holders("2024-01-02")
    result = spx("spx-data", "stop")
    assert result.stdout.splitlines()[0].split() == ["PID", "DATES", "OUTCOME"]
    assert result.stdout.splitlines()[1].split() == [str(proc.pid), "2024-01-02", "stopped"]


def test_nothing_running_is_fine():
    result = stop()
    assert result.returncode == 0
    assert result.stdout == ""
    assert "no spx-data run" in result.stderr


@pytest.mark.parametrize("bad", ["soon", "-1"])
def test_bad_timeout_is_bad_usage(bad):
    result = stop("--timeout", bad)
    assert result.returncode == 2
    assert "--timeout must be a number of seconds" in result.stderr
