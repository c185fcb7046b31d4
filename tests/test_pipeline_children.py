"""spx_data.pipeline.DayRun's children: a child whose stderr is kept shows it only when it fails
on its own, never when it was stopped because another step failed."""
import datetime as dt
import signal
import subprocess
import sys
import time

import pytest

from spx_data.errors import Interrupted
from spx_data.pipeline import DayRun, StepFailed


@pytest.fixture
def day_run(tmp_path):
    run = DayRun(dt.date(2024, 1, 2), {"processing.outputDirectory": str(tmp_path / "out"),
                                        "processing.tempDirectory": str(tmp_path / "temp")}, log=None)
    run.stage.mkdir(parents=True)
    return run


def test_a_kept_stderr_is_shown_when_the_child_fails_on_its_own(day_run, tmp_path, capsys):
    proc = day_run._spawn("ndjson2parquet", ["-o", str(tmp_path / "x.parquet"), "--date", "2024-02-30"],
                          quiet_unless_failed=True)
    with pytest.raises(StepFailed) as raised:
        day_run._finish("ndjson2parquet", proc)
    assert raised.value.error_type == "DateValidation"
    assert capsys.readouterr().err.startswith("spx-ndjson2parquet: ") and "2024-02-30" in str(raised.value)


def test_a_kept_stderr_stays_hidden_when_the_child_is_stopped(day_run, tmp_path, capsys):
    # --follow with events still to come: it waits on stdin until it is stopped.
    stage_file = day_run.stage / "SPXW-2024-01-05.ndjson"
    proc = day_run._spawn("ndjson2parquet", ["--follow", "-o", str(tmp_path / "x.parquet"), str(stage_file)],
                          stdin=subprocess.PIPE, quiet_unless_failed=True)
    deadline = time.monotonic() + 30
    while not list(tmp_path.glob(".x.parquet.spill-*")):      # it is converting: its handlers are in
        assert time.monotonic() < deadline and proc.poll() is None
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    with pytest.raises(Interrupted):
        day_run._finish("ndjson2parquet", proc)
    assert capsys.readouterr().err == ""
    assert list(tmp_path.glob("x.parquet*")) == []


def test_stopping_children_ends_a_reader_of_our_pipe_that_missed_the_signal(day_run):
    # The converter following the fetch reads the events we pipe to it. One that missed (or lost)
    # the signal must still end, at the end of its input, instead of the two waiting on each other.
    deaf_reader = subprocess.Popen(
        [sys.executable, "-c", "import signal, sys; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
                               "print('ready', flush=True); sys.stdin.read()"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert deaf_reader.stdout.readline() == "ready\n"
    day_run.children.append(deaf_reader)
    day_run.terminate_children()
    assert deaf_reader.returncode == 0           # it ended by itself, not killed after the wait
