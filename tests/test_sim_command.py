"""The spx-sim command line: --oracle, --count, flag validation, start-up failures."""
import json
import signal
import socket
import subprocess
import sys
import time

from fixtures.sim import SPX_SIM
from spx_data.sim import oracle


def spx_sim(*argv):
    return subprocess.run([sys.executable, str(SPX_SIM), *argv], capture_output=True, text=True, timeout=60)


def test_oracle_prints_the_served_rows_as_design_tick_rows():
    done = spx_sim("--oracle", "2024-01-02", "--preset", "tiny", "--seed", "7")
    assert done.returncode == 0
    rows = [json.loads(line) for line in done.stdout.splitlines()]
    assert rows == list(oracle.ticks("2024-01-02", seed=7, preset="tiny"))
    assert list(rows[0]) == ["date", "root", "expiration", "strike", "right", "ms_of_day", "bid", "ask", "delta",
                             "theta", "vega", "rho", "epsilon", "lambda", "implied_vol", "iv_error", "ms_of_day2",
                             "underlying_price"]
    assert isinstance(rows[0]["strike"], float) and rows[0]["right"] in ("C", "P")


def test_oracle_interval_and_a_day_without_data():
    five = spx_sim("--oracle", "2024-01-02", "--preset", "tiny", "--interval-ms", "300000").stdout.splitlines()
    assert len(five) == 15600 // 5
    weekend = spx_sim("--oracle", "2024-01-06", "--preset", "tiny")
    assert (weekend.returncode, weekend.stdout) == (0, "")


def test_count_reports_expirations_contracts_and_rows():
    done = spx_sim("--count", "2024-01-02", "--preset", "small")
    assert done.returncode == 0
    counted = json.loads(done.stdout)
    assert counted == oracle.count("2024-01-02", preset="small")
    assert counted["rows"] == counted["contracts"] * 390 and counted["expirations"] == 10


def test_help_lists_the_flags():
    done = spx_sim("--help")
    assert done.returncode == 0
    for flag in ("--port-file", "--tick-limit", "--v3-only", "--p429", "--truncate", "--reset", "--latency-ms",
                 "--bandwidth", "--max-in-flight", "--die-after", "--starting-seconds", "--no-data",
                 "--large-over", "--oracle", "--count"):
        assert flag in done.stdout


def test_bad_flags_exit_2_with_one_line():
    for argv in (["--preset", "huge"], ["--p429", "2"], ["--p474", "x"], ["--no-data", "SPXW-2024-01-05"],
                 ["--no-data", "QQQ:2024-01-05"], ["--oracle", "2024-02-30"], ["--port", "-1"],
                 ["--p429", "0.6", "--p474", "0.6"], ["--max-in-flight", "0"], ["--frobnicate"]):
        done = spx_sim(*argv)
        assert done.returncode == 2, argv
        assert done.stderr.strip() and "Traceback" not in done.stderr


def test_a_busy_port_exits_1():
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        done = spx_sim("--port", str(busy.getsockname()[1]), "--preset", "tiny")
    assert done.returncode == 1
    assert "cannot listen on 127.0.0.1" in done.stderr and len(done.stderr.strip().splitlines()) == 1


def test_sigterm_stops_the_server(tmp_path):
    port_file = tmp_path / "port"
    proc = subprocess.Popen([sys.executable, str(SPX_SIM), "--port", "0", "--port-file", str(port_file),
                             "--preset", "tiny"], stderr=subprocess.PIPE, text=True)
    try:
        while not (port_file.exists() and port_file.read_text().strip()):
            assert proc.poll() is None, proc.stderr.read()
            time.sleep(0.02)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 143
    finally:
        if proc.poll() is None:
            proc.kill()
    assert "interrupted" in proc.stderr.read()
