"""spx-data health: each check passing and failing for real, with its fix."""
import json
import os

import pytest

from spx_data import logclient
from test_ops_status import closed_port_url
from test_ops_support import spx


@pytest.fixture
def healthy(spx_env, sim):
    """Everything in order: a start date, the simulator as the terminal."""
    return {"SPX_DATA_PROCESSING_STARTDATE": "2024-01-02", "SPX_DATA_THETADATA_BASEURL": sim.base_url}


def health(env=None, *argv):
    result = spx("spx-data", "health", "--format", "ndjson", *argv, env=env)
    checks = [json.loads(line) for line in result.stdout.splitlines()]
    return result, {c["check"]: c for c in checks}, checks


def failed(checks):
    return sorted(c["check"] for c in checks if not c["ok"])


def test_all_checks_pass(healthy):
    result, by_name, checks = health(healthy)
    assert result.returncode == 0, result.stdout
    assert [c["check"] for c in checks] == ["configuration", "output directory", "temp directory", "disk space",
                                            "database", "terminal", "api version"]
    assert all(c["ok"] and c["fix"] is None for c in checks)
    assert "CONNECTED" in by_name["terminal"]["detail"]
    assert by_name["api version"]["detail"].startswith("v3")


def test_text_output_is_one_line_per_check_and_a_fix_under_each_failure(healthy):
    env = dict(healthy, SPX_DATA_THETADATA_BASEURL=closed_port_url())
    result = spx("spx-data", "health", env=env)
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    status_words = [line.split()[0] for line in lines if not line.lstrip().startswith("fix:")]
    assert status_words == ["ok", "ok", "ok", "ok", "ok", "FAIL", "FAIL"]
    fixes = [line.strip() for line in lines if line.lstrip().startswith("fix:")]
    assert len(fixes) == 2 and "spx-sim" in fixes[0]


def test_terminal_down(healthy):
    result, by_name, checks = health(dict(healthy, SPX_DATA_THETADATA_BASEURL=closed_port_url()))
    assert result.returncode == 1
    assert failed(checks) == ["api version", "terminal"]
    assert "unreachable" in by_name["terminal"]["detail"]
    assert "thetadata.baseUrl" in by_name["terminal"]["fix"]


def test_terminal_not_connected_to_thetadata(healthy, sim_factory):
    starting = sim_factory(starting_seconds=60)
    result, by_name, checks = health(dict(healthy, SPX_DATA_THETADATA_BASEURL=starting.base_url))
    assert failed(checks) == ["terminal"]
    assert "DISCONNECTED" in by_name["terminal"]["detail"]
    assert "wait" in by_name["terminal"]["fix"]


def test_configured_api_version_the_terminal_does_not_speak(healthy, sim_factory):
    v3_only = sim_factory(v3_only=True)
    env = dict(healthy, SPX_DATA_THETADATA_BASEURL=v3_only.base_url, SPX_DATA_THETADATA_APIVERSION="v2")
    result, by_name, checks = health(env)
    assert failed(checks) == ["api version"]
    assert "configured v2" in by_name["api version"]["detail"]
    assert "thetadata.apiVersion auto" in by_name["api version"]["fix"]


def test_not_enough_disk_for_the_next_day(healthy):
    # The next day is estimated from the largest recent day: one of ten petabytes fills any disk.
    logclient.record([{"event": "started", "date": "2024-01-02"},
                      {"event": "succeeded", "date": "2024-01-02", "record_count": 1, "expiration_count": 1,
                       "file_size_bytes": 10 ** 16, "checksum": "ab" * 32, "temp_file_size_bytes": 10 ** 16}])
    result, by_name, checks = health(healthy)
    assert result.returncode == 1
    assert failed(checks) == ["disk space"]
    assert "needed" in by_name["disk space"]["detail"] and "free" in by_name["disk space"]["detail"]
    assert "free space" in by_name["disk space"]["fix"]


def test_corrupt_database(healthy, spx_env):
    db = spx_env["SPX_DATA_DATABASE_PATH"]
    os.makedirs(os.path.dirname(db))
    with open(db, "wb") as handle:
        handle.write(b"garbage, not SQLite" * 500)
    result, by_name, checks = health(healthy)
    assert result.returncode == 1
    assert failed(checks) == ["configuration", "database"]
    assert "not an SQLite database" in by_name["database"]["detail"]
    assert "backup" in by_name["database"]["fix"]
    assert "stored values unreadable" in by_name["configuration"]["detail"]


def test_database_not_created_yet_is_fine(healthy, spx_env):
    _, by_name, _ = health(healthy)
    assert by_name["database"]["ok"] and "not created yet" in by_name["database"]["detail"]
    assert not os.path.exists(spx_env["SPX_DATA_DATABASE_PATH"])


def test_output_directory_that_cannot_be_created(healthy, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    result, by_name, checks = health(dict(healthy, SPX_DATA_PROCESSING_OUTPUTDIRECTORY=str(blocker / "parquet")))
    assert result.returncode == 1
    assert "output directory" in failed(checks)
    assert "processing.outputDirectory" in by_name["output directory"]["fix"]


def test_configuration_problems_are_a_failed_check_not_a_crash(healthy):
    env = dict(healthy, SPX_DATA_THETADATA_MAXCONCURRENTREQUESTS="many", SPX_DATA_PROCESSING_STARTDATE="")
    result, by_name, checks = health(env)
    assert result.returncode == 1
    assert failed(checks) == ["configuration"]
    detail = by_name["configuration"]["detail"]
    assert "SPX_DATA_THETADATA_MAXCONCURRENTREQUESTS" in detail and "processing.startDate is not set" in detail
    assert "spx-data config set" in by_name["configuration"]["fix"]


def test_json_is_an_array_of_checks(healthy):
    result = spx("spx-data", "health", "--format", "json", env=healthy)
    checks = json.loads(result.stdout)
    assert {c["check"] for c in checks} >= {"terminal", "database"} and all(c["ok"] for c in checks)
