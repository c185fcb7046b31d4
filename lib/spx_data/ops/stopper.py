"""`spx-data stop`: SIGTERM every process that holds a day lock of this data directory and wait
until each has let go of its locks.

Every run that works on a day holds {tempDir}/locks/DATE.lock (spx_data.daylock), so the lock
files name the processes to stop. A stopped run turns SIGTERM into Interrupted, terminates its
children, logs `failed` with error type Interrupted and keeps its stage (a re-run resumes). Batch
parents (process-range, process-gaps, retry) hold no lock of their own: they stop launching days
as soon as one of their children reports it was interrupted.

Waiting watches the locks, not the pids: the kernel releases a flock when its owner exits, even
while the process is still a zombie nobody has reaped, and a pid can be reused. A process that
takes a new day lock while we wait (a batch parent launching its next day just before it saw the
interruption) is stopped too.
"""
import os
import signal
import time

from .. import daylock


def holders(temp_dir):
    """{pid: [dates]} of the processes holding day locks now."""
    found = {}
    for day, pid in sorted(daylock.running(temp_dir).items()):
        found.setdefault(pid, []).append(day)
    return found


def stop(temp_dir, timeout=30.0, poll=0.1, clock=time.monotonic, sleep=time.sleep):
    """Stop every lock holder; returns [{pid, dates, outcome}], oldest date first. Outcomes:
    stopped; gone (it exited before the signal reached it); running (still holding a lock after
    TIMEOUT s); not_signalled (another user's process, or a lock file without a readable pid)."""
    report = {}
    deadline = clock() + timeout
    while True:
        current = holders(temp_dir)
        for pid, days in current.items():
            entry = report.setdefault(pid, {"pid": pid, "dates": [], "outcome": None})
            entry["dates"] = sorted(set(entry["dates"]) | set(days))
            if entry["outcome"] is None:
                entry["outcome"] = _terminate(pid)
        waiting = [pid for pid in current if report[pid]["outcome"] == "signalled"]
        if not waiting or clock() >= deadline:
            break
        sleep(poll)
    for entry in report.values():
        if entry["outcome"] == "signalled":
            entry["outcome"] = "running" if entry["pid"] in current else "stopped"
    return sorted(report.values(), key=lambda e: e["dates"])


def _terminate(pid):
    if pid <= 1 or pid == os.getpid():
        return "not_signalled"  # an unreadable pid (-1) or ourselves
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return "gone"
    except PermissionError:
        return "not_signalled"  # another user's process
    return "signalled"
