"""bench/probe.py: every spx-* process started through the shims reports its own peak memory
and CPU time, children included, and none inherits its parent's size."""
import re
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent.parent / "bench"
sys.path.insert(0, str(BENCH))

import probe  # noqa: E402


def own_rss_mb():
    return int(re.search(r"VmRSS:\s+(\d+)", Path("/proc/self/status").read_text()).group(1)) / 1024


def test_a_command_and_the_commands_it_starts_report_themselves(tmp_path, monkeypatch):
    shims = probe.make_shims(str(tmp_path / "bin"))
    log = tmp_path / "probe.ndjson"
    monkeypatch.setenv(probe.LOG_ENV, str(log))
    ballast = bytearray(300 << 20)       # a large parent: its children must not look large
    ballast[::4096] = b"x" * len(ballast[::4096])
    subprocess.run([str(Path(shims) / "spx-data"), "config", "get"], check=True, capture_output=True)
    reports = probe.read_log(log)
    tools = {r["tool"] for r in reports}
    assert "spx-data" in tools and "spx-log" in tools          # the child ran through the shims too
    for report in reports:
        assert 0 < report["rss_mb"] < own_rss_mb() / 2, report
        assert report["user_s"] >= 0 and report["sys_s"] >= 0 and report["wall_s"] > 0


def test_any_script_can_be_measured(tmp_path, monkeypatch):
    script = tmp_path / "hello.py"
    script.write_text("import sys; print('hello', *sys.argv[1:])\n")
    log = tmp_path / "probe.ndjson"
    monkeypatch.setenv(probe.LOG_ENV, str(log))
    out = subprocess.run([sys.executable, str(BENCH / "probe.py"), str(script), "a", "b"], check=True,
                         capture_output=True, text=True).stdout
    assert out == "hello a b\n"
    [report] = probe.read_log(log)
    assert report["tool"] == "hello.py" and report["argv"] == ["a", "b"]
