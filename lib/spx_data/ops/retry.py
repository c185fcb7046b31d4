"""`spx-data retry`: which dates to re-process, cleaning up the previous attempt, and recording
what each retry did.

A date is retried when its last attempt left no good sealed file:
  failed             status failed;
  died               status processing but no live run holds the day's lock (kill -9, a crash);
  missing / corrupt  (asked for by date only) status success but the sealed file is gone or fails
                     spx_data.seal.check.
A date a live run holds is never touched. The retry limit: a date whose processing_log.retry_count
has reached processing.retryLimit is held back unless --force.

Before a date is re-processed, the previous attempt's leftovers are removed: every stage entry
that is not resumable (spx_data.ops.artifacts — completed expiration files are kept, so the retry
resumes, unless clean_stage), partial and orphan files of the day's output directory, and a
sealed file that fails verification is moved aside as NAME.corrupt-<UTC stamp> (with its
sidecar) — never deleted: corruption needs investigating, and `spx-data cleanup
--failed-outputs` removes quarantined files once looked at.

Recording: the re-processing itself logs started/failed/succeeded like any run. After it, retry
logs per date a metric `retry_succeeded` (1 or 0) whose context holds the original failure
(error type and message), the outcome and the method, and for every date that now has its file a
`resolved` event (error_log resolved_at, resolution_method "retry" or "retry --force").
"""
from .. import daylock, layout
from ..errors import ProcessingLockedError, ThetaTerminalNotRunningError, UsageError
from . import artifacts

RESOLVED_OUTCOMES = ("succeeded", "no_data", "skipped")


def live_pid(temp_dir, day):
    return daylock.holder(layout.lock_path(temp_dir, day))


def why_retry(row, temp_dir, output_dir, check_files=False):
    """Why ROW's date needs a retry ("failed", "died", "missing", "corrupt"), or None."""
    status = row.get("status")
    if status == "failed":
        return "failed"
    if status == "processing":
        return None if live_pid(temp_dir, row["date"]) else "died"
    if status == "success" and check_files and row.get("error_type") != "NoData" and row.get("record_count"):
        from ..seal import check
        final = layout.final_path(output_dir, row["date"])
        if not final.exists():
            return "missing"
        if check(final)["outcome"] != "ok":
            return "corrupt"
    return None


def candidates(temp_dir, output_dir, day=None, since=None, last_n=None):
    """The processing_log rows to retry (each with its "retry_reason"): DAY alone (see
    select_date), or the failed and died dates from SINCE on (see select_failed)."""
    from .. import logclient
    if day:
        row = select_date(day, logclient.query("processing", dates=[day]), temp_dir, output_dir)
        return [row] if row else []
    rows = [*logclient.query("processing", status="failed", date_from=since),
            *logclient.query("processing", status="processing", date_from=since)]
    return select_failed(sorted(rows, key=lambda r: r["date"]), temp_dir, last_n)


def select_date(day, rows, temp_dir, output_dir):
    """The row of DAY when it needs a retry; raises when it cannot be retried; None when there is
    nothing to retry (the caller says so)."""
    row = next((r for r in rows if r["date"] == day), None)
    if row is None:
        raise UsageError(f"{day} is not in the processing log; process it first: spx-data process {day}")
    pid = live_pid(temp_dir, day)
    if pid:
        raise ProcessingLockedError(f"{day} is being processed right now (pid {pid}); not retried")
    reason = why_retry(row, temp_dir, output_dir, check_files=True)
    return dict(row, retry_reason=reason) if reason else None


def select_failed(rows, temp_dir, last_n=None):
    """Failed and died dates of ROWS, oldest date first; with LAST_N the N most recent failures,
    in the order they failed."""
    chosen = []
    for row in rows:
        reason = why_retry(row, temp_dir, None)
        if reason:
            chosen.append(dict(row, retry_reason=reason))
    if last_n is not None:
        chosen.sort(key=lambda r: (r.get("completed_at") or r.get("updated_at") or "", r["date"]))
        chosen = chosen[-last_n:]
    return chosen


def over_limit(row, limit):
    return (row.get("retry_count") or 0) >= limit


def limit_message(row, limit):
    return (f"{row['date']} was retried {row.get('retry_count') or 0} times (processing.retryLimit {limit}); "
            f"spx-data retry {row['date']} --force retries it anyway")


def clean_previous_attempt(day, temp_dir, output_dir, clean_stage=False):
    """Remove what the last attempt left that a re-run cannot use; returns [(what, path, bytes)]."""
    done = []
    stage = layout.stage_dir(temp_dir, day)
    stale = [stage] if clean_stage and stage.exists() else artifacts.stale_stage_entries(stage)
    for path in stale:
        done.append(("removed", str(path), artifacts.remove(path)))
    for path in artifacts.day_output_leftovers(output_dir, day):
        if artifacts.output_leftover_kind(path) in ("partial", "orphan"):
            done.append(("removed", str(path), artifacts.remove(path)))
    final = layout.final_path(output_dir, day)
    if final.exists():
        from ..seal import check
        if check(final)["outcome"] != "ok":
            for _old, new in artifacts.quarantine(final):
                done.append(("quarantined", str(new), new.stat().st_size))
    return done


def check_terminal(cfg):
    """Retrying against a terminal that is down would only use up retries: refuse first."""
    from . import terminal
    probe = terminal.probe(cfg)
    if not probe["reachable"]:
        raise ThetaTerminalNotRunningError(
            f"nothing retried: the Theta Terminal at {probe['url']} is unreachable ({probe['error']})")


def record_outcomes(rows, results, limit):
    """Log what happened to each of ROWS (results: batch.run_dates' {outcome: [dates]});
    returns {date: outcome}, "not_started" for a date the batch never launched."""
    from .. import logclient
    finished = {day: outcome for outcome, days in results.items() for day in days}
    outcomes, events = {}, []
    for row in rows:
        outcomes[row["date"]] = outcome = finished.get(row["date"], "not_started")
        if outcome != "not_started":
            events += outcome_events(row, outcome, forced=over_limit(row, limit))
    logclient.record(events)
    return outcomes


def outcome_events(row, outcome, forced):
    """The events retry logs for one attempted date."""
    method = "retry --force" if forced else "retry"
    context = {"original_error_type": row.get("error_type") or row.get("retry_reason"),
               "original_error_message": row.get("error_message"), "retry_reason": row.get("retry_reason"),
               "outcome": outcome, "resolution_method": method}
    events = [{"event": "metric", "date": row["date"], "metric_name": "retry_succeeded",
               "metric_value": 1.0 if outcome in RESOLVED_OUTCOMES else 0.0, "context": context}]
    if outcome in RESOLVED_OUTCOMES:
        events.append({"event": "resolved", "date": row["date"], "resolution_method": method})
    return events

