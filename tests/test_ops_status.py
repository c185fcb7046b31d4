"""spx-data status: a snapshot from the real log, real locks, gap analysis, disks and a real
(simulated) terminal."""
import json
import os
import socket
import subprocess
import sys

import pytest

from spx_data import logclient
from spx_data.daylock import DayLock
from test_ops_support import log_failure, log_success, seal_day, spx


def closed_port_url():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}"


def status(*argv, env=None):
    result = spx("spx-data", "status", "--format", "json", *argv, env=env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_fresh_data_directory_with_the_terminal_down(spx_env):
    url = closed_port_url()
    snap = status("--base-url", url)
    assert (snap["processed"], snap["failed"], snap["in_progress"], snap["last_activity"]) == (0, 0, [], None)
    assert snap["gaps"] is None and "processing.startDate" in snap["gaps_note"]
    assert snap["database"]["exists"] is False and snap["database"]["error"] is None
    assert snap["terminal"] == {"url": url, "reachable": False, "mdds_status": None, "api_version": None,
                                "error": snap["terminal"]["error"]}
    assert "Theta Terminal running" in snap["terminal"]["error"]
    for directory, env in (("output_dir", "SPX_DATA_PROCESSING_OUTPUTDIRECTORY"),
                           ("temp_dir", "SPX_DATA_PROCESSING_TEMPDIRECTORY")):
        assert snap[directory]["path"] == spx_env[env]
        assert snap[directory]["free_bytes"] > 0


def test_counts_gaps_and_terminal_from_a_used_data_directory(spx_env, sim, tmp_path):
    out_dir = spx_env["SPX_DATA_PROCESSING_OUTPUTDIRECTORY"]
    for day in ("2024-01-02", "2024-01-03"):
        log_success(day, seal_day(out_dir, day, tmp_path))
    log_failure("2024-01-04")
    env = {"SPX_DATA_PROCESSING_STARTDATE": "2024-01-02", "SPX_DATA_THETADATA_BASEURL": sim.base_url}
    snap = status(env=env)
    assert (snap["processed"], snap["failed"]) == (2, 1)
    assert snap["last_activity"] is not None
    gaps = spx("spx-gaps", env=env)
    assert snap["gaps"] == len(gaps.stdout.split()) and snap["gaps"] > 1
    assert snap["database"]["exists"] and snap["database"]["integrity"] == "ok"
    assert snap["database"]["unresolved_errors"] == 1
    assert snap["terminal"] == {"url": sim.base_url, "reachable": True, "mdds_status": "CONNECTED",
                                "api_version": "v3", "error": None}


def test_a_run_in_progress_shows_its_pid_and_what_it_logged_so_far(spx_env):
    temp_dir = spx_env["SPX_DATA_PROCESSING_TEMPDIRECTORY"]
    logclient.record([{"event": "started", "date": "2024-01-02"},
                      {"event": "expiration_done", "date": "2024-01-02", "root": "SPXW", "expiration": "2024-01-03",
                       "rows": 1170, "requests": 1},
                      {"event": "expiration_done", "date": "2024-01-02", "root": "SPXW", "expiration": "2024-01-05",
                       "rows": 2340, "requests": 2},
                      {"event": "started", "date": "2024-01-03"}])        # nobody holds it: the run died
    with DayLock(temp_dir, "2024-01-02") as lock:
        assert lock.acquire()
        snap = status("--base-url", closed_port_url())
        table = spx("spx-data", "status", "--base-url", closed_port_url()).stdout
    assert snap["in_progress"] == [{"date": "2024-01-02", "pid": os.getpid(), "expirations": 2, "records": 3510,
                                    "started_at": snap["in_progress"][0]["started_at"]}]
    assert snap["stale"] == ["2024-01-03"]
    in_progress = next(line for line in table.splitlines() if line.startswith("in_progress"))
    assert f"pid {os.getpid()}" in in_progress and "3,510 rows" in in_progress


def test_table_has_one_line_per_fact(sim):
    result = spx("spx-data", "status", "--base-url", sim.base_url)
    keys = [line.split()[0] for line in result.stdout.splitlines()[1:]]
    assert keys == ["last_activity", "processed", "failed", "in_progress", "stale", "gaps", "output_dir", "temp_dir",
                    "database", "terminal"]
    assert "CONNECTED, api v3" in result.stdout


def test_terminal_still_starting_is_shown_as_such(sim_factory):
    starting = sim_factory(starting_seconds=60)
    snap = status("--base-url", starting.base_url)
    assert snap["terminal"]["reachable"] is True
    assert snap["terminal"]["mdds_status"] == "DISCONNECTED"


def test_unreadable_database_is_reported_and_the_rest_still_shown(spx_env):
    db = spx_env["SPX_DATA_DATABASE_PATH"]
    os.makedirs(os.path.dirname(db))
    with open(db, "wb") as handle:
        handle.write(b"this is not an SQLite database at all" * 100)
    snap = status("--base-url", closed_port_url())
    assert "not an SQLite database" in snap["database"]["error"]
    assert snap["output_dir"]["free_bytes"] > 0


@pytest.mark.parametrize("argv", [["--format", "yaml"], ["--verbose"]])
def test_bad_usage(argv):
    result = spx("spx-data", "status", *argv)
    assert result.returncode == 2


def test_probing_the_terminal_does_not_load_pyarrow(sim):
    # pyarrow takes about 0.4 s to import; status and health would spend most of their time on it.
    code = ("import sys; from spx_data.ops.terminal import probe; "
            f"found = probe({{'thetadata.baseUrl': {sim.base_url!r}}}); "
            "print(found['api_version'], 'pyarrow' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.split() == ["v3", "False"]
