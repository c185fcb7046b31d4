"""`spx-data config` as a user runs it (bin/spx-data dispatches to spx_data.commands.config)."""
import json
import os
import pty
import subprocess

from spx_data import logclient


def spx_config(*args, env=None, stdin=subprocess.DEVNULL):
    return subprocess.run(["spx-data", "config", *args], capture_output=True, text=True, stdin=stdin,
                          env={**os.environ, **(env or {})})


def table(stdout):
    """{key: (value, source)} from the default table output."""
    rows = [line.split() for line in stdout.splitlines()[1:]]
    return {row[0]: (row[1] if len(row) == 3 else "", row[-1]) for row in rows}


def test_get_shows_every_key_with_its_source():
    logclient.config_set("processing.parallelism", "3")
    result = spx_config("get", env={"SPX_DATA_THETADATA_APIVERSION": "v3"})
    assert result.returncode == 0
    assert result.stdout.splitlines()[0].split() == ["KEY", "VALUE", "SOURCE"]
    shown = table(result.stdout)
    assert shown["thetadata.apiVersion"] == ("v3", "environment")
    assert shown["processing.parallelism"] == ("3", "database")
    assert shown["thetadata.maxRetries"] == ("6", "default")
    assert shown["processing.startDate"] == ("", "default")


def test_get_one_key_in_json_and_env_formats():
    as_json = json.loads(spx_config("get", "--format", "json", "processing.roots").stdout)
    assert as_json == [{"key": "processing.roots", "value": ["SPXW", "SPX"], "source": "default"}]
    as_env = spx_config("get", "--format", "env").stdout.splitlines()
    assert "thetadata.baseUrl=http://127.0.0.1:25510" in as_env
    assert len(as_env) == len(table(spx_config("get").stdout))


def test_unknown_key_and_format_exit_2():
    for args in (["get", "thetadata.url"], ["get", "--format", "yaml"], ["set", "nope", "1"]):
        result = spx_config(*args)
        assert result.returncode == 2, args
        assert len(result.stderr.splitlines()) == 1 and "Traceback" not in result.stderr


def test_set_stores_validated_values_and_keeps_history():
    result = spx_config("set", "processing.startDate", "2024-01-02")
    assert result.returncode == 0
    assert table(spx_config("get", "processing.startDate").stdout)["processing.startDate"] == \
        ("2024-01-02", "database")
    spx_config("set", "processing.startDate", "2023-06-01")
    history = json.loads(spx_config("get", "--history", "--format", "json", "processing.startDate").stdout)
    assert [(h["old_value"], h["new_value"]) for h in history] == [("", "2024-01-02"), ("2024-01-02", "2023-06-01")]
    assert all(h["changed_by"] and h["changed_at"].endswith("Z") for h in history)


def test_set_refuses_bad_values_and_writes_nothing():
    result = spx_config("set", "thetadata.maxConcurrentRequests", "100")
    assert result.returncode == 2
    assert "100 is outside 1..24" in result.stderr and "whole number from 1 to 24" in result.stderr
    negative = spx_config("set", "--", "thetadata.maxRetries", "-1")
    assert negative.returncode == 2 and "-1 is outside 0..20" in negative.stderr
    stored = spx_config("set", "database.path", "/tmp/x.db")
    assert stored.returncode == 2 and "SPX_DATA_DATABASE_PATH" in stored.stderr
    assert logclient.query("config-history") == []


def test_set_warns_when_the_environment_overrides_the_stored_value():
    result = spx_config("set", "thetadata.apiVersion", "v2", env={"SPX_DATA_THETADATA_APIVERSION": "v3"})
    assert result.returncode == 0
    assert "SPX_DATA_THETADATA_APIVERSION is set and overrides the stored value (v3)" in result.stderr


def test_validate_lists_every_problem_and_exits_1(tmp_path):
    (tmp_path / "file").write_text("x")
    result = spx_config("validate", env={"SPX_DATA_PROCESSING_TEMPDIRECTORY": str(tmp_path / "file" / "t"),
                                         "SPX_DATA_THETADATA_MAXRETRIES": "lots"})
    assert result.returncode == 1
    problems = result.stderr.splitlines()
    assert any("SPX_DATA_THETADATA_MAXRETRIES" in p for p in problems)
    assert any("processing.startDate is not set" in p for p in problems)
    assert any("processing.tempDirectory" in p for p in problems)
    assert problems[-1].endswith("3 problems found")


def test_validate_passes_a_complete_configuration():
    spx_config("set", "processing.startDate", "2024-01-02")
    result = spx_config("validate")
    assert (result.returncode, result.stderr.strip()) == (0, "spx-data config: configuration is valid")


def test_the_db_option_selects_the_database(tmp_path):
    other = str(tmp_path / "other.db")
    assert spx_config("set", "--db", other, "processing.parallelism", "7").returncode == 0
    assert table(spx_config("get", "--db", other).stdout)["processing.parallelism"] == ("7", "database")
    assert table(spx_config("get").stdout)["processing.parallelism"] == ("2", "default")


def test_reset_without_a_terminal_needs_yes():
    spx_config("set", "processing.parallelism", "5")
    refused = spx_config("reset")
    assert refused.returncode == 2 and "pass --yes" in refused.stderr
    assert logclient.config_values() == {"processing.parallelism": "5"}
    done = spx_config("reset", "--yes")
    assert done.returncode == 0 and "1 key changed" in done.stderr
    assert logclient.config_values() == {}
    assert logclient.query("config-history")[-1]["new_value"] == "2"


def run_on_a_terminal(args, answer):
    """Run `spx-data config ARGS` with a pseudo-terminal as its controlling terminal and stdin,
    answer the question, and return (exit status, everything it wrote)."""
    pid, fd = pty.fork()
    if pid == 0:  # the child: the pty is its stdin/stdout/stderr and /dev/tty
        os.execvp("spx-data", ["spx-data", "config", *args])
    output = b""
    while b"[y/N]" not in output:
        output += os.read(fd, 1024)
    os.write(fd, answer.encode() + b"\n")
    while True:
        try:
            chunk = os.read(fd, 1024)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        output += chunk
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), output.decode()


def test_reset_asks_on_the_terminal():
    logclient.config_set("processing.parallelism", "5")
    code, output = run_on_a_terminal(["reset"], "n")
    assert code == 1 and "nothing changed" in output
    assert logclient.config_values() == {"processing.parallelism": "5"}
    code, output = run_on_a_terminal(["reset"], "y")
    assert code == 0 and "1 key changed" in output
    assert logclient.config_values() == {}
