"""Many trading days at once: `spx-data process` children, at most N at a time.

Each child owns its day (lock, stage, log); the machine-wide request slots keep the terminal's
cap whatever N is. One failed day never stops the others. Ctrl-C or `spx-data stop` (which
SIGTERMs the children) stops launching new days, lets running ones log `Interrupted`, and
ends with the summary; completed days stay sealed and interrupted ones resume from their stage.
"""
import os
import selectors
import subprocess
import sys
import time

from . import ndjson
from .errors import Interrupted, SchemaValidationError
from .toolpath import tool


class BatchProgress:
    def __init__(self, total, stream=None, quiet=False):
        self.total = total
        self.stream = stream or sys.stderr
        self.quiet = quiet
        self.started = time.monotonic()
        self.finished = {}
        self.rows = 0
        self.expirations = {}

    def event(self, record):
        if record.get("event") == "expiration_done":
            self.rows += int(record.get("rows") or 0)

    def day_finished(self, day, outcome):
        self.finished[day] = outcome
        if not self.quiet:
            print(self.line(f"{day} {outcome}"), file=self.stream, flush=True)

    def line(self, prefix):
        done = len(self.finished)
        failed = sum(1 for o in self.finished.values() if o == "failed")
        elapsed = time.monotonic() - self.started
        eta = "?" if not done else f"{elapsed / done * (self.total - done) / 60:.1f} min"
        return (f"[{done}/{self.total}] {prefix:<24} failed {failed}  {self.rows:,} rows  "
                f"{self.rows / max(elapsed, 1e-9):,.0f} rows/s  ETA {eta}")


def _outcome(code, last_event):
    if code == 0:
        kind = (last_event or {}).get("event")
        if kind == "succeeded" and (last_event or {}).get("error_type") == "NoData":
            return "no_data"
        return "succeeded" if kind == "succeeded" else "skipped"
    if code in (130, 143, -2, -15):
        return "interrupted"
    return "failed"


class _Child:
    """One `spx-data process` child and the partial line of its event output."""

    def __init__(self, day, args):
        self.day = day
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE)
        self.buffer = b""
        self.last_event = None

    def feed(self, chunk):
        self.buffer += chunk
        *lines, self.buffer = self.buffer.split(b"\n")
        records = []
        for line in lines:
            try:
                records.append(ndjson.parse_line(line.decode(errors="replace"), source=f"spx-data process {self.day}"))
            except SchemaValidationError:
                pass  # events only feed progress; the child's exit status is what counts
        return records


def run_dates(days, parallel=1, force=False, quiet=False):
    """Process DAYS (ISO strings) with at most PARALLEL children; returns {outcome: [days]}."""
    progress = BatchProgress(len(days), quiet=quiet)
    pending = list(days)
    results = {}
    stopping = False
    selector = selectors.DefaultSelector()
    base = [tool("data"), "process", "--quiet", "--events", *(["--force"] if force else [])]

    def reap(child):
        selector.unregister(child.proc.stdout)
        child.proc.stdout.close()
        outcome = _outcome(child.proc.wait(), child.last_event)
        results.setdefault(outcome, []).append(child.day)
        progress.day_finished(child.day, outcome)
        return outcome

    try:
        while (pending and not stopping) or selector.get_map():
            while pending and len(selector.get_map()) < parallel and not stopping:
                day = pending.pop(0)
                child = _Child(day, [*base, day])
                selector.register(child.proc.stdout, selectors.EVENT_READ, child)
            for key, _ in selector.select():
                child = key.data
                chunk = os.read(key.fd, 65536)
                if not chunk:
                    if reap(child) == "interrupted":
                        stopping = True  # `spx-data stop` reached a child: stop the whole batch
                    continue
                for record in child.feed(chunk):
                    child.last_event = record
                    progress.event(record)
    except Interrupted as exc:
        children = [key.data for key in selector.get_map().values()]
        for child in children:
            if child.proc.poll() is None:
                child.proc.terminate()
        for child in children:
            # Read to the end first: a child still logging its Interrupted must not hit a closed pipe.
            for record in child.feed(child.proc.stdout.read()):
                child.last_event = record
            reap(child)
        if pending:
            results["not_started"] = pending
        exc.results = results  # the caller still prints the summary
        raise
    if pending:
        results["not_started"] = pending
    return results


def summary(results):
    order = ("succeeded", "skipped", "no_data", "failed", "interrupted", "not_started")
    parts = [f"{len(results[k])} {k.replace('_', ' ')}" for k in order if results.get(k)]
    failed = results.get("failed", [])
    return ", ".join(parts) + (f" (failed: {' '.join(sorted(failed))})" if failed else "")


def exit_code(results):
    return 1 if results.get("failed") or results.get("interrupted") else 0
