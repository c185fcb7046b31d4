"""Re-process failed dates: one date, every failed date, or the last N failures.

Usage:
  spx-data retry [options] DATE
  spx-data retry [options] --all-failed [--since-date D]
  spx-data retry [options] --last-n N
  spx-data retry (-h | --help)

A date is retried when its last attempt failed, or died (status processing, but no run holds its
lock); a DATE given by name is also retried when its sealed file is missing or corrupt. A date
that a running process holds is never touched.

Before re-processing, the previous attempt's leftovers are cleaned: partial stage files (completed
expiration files are kept, so the retry resumes; --clean-stage removes them too), partial files
of the day's output directory, and a sealed file that fails verification is moved aside as
NAME.corrupt-<UTC stamp> (`spx-data cleanup --failed-outputs` removes it later).

Retry limit: a date whose retry count has reached processing.retryLimit (default 3) is held
back. --force retries it anyway, after a confirmation asked on the terminal (--yes skips it;
without a terminal and without --yes, --force is refused).

Each retry is logged like any run; afterwards the metric retry_succeeded (1 or 0, with the
original failure and the outcome in its context) and, when the date now has its file, a
`resolved` event (error_log resolved_at, resolution_method "retry" or "retry --force"). The
Theta Terminal is checked first: when it is unreachable nothing is retried (exit 4) and no
retry is used up. Ctrl-C stops launching dates; running ones log Interrupted; the summary follows.

Options:
  --force         also retry dates that reached the retry limit (asks first)
  --yes           do not ask for confirmation
  --parallel N    dates re-processed at once (default: processing.parallelism)
  --clean-stage   also remove completed expiration files: download the whole day again
  --quiet         no progress lines, only the summary
  --format F      the results: table, json, csv or ndjson [default: table]
  --all-failed    every failed (or died) date, oldest first
  --since-date D  with --all-failed: only dates from D (YYYY-MM-DD) on
  --last-n N      the N most recent failures, in the order they failed
  -h --help       show this help

Output: one row per date: date, reason (failed, died, missing, corrupt), original_error,
retries (before this one), outcome (succeeded, no_data, failed, interrupted, not_started,
held_back).

Exit status: 0 every retried date succeeded, 1 a date failed, was held back by the retry limit,
or --force was not confirmed, 2 bad usage, dates not in the log, or --force refused without a
terminal, 4 the terminal is unreachable, 130/143 interrupted.
"""
from ..cli import run, warn, whole_number
from ..errors import Interrupted, SpxError

PROG = "spx-data retry"


def _held_back(chosen, args, limit):
    """The dates the retry limit holds back (none with a confirmed --force)."""
    from ..ops import retry
    from ..ops.confirm import confirm
    over = [r for r in chosen if retry.over_limit(r, limit)]
    if not over:
        return []
    if args["--force"]:
        dates = " ".join(r["date"] for r in over)
        if args["--yes"] or confirm(
                f"Retry {dates} past processing.retryLimit ({limit})?",
                "refusing to --force past the retry limit without confirmation: pass --yes (stdin is not a terminal)"):
            return []
        raise SpxError("not confirmed; nothing retried")
    if args["DATE"]:
        raise SpxError(retry.limit_message(over[0], limit))
    for row in over:
        warn(PROG, retry.limit_message(row, limit))
    return over


def _report(fmt, chosen, outcomes):
    from .. import tables
    rows = [{"date": r["date"], "reason": r["retry_reason"], "original_error": r.get("error_type"),
             "retries": r.get("retry_count") or 0, "outcome": outcomes.get(r["date"], "held_back")} for r in chosen]
    tables.render(rows, fmt, columns=["date", "reason", "original_error", "retries", "outcome"])


def handle(args):
    from .. import batch, config, tables
    from ..dates import parse_date
    from ..ops import retry
    from ..ops.units import human_bytes
    from .process_range import parallelism
    fmt = tables.check_format(args["--format"], ("table", "json", "csv", "ndjson"))
    parallel = parallelism(args["--parallel"])
    day = parse_date(args["DATE"]).isoformat() if args["DATE"] else None
    since = parse_date(args["--since-date"], "--since-date") if args["--since-date"] else None
    last_n = whole_number(args["--last-n"], "--last-n")
    cfg = config.load()
    temp_dir, out_dir, limit = (cfg["processing.tempDirectory"], cfg["processing.outputDirectory"],
                                cfg["processing.retryLimit"])
    chosen = retry.candidates(temp_dir, out_dir, day=day, since=since, last_n=last_n)
    if not chosen:
        warn(PROG, f"nothing to retry: {day} is sealed and valid (spx-data process --force {day} rebuilds it)"
                   if day else "no failed dates to retry")
        return 0
    held = _held_back(chosen, args, limit)
    runnable = [r for r in chosen if r not in held]
    if runnable:
        retry.check_terminal(cfg)
    for row in runnable:
        for what, path, size in retry.clean_previous_attempt(row["date"], temp_dir, out_dir, args["--clean-stage"]):
            warn(PROG, f"{row['date']}: {what} {path} ({human_bytes(size)})")
    results = {}
    try:
        if runnable:
            warn(PROG, f"retrying {len(runnable)} date{'s' if len(runnable) != 1 else ''}, "
                       f"{min(parallel, len(runnable))} at once")
            results = batch.run_dates([r["date"] for r in runnable], parallel=parallel, force=True,
                                      quiet=args["--quiet"])
    except Interrupted as exc:
        results = getattr(exc, "results", {})
        raise
    finally:
        outcomes = retry.record_outcomes(runnable, results, limit)
        _report(fmt, chosen, outcomes)
        summary = batch.summary(results) if results else "nothing run"
        held_text = f"; held back by the retry limit: {' '.join(r['date'] for r in held)}" if held else ""
        warn(PROG, f"{len(chosen)} date{'s' if len(chosen) != 1 else ''}: {summary}{held_text}")
    return 1 if held else batch.exit_code(results)


def main(argv=None):
    run(PROG, __doc__, handle, argv)
