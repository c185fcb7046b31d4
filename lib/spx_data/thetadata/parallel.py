"""Fetch many expirations at once: worker threads (the request slots cap what is in flight),
each expiration into its own stage .part file or a private spool, committed only when complete.

Stage mode: DIR/ROOT-YYYY-MM-DD.ndjson, skipped when it already exists (resume); one
expiration_done event per expiration. Stream mode: each finished expiration is copied whole to
the output, so expirations never interleave and a failed one never shows up half.
Retried errors become error events. The first failure, or Ctrl-C in the main thread, cancels the
rest: workers stop at their next request or chunk of a reply, an expiration already complete is
still committed, committed files stay, and the .part files of expirations in progress are removed.
"""
import queue
import shutil
import tempfile
import threading

from .. import staging
from ..errors import filesystem_error
from ..slots import Cancelled
from . import events

_STOP = object()
_LOCK_WAIT_SECONDS = 10.0   # how long the main thread waits for the workers to stop or commit


class Job:
    __slots__ = ("date", "root", "expiration")

    def __init__(self, date, root, expiration):
        self.date, self.root, self.expiration = date, root, expiration

    def fields(self):
        return {"date": self.date.isoformat(), "root": self.root, "expiration": self.expiration.isoformat()}


class FetchRun:
    def __init__(self, client, jobs, emit, stage=None, output=None, workers=4, typed_copy=False):
        """EMIT(event dict) receives every event; STAGE (a directory) or OUTPUT (a binary stream)
        receives the rows; TYPED_COPY: stage files get their typed copy (spx_data.staging)."""
        self.client = client
        self.jobs = jobs
        self.emit = emit
        self.stage = stage
        self.output = output
        self.workers = workers
        self.typed_copy = typed_copy
        self.cancel = client.cancel
        self._commit = threading.Lock()   # commits and copies vs. cancellation
        self._emit_lock = threading.Lock()
        self._parts = set()
        self._cancelled = False
        self._settled = threading.Condition()   # _busy: workers in the middle of an expiration
        self._busy = 0
        if jobs:  # the client's retries become this run's error events
            client.on_retry = events.dated(self._event, jobs[0].date.isoformat())

    def _event(self, event):
        with self._emit_lock:
            self.emit(event)

    def run(self):
        """Fetch every job; raises the first failure (or Interrupted) after cleaning up."""
        pending = []
        for job in self.jobs:
            if self.stage is not None and staging.is_complete(self.stage, job.root, job.expiration):
                self._skipped(job)
            else:
                pending.append(job)
        if not pending:
            return
        self.client.api()  # detect the version once, before any thread needs it
        work, results = queue.Queue(), queue.Queue()
        for job in pending:
            work.put(job)
        threads = [threading.Thread(target=self._worker, args=(work, results), daemon=True)
                   for _ in range(min(self.workers, len(pending)))]
        for thread in threads:
            work.put(_STOP)
            thread.start()
        try:
            for _ in pending:
                failure = results.get()
                if failure is not None:
                    raise failure
        except BaseException:
            self._abort()
            raise

    def _worker(self, work, results):
        while True:
            job = work.get()
            if job is _STOP:
                return
            with self._settled:
                self._busy += 1
            try:
                self._one(job)
                results.put(None)
            except Cancelled:
                return
            except BaseException as exc:  # handed to the main thread, which raises it
                results.put(exc)
                return
            finally:
                with self._settled:
                    self._busy -= 1
                    self._settled.notify_all()

    def _one(self, job):
        # The commit (rename or copy) and its event happen together under one lock, so that an
        # abort never leaves a committed expiration without its event, or an event without it.
        if self.stage is not None:
            with self._commit:  # no new .part file once an abort has collected them
                if self._cancelled:
                    raise Cancelled()
                part = staging.PartFile(self.stage, job.root, job.expiration, job.date if self.typed_copy else None)
                self._parts.add(part)
            try:
                stats = self.client.fetch_expiration(job.date, job.root, job.expiration, part.file, part.add_typed)
                with self._commit:
                    if self._cancelled:
                        raise Cancelled()
                    part.commit()
                    self._parts.discard(part)
                    self._done(job, stats)
            except BaseException as exc:
                with self._commit:
                    self._parts.discard(part)
                part.abandon()
                if isinstance(exc, OSError):   # the network's are ThetaDataErrors: this is the stage's
                    raise filesystem_error(exc, part.path) from None
                raise
        else:
            with tempfile.TemporaryFile() as spool:
                stats = self.client.fetch_expiration(job.date, job.root, job.expiration, spool)
                spool.seek(0)
                with self._commit:
                    if self._cancelled:
                        raise Cancelled()
                    shutil.copyfileobj(spool, self.output, 1 << 20)
                    self.output.flush()
                    self._done(job, stats)

    def _done(self, job, stats):
        self._event({"event": "expiration_done", **job.fields(), "rows": stats.rows, "requests": stats.requests,
                     "bytes": stats.bytes, "empty": stats.rows == 0, "skipped": False, "seconds": stats.seconds,
                     "latency_ms": stats.latency_ms})

    def _skipped(self, job):
        rows = staging.count_rows(staging.final_path(self.stage, job.root, job.expiration))
        self._event({"event": "expiration_done", **job.fields(), "rows": rows, "requests": 0, "bytes": 0,
                     "empty": rows == 0, "skipped": True, "seconds": 0.0, "latency_ms": []})

    def _abort(self):
        """Stop the workers and remove the .part files of unfinished expirations."""
        self.cancel.set()
        # Workers stop at their next request or chunk; one that has its whole expiration (a
        # request slot is given back once a reply is in, so another worker may be the one that
        # failed meanwhile) finishes and commits it. Wait for them, within bounds.
        with self._settled:
            self._settled.wait_for(lambda: self._busy == 0, timeout=_LOCK_WAIT_SECONDS)
        locked = self._commit.acquire(timeout=_LOCK_WAIT_SECONDS)  # let a running copy or rename finish
        try:
            self._cancelled = True
            parts, self._parts = list(self._parts), set()
        finally:
            if locked:
                self._commit.release()
        for part in parts:
            try:
                part.path.unlink()
            except FileNotFoundError:
                pass
