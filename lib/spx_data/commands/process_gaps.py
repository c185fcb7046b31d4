"""Process the gaps found by gap analysis, in batches.

Usage:
  spx-data process-gaps [--from DATE | --since EXPR | --last N] [--to DATE] [options]

The gaps are those `spx-data gaps` shows for the same range (default: processing.startDate to
the last completed session); days with no data at the terminal are not retried. --dry-run
prints the plan — days, expected expirations and requests, rows, disk and time, estimated from
past runs (or stated defaults before the first run) — and fetches nothing.

Options:
  --batch-size N       days per batch; the gap list is re-read between batches (default: 20)
  --parallel N         days processed at once (default: processing.parallelism)
  --by-priority        highest-priority gaps first (see `spx-data gaps --help`)
  --dry-run            print the plan only
  --format FMT         plan format: table | json | ndjson | csv (default: table)
  --from DATE          first day, YYYY-MM-DD
  --since EXPR         first day as "30 days ago", "6m", ...
  --last N             the last N days, weeks, months or years: 30d, 2w, 6m, 1y
  --to DATE            last day, YYYY-MM-DD
  -h --help            show this help

Exit status: 0 every gap processed (or none), 1 any day failed, 2 bad usage, 130/143 interrupted.
"""
import statistics
import sys

from ..cli import run, whole_number

# Before the first day has been processed: a realistic 1-minute SPX day.
DEFAULTS = {"expirations": 60, "rows": 6_000_000, "disk_bytes": 1_700_000_000, "seconds": 120.0}
PLAN_COLUMNS = ("date", "category", "expirations", "requests", "rows", "disk_mb", "minutes")


def find(args, cfg):
    from .. import gaps
    from .gaps import resolve_range
    start, end = resolve_range(args, cfg["processing.startDate"])
    return gaps.find_gaps(start, end, cfg["processing.outputDirectory"], cfg["processing.tempDirectory"],
                          db=cfg["database.path"], by_priority=args["--by-priority"])


def per_day_estimate(history):
    """Medians of past successful days, or the stated defaults; and where they came from."""
    done = [r for r in history if r.get("status") == "success" and r.get("record_count")]
    if not done:
        return dict(DEFAULTS), "stated defaults (no day processed yet)"

    def median(field, default):
        values = [float(r[field]) for r in done if r.get(field)]
        return statistics.median(values) if values else default

    return {
        "expirations": median("expiration_count", DEFAULTS["expirations"]),
        "rows": median("record_count", DEFAULTS["rows"]),
        "disk_bytes": median("file_size_bytes", 0) + median("temp_file_size_bytes", 0),
        "seconds": median("processing_duration_ms", DEFAULTS["seconds"] * 1000) / 1000,
    }, f"medians of {len(done)} processed days"


def plan(gap_list, estimate):
    return [{
        "date": gap["date"], "category": gap["category"],
        "expirations": round(estimate["expirations"]),
        "requests": round(estimate["expirations"]) + 1,  # one listing + one per expiration (before pages)
        "rows": round(estimate["rows"]),
        "disk_mb": round(estimate["disk_bytes"] / 1e6, 1),
        "minutes": round(estimate["seconds"] / 60, 1),
    } for gap in gap_list]


def print_plan(rows, basis, parallel, fmt):
    from .. import tables
    tables.render(rows, fmt, columns=PLAN_COLUMNS)
    total_minutes = sum(r["minutes"] for r in rows) / max(parallel, 1)
    print(f"spx-data process-gaps: {len(rows)} days, {sum(r['requests'] for r in rows):,} requests, "
          f"{sum(r['rows'] for r in rows):,} rows, {max((r['disk_mb'] for r in rows), default=0):,.0f} MB "
          f"peak disk per day, ~{total_minutes:,.0f} min at --parallel {parallel}; estimates: {basis}",
          file=sys.stderr)


def handle(args):
    from .. import config, logclient, tables
    from .process_range import parallelism, run_batch
    fmt = tables.check_format(args["--format"] or "table", ("table", "json", "ndjson", "csv"))
    size = whole_number(args["--batch-size"], "--batch-size") or 20
    parallel = parallelism(args["--parallel"])
    cfg = config.load()
    pending = find(args, cfg)
    if args["--dry-run"]:
        estimate, basis = per_day_estimate(logclient.query("processing", status="success", limit=50))
        print_plan(plan(pending, estimate), basis, parallel, fmt)
        return 0
    code, attempted, number = 0, set(), 0
    while True:
        todo = [g["date"] for g in pending if g["date"] not in attempted]
        batch = todo[:size]
        if not batch:
            return code
        attempted.update(batch)
        number += 1
        print(f"spx-data process-gaps: batch {number}: {len(batch)} days, {len(todo) - len(batch)} more after it",
              file=sys.stderr)
        code = max(code, run_batch(batch, parallel, label="spx-data process-gaps"))
        pending = find(args, cfg)  # re-read: other runs may have filled or opened gaps meanwhile


def main(argv=None):
    run("spx-data process-gaps", __doc__, handle, argv)
