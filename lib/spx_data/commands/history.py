"""List the processing history: records, size, duration, retries, quality and error per date.

Usage:
  spx-data list [--failed-only | --status S] [--date-range R | --since EXPR] [--limit N] [--format F]
  spx-data list --metrics [--date-range R | --since EXPR] [--limit N] [--format F]
  spx-data list (-h | --help)

Columns: date, status, records, size, duration, retries, quality, error_type; json, csv and
ndjson carry raw numbers (size_bytes, duration_ms) and add expirations, error_message,
started_at and completed_at. Oldest date first.

With --metrics: the run metrics per date instead (rows/min, MB/min, peak RSS, API latency p95,
requests, retries, quality score; the latest run of each date) and a summary line on stderr with
mean, min..max and the trend (the change of the mean from the older half of the dates to the
newer half).

Options:
  --failed-only     only failed dates (the same as --status failed)
  --status S        queued, processing, success or failed
  --date-range R    START..END, inclusive, e.g. 2024-01-02..2024-03-28
  --since EXPR      from "30 days ago", "2 weeks ago", 30d, 2w, 6m, 1y, yesterday or YYYY-MM-DD on
  --limit N         only the N latest dates
  --metrics         run metrics and their trend instead of the history
  --format F        table, json, csv or ndjson [default: table]
  -h --help         show this help

Exit status: 0, 2 bad usage (unknown status or format, malformed dates), 3 database.
"""
from ..cli import run, warn, whole_number

PROG = "spx-data list"


def _range(args):
    from ..dates import parse_since
    from ..ops.history import parse_range
    if args["--date-range"]:
        return parse_range(args["--date-range"])
    if args["--since"]:
        return parse_since(args["--since"]), None
    return None, None


def handle(args):
    from .. import logclient, tables
    from ..ops import history
    fmt = tables.check_format(args["--format"], ("table", "json", "csv", "ndjson"))
    status = history.check_status("failed" if args["--failed-only"] else args["--status"])
    start, end = _range(args)
    rows = logclient.query("processing", status=status, date_from=start, date_to=end, limit=whole_number(args["--limit"], "--limit"))
    if args["--metrics"]:
        metrics = logclient.query("metrics")
        records = history.trends(metrics, [r["date"] for r in rows])
        tables.render(records, fmt, columns=["date", *history.TREND_METRICS.values()])
        warn(PROG, history.summary_line(history.trend_summary(records), len(records)))
        return 0
    if not rows:
        warn(PROG, "no processing history" + (" matches" if status or start else ""))
        return 0
    quality = history.latest_by_date(logclient.query("metrics", name="quality_score"), "quality_score")
    records = history.history(rows, quality)
    if fmt == "table":
        tables.render(history.for_table(records), fmt, columns=history.TABLE_COLUMNS)
    else:
        tables.render(records, fmt, columns=history.MACHINE_COLUMNS)
    return 0


def main(argv=None):
    run(PROG, __doc__, handle, argv)
