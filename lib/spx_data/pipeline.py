"""One trading day through the toolkit (DESIGN §1), as a user could run it by hand:

    spx-expirations DAY            > stage/expirations.ndjson
    spx-fetch --stage stage        < stage/expirations.ndjson   (events on stdout)
    | spx-ndjson2parquet --follow -o stage/day.parquet stage/ROOT-EXPIRATION.ndjson...
    spx-seal stage/day.parquet {outputDir}/YYYY/MM/DD/spx-options-DAY.parquet

with every event sent to spx-log, a lock so one process owns the day, progress on stderr, the
stage kept (resumable) on failure and removed on success. The converter follows the fetch: each
expiration is converted as soon as it is staged (and every one before it), so most of the
conversion happens while the terminal is still answering.
"""
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from contextlib import suppress

from . import layout, ndjson
from .daylock import DayLock
from .errors import EXIT_FAILURE, FileSystemError, Interrupted, ProcessingLockedError, SpxError
from .progress import DayProgress
from .toolpath import tool

OUTCOMES = ("succeeded", "skipped", "no_data", "failed", "locked")


class StepFailed(SpxError):
    """A child command failed; keeps the child's own error type for the log."""

    def __init__(self, step, error_type, message, exit_code=EXIT_FAILURE):
        super().__init__(f"{step}: {message}")
        self._error_type = error_type
        self.exit_code = exit_code

    @property
    def error_type(self):
        return self._error_type


def percentile(values, fraction):
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def dir_size(path):
    total = 0
    for root, _dirs, files in os.walk(path):
        for name in files:
            try:
                total += os.path.getsize(os.path.join(root, name))
            except OSError:
                pass
    return total


def peak_rss_mb():
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return int(max(own, children) / 1024)


class DayRun:
    """Process one trading day. `run()` returns one of OUTCOMES and never raises SpxError
    (failures are logged and returned); Interrupted propagates after logging."""

    def __init__(self, day, cfg, log, force=False, quiet=False, child_env=None):
        self.day = day.isoformat()
        self.cfg = cfg
        self.log = log
        self.force = force
        self.quiet = quiet
        self.child_env = dict(child_env or os.environ)
        self.out_dir = cfg["processing.outputDirectory"]
        self.temp_dir = cfg["processing.tempDirectory"]
        self.final = layout.final_path(self.out_dir, self.day)
        self.stage = layout.stage_dir(self.temp_dir, self.day)
        self.children = []
        self.requests = 0
        self.retries = 0
        self.latencies = []
        self.stage_bytes = 0
        self.expiration_count = 0
        self.record_count = 0
        self.started = None

    # -- children ---------------------------------------------------------------------------
    def _spawn(self, name, args, stdin=None, stdout=subprocess.PIPE, quiet_unless_failed=False):
        """Start spx-NAME. QUIET_UNLESS_FAILED: its stderr is kept, and shown only when it fails on
        its own (a child stopped because another one failed must not read as a second failure)."""
        fd, error_file = tempfile.mkstemp(prefix=f"spx-{name}-", suffix=".err", dir=self.stage)
        os.close(fd)
        env = dict(self.child_env, SPX_DATA_ERROR_FILE=error_file)
        stderr = tempfile.TemporaryFile("w+", dir=self.stage) if quiet_unless_failed else None
        proc = subprocess.Popen([tool(name), *args], stdin=stdin, stdout=stdout, stderr=stderr, env=env, text=True)
        self.children.append(proc)      # first: an interruption from here on must find it
        proc.error_file, proc.kept_stderr = error_file, stderr
        return proc

    def _finish(self, name, proc):
        code = proc.wait()
        self.children.remove(proc)
        try:
            with open(proc.error_file, encoding="utf-8") as handle:
                text = handle.read().strip()
        finally:
            os.unlink(proc.error_file)
        if proc.kept_stderr is not None:
            with proc.kept_stderr:
                if 0 < code < 128:        # its own failure, not a signal or an interruption
                    proc.kept_stderr.seek(0)
                    shutil.copyfileobj(proc.kept_stderr, sys.stderr)
        if code == 0:
            return
        if code < 0 or code in (130, 143):
            raise Interrupted(-code if code < 0 else code - 128)
        report = ndjson.parse_line(text) if text else {}
        raise StepFailed(f"spx-{name}", report.get("error_type", "ChildFailed"),
                         report.get("error_message", f"exited with status {code}"), code)

    def _run_to_file(self, name, args, target, stdin_path=None):
        """Run a child whose stdout is the content of TARGET (written .part, then renamed)."""
        part = target.with_name(target.name + ".part")
        with open(part, "w", encoding="utf-8") as out, \
                (open(stdin_path, encoding="utf-8") if stdin_path else open(os.devnull)) as inp:
            self._finish(name, self._spawn(name, args, stdin=inp, stdout=out))
        os.replace(part, target)

    def _run_for_records(self, name, args, stdin_path=None, on_record=None):
        """Run a child and hand every NDJSON record it prints to ON_RECORD; returns the last one."""
        with (open(stdin_path, encoding="utf-8") if stdin_path else open(os.devnull)) as inp:
            return self._records_of(name, self._spawn(name, args, stdin=inp), on_record)

    def _records_of(self, name, proc, on_record=None):
        """Every NDJSON record the child PROC prints to ON_RECORD, until it ends; the last one."""
        last = None
        for lineno, record in ndjson.read(proc.stdout, f"spx-{name}"):
            last = record
            if on_record:
                on_record(record)
        self._finish(name, proc)
        return last

    def _stage_files(self, expirations):
        with open(expirations, encoding="utf-8") as handle:
            return [str(layout.expiration_file(self.stage, line["root"], line["expiration"]))
                    for _lineno, line in ndjson.read(handle, str(expirations))]

    def _announce(self, converter, event):
        """Pass an expiration_done event on to the converter; one that stopped reading failed."""
        if event.get("event") != "expiration_done":
            return
        try:
            converter.stdin.write(ndjson.dumps(event) + "\n")
            converter.stdin.flush()
        except BrokenPipeError:
            self._finish("ndjson2parquet", converter)       # raises its failure
            raise StepFailed("spx-ndjson2parquet", "ChildFailed", "stopped reading before the fetch ended")

    def terminate_children(self):
        """Stop every child: SIGTERM, except for one reading our pipe (the converter following the
        fetch), which is stopped by the end of its input: it then cleans up and exits by itself,
        where a signal could cut its cleanup short, and it ends even if it missed a signal (else
        both would wait on the other). One still running after 30 s is killed."""
        for proc in list(self.children):
            if proc.stdin is not None:
                with suppress(OSError):
                    proc.stdin.close()
            elif proc.poll() is None:
                proc.terminate()
        for proc in list(self.children):
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()

    # -- the day ----------------------------------------------------------------------------
    def sealed_file(self):
        """seal.check's record of the day's sealed file when it is sound (sidecar included), else None."""
        if not self.final.exists():
            return None
        from .seal import check
        checked = check(self.final)
        return checked if checked["outcome"] == "ok" else None

    def run(self, progress=None):
        lock = DayLock(self.temp_dir, self.day)
        if not lock.acquire():
            from .daylock import holder
            raise ProcessingLockedError(f"{self.day} is already being processed (pid {holder(lock.path)}); not started")
        with lock:
            sealed = None if self.force else self.sealed_file()
            if sealed:
                self._log_sealed_file(sealed)
                self._say(f"{self.day}: already sealed and valid ({self.final}); use --force to rebuild")
                return "skipped"
            progress = progress or DayProgress(self.day, quiet=self.quiet)
            self.started = time.monotonic()
            try:
                self._precheck_disk()
                self.log.send({"event": "started", "date": self.day})
                with progress:
                    outcome = self._steps(progress)
                return outcome
            except Interrupted as exc:
                self.terminate_children()
                self._failed(exc, progress)
                raise
            except (SpxError, OSError) as exc:
                if isinstance(exc, OSError):  # the local filesystem: full, read-only, in the way
                    exc = FileSystemError(f"{exc.filename or self.stage}: {exc.strerror or exc}")
                self.terminate_children()
                self._failed(exc, progress)
                return "failed"

    def _log_sealed_file(self, sealed):
        """A run killed after sealing (or a forced rebuild that failed and left the previous file)
        leaves a log that does not say success: the sound file is the truth, so log it."""
        from . import logclient
        rows = logclient.query("processing", dates=[self.day])
        if rows and rows[0]["status"] == "success":
            return
        import pyarrow.parquet as pq
        table = pq.read_table(self.final, columns=["root", "expiration"])
        self.log.send({"event": "succeeded", "date": self.day, "record_count": sealed["rows"],
                       "expiration_count": len(set(zip(table["root"].to_pylist(), table["expiration"].to_pylist()))),
                       "file_size_bytes": self.final.stat().st_size, "checksum": sealed["sha256"]})

    def _precheck_disk(self):
        from . import diskspace
        stage_bytes, file_bytes, _basis = diskspace.next_day_estimate()
        diskspace.check(self.temp_dir, self.out_dir, stage_bytes, file_bytes)

    def _steps(self, progress):
        self.stage.mkdir(parents=True, exist_ok=True, mode=0o700)
        expirations = layout.expirations_file(self.stage)
        if not expirations.exists():
            progress.stage("listing expirations")
            events = self.stage / "expirations.events.ndjson"
            try:
                self._run_to_file("expirations", ["--events", str(events), self.day], expirations)
            finally:
                self._forward_events(events, progress)
            self.requests += 1
        total = sum(1 for line in open(expirations, encoding="utf-8") if line.strip())
        if total == 0:
            self._succeeded({"record_count": 0, "expiration_count": 0, "error_type": "NoData",
                             "error_message": "the terminal lists no SPX/SPXW contracts for this day"}, progress)
            return "no_data"
        progress.set_total(total)

        t0 = time.monotonic()
        day_file = self.stage / "day.parquet"
        converter = self._spawn("ndjson2parquet", [
            "--follow", *self._stage_files(expirations), "-o", str(day_file), "--date", self.day,
            "--rejects", str(self.stage / "rejects.ndjson"),
            "--interval-ms", str(self.cfg["processing.intervalMs"]),
            "--meta", f"source.api_version={self.cfg['thetadata.apiVersion']}",
            "--meta", f"source.interval_ms={self.cfg['processing.intervalMs']}",
        ], stdin=subprocess.PIPE, quiet_unless_failed=True)

        def fetched(event):
            self._fetch_event(event, progress)
            self._announce(converter, event)
        self._run_for_records("fetch", ["--stage", str(self.stage), "--typed-copy"], stdin_path=expirations,
                              on_record=fetched)
        fetch_seconds = time.monotonic() - t0
        self.stage_bytes = dir_size(self.stage)

        progress.stage("converting to Parquet")
        t1 = time.monotonic()
        converter.stdin.close()
        converted = self._records_of("ndjson2parquet", converter) or {}
        convert_seconds = time.monotonic() - t1       # what the fetch did not hide of the conversion
        self.stage_bytes = max(self.stage_bytes, dir_size(self.stage))

        progress.stage("sealing")
        t2 = time.monotonic()
        sealed = self._run_for_records("seal", [str(day_file), str(self.final)]) or {}
        seal_seconds = time.monotonic() - t2

        self._quality_metrics(converted)
        self._stage_metrics(fetch_seconds, convert_seconds, seal_seconds)
        self._succeeded({
            "record_count": int(sealed.get("rows", converted.get("rows", 0))),
            "expiration_count": self.expiration_count,
            "file_size_bytes": sealed.get("file_size_bytes"),
            "checksum": sealed.get("sha256"),
        }, progress)
        shutil.rmtree(self.stage, ignore_errors=True)
        return "succeeded"

    def _forward_events(self, path, progress):
        """Log the events a child wrote to PATH (retries of the listing) and remove the file."""
        if path.exists():
            with open(path, encoding="utf-8") as handle:
                for _lineno, event in ndjson.read(handle, str(path)):
                    self._fetch_event(event, progress)
            path.unlink()

    def _fetch_event(self, event, progress):
        event = dict(event, date=self.day)
        kind = event.get("event")
        if kind == "expiration_done":
            self.expiration_count += 1
            self.record_count += int(event.get("rows") or 0)
            self.requests += int(event.get("requests") or 0)
            self.latencies.extend(event.get("latency_ms") or [])
            progress.expiration_done(event)
            self.log.send({k: event[k] for k in ("event", "date", "root", "expiration", "rows", "requests",
                                                 "bytes", "empty") if k in event})
        elif kind == "error":
            self.retries += 1
            self.log.send(event)

    # -- logging ----------------------------------------------------------------------------
    def _common_fields(self):
        return {
            "processing_duration_ms": int((time.monotonic() - self.started) * 1000) if self.started else None,
            "api_requests_made": self.requests,
            "temp_file_size_bytes": self.stage_bytes or (dir_size(self.stage) if self.stage.exists() else 0),
            "memory_peak_mb": peak_rss_mb(),
        }

    def _metric(self, name, value, unit=None, context=None):
        if value is None:
            return
        event = {"event": "metric", "date": self.day, "metric_name": name, "metric_value": float(value)}
        if unit:
            event["unit"] = unit
        if context:
            event["context"] = context
        self.log.send(event)

    def _quality_metrics(self, converted):
        for name in ("quality_score", "completeness", "zero_quote_rows", "crossed_quotes", "rejected",
                     "duplicates", "conflicting_duplicates", "expected_rows", "contracts", "iv_atm_mean"):
            self._metric(name, converted.get(name))

    def _stage_metrics(self, fetch_seconds, convert_seconds, seal_seconds):
        elapsed = max(time.monotonic() - self.started, 1e-9)
        self._metric("rows_per_minute", self.record_count / elapsed * 60, "rows/min")
        self._metric("mb_per_minute", self.stage_bytes / 1e6 / elapsed * 60, "MB/min")
        self._metric("memory_peak_mb", peak_rss_mb(), "MB")
        self._metric("api_requests", self.requests, "requests")
        self._metric("api_retries", self.retries, "retries")
        for fraction in (0.5, 0.95, 0.99):
            self._metric(f"api_latency_p{int(fraction * 100)}_ms", percentile(self.latencies, fraction), "ms")
        self._metric("fetch_seconds", fetch_seconds, "s")
        self._metric("convert_seconds", convert_seconds, "s")
        self._metric("seal_seconds", seal_seconds, "s")

    def _succeeded(self, fields, progress):
        event = {"event": "succeeded", "date": self.day, **self._common_fields(), **fields}
        self.log.send({k: v for k, v in event.items() if v is not None})
        rows = fields.get("record_count", 0)
        progress.summary(f"{self.day}: {'no data' if fields.get('error_type') == 'NoData' else 'sealed'} "
                         f"{rows:,} rows, {fields.get('expiration_count', 0)} expirations, "
                         f"{event['processing_duration_ms'] / 1000:.1f} s, {self.requests} requests"
                         + (f" -> {self.final}" if rows else ""))

    def _failed(self, exc, progress):
        message = str(exc) or exc.error_type
        event = {"event": "failed", "date": self.day, "error_type": exc.error_type, "error_message": message,
                 "expiration_count": self.expiration_count, "record_count": self.record_count,
                 **self._common_fields()}
        try:
            self.log.send({k: v for k, v in event.items() if v is not None})
        except SpxError:
            pass  # the database being the problem must not hide the original failure
        kept = " (stage kept; a re-run resumes)" if self.stage.exists() else ""
        line = f"{self.day}: FAILED {exc.error_type}: {message}{kept}"
        if self.quiet:  # --quiet drops progress, not errors: why a day failed must be said
            print(line, file=sys.stderr, flush=True)
        else:
            progress.summary(line)

    def _say(self, text):
        if not self.quiet:
            print(text, file=sys.stderr, flush=True)
