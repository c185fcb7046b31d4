"""Gracefully stop every running spx-data process of this data directory.

Usage:
  spx-data stop [--timeout S] [--format F]
  spx-data stop (-h | --help)

Every run working on a day holds {tempDir}/locks/DATE.lock with its pid. stop sends each holder
SIGTERM and waits until it has released its locks. A stopped run finishes or abandons its current
expiration cleanly, logs `failed` with error type Interrupted and keeps its stage: running the
same command again resumes it. A batch (process-range, process-gaps, retry) stops launching
new days when one of its days is stopped.

Output: one row per process: pid, dates, outcome (stopped; gone: it had already exited;
running: still holding its lock after the timeout; not_signalled: another user's process).

Options:
  --timeout S   seconds to wait for the runs to stop [default: 30]
  --format F    table, json or ndjson [default: table]
  -h --help     show this help

Exit status: 0 every run stopped (or none was running), 1 a run is still running after the
timeout (`kill -9 PID` ends it; its stage is kept and a re-run resumes), 2 bad usage.
"""
from ..cli import run, warn
from ..errors import UsageError

PROG = "spx-data stop"


def _timeout(text):
    try:
        value = float(text)
    except ValueError:
        value = -1
    if not 0 <= value <= 3600:
        raise UsageError(f"--timeout must be a number of seconds from 0 to 3600, not {text!r}")
    return value


def handle(args):
    from .. import config, tables
    from ..ops import stopper
    fmt = tables.check_format(args["--format"], ("table", "json", "ndjson"))
    timeout = _timeout(args["--timeout"])
    report = stopper.stop(config.load()["processing.tempDirectory"], timeout=timeout)
    if not report:
        warn(PROG, "no spx-data run is working on this data directory")
        return 0
    rows = [dict(entry, dates=" ".join(entry["dates"])) for entry in report] if fmt == "table" else report
    tables.render(rows, fmt, columns=["pid", "dates", "outcome"])
    stuck = [e for e in report if e["outcome"] in ("running", "not_signalled")]
    for entry in stuck:
        warn(PROG, f"pid {entry['pid']} ({' '.join(entry['dates'])}) is still running"
                   + (f" after {timeout:g} s; kill -9 {entry['pid']} ends it (its stage is kept)"
                      if entry["outcome"] == "running" else "; it could not be signalled"))
    return 1 if stuck else 0


def main(argv=None):
    run(PROG, __doc__, handle, argv)
