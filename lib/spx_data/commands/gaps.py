"""spx-gaps — trading days without a sealed, verified Parquet file.

Usage:
  spx-gaps [--from DATE | --since EXPR | --last N] [--to DATE] [options]
  spx-gaps (-h | --help)

`spx-data gaps` is this command with --format table by default.

The range runs from processing.startDate (or --from/--since/--last) to the last completed
session (or --to); weekends and NYSE holidays are never gaps. The default output is bare dates,
oldest first, one per line, ready for `xargs spx-data process`.

Range:
  --from DATE          first day, YYYY-MM-DD
  --since EXPR         first day as "30 days ago", "2 weeks ago", "6m", "1y", "yesterday", ...
  --last N             the last N days, weeks, months or years: 30d, 2w, 6m, 1y
  --to DATE            last day, YYYY-MM-DD; a session not finished yet is left out

Options:
  --format FMT         text | table | ndjson | json | csv (default: text for spx-gaps,
                       table for spx-data gaps)
  --by-priority        highest priority first (recent days, broken files and runs, volatile
                       periods; the formula is in spx_data/gaps.py) instead of oldest first
  --category C         only these categories, comma-separated: never_attempted, failed,
                       in_progress_stale, missing_file, corrupt, no_data
  --include-no-data    also list days the terminal had no data for (category no_data)
  --db PATH            the status database (default: $SPX_DATA_DATABASE_PATH or ./data/spx-pipeline.db)
  -h --help            show this help

Columns of table/ndjson/json/csv: date, category, retry_count, error_type, priority, detail.
Exit status: 0 (gaps or not), 2 bad usage or dates, 3 database.
"""
import sys

from ..cli import run
from ..errors import DateValidationError, UsageError

FORMATS = ("text", "table", "ndjson", "json", "csv")


def main(argv=None, default_format="text"):
    prog = "spx-data gaps" if default_format == "table" else "spx-gaps"
    run(prog, __doc__, lambda args: handle(args, prog, default_format), argv)


def handle(args, prog, default_format="text"):
    from .. import config, gaps, tables
    from ..cli import warn

    fmt = tables.check_format(args["--format"] or default_format, FORMATS)
    categories = _categories(args["--category"])
    cfg = config.load(db=args["--db"])
    start, end = resolve_range(args, cfg["processing.startDate"])
    found = gaps.find_gaps(
        start, end, cfg["processing.outputDirectory"], cfg["processing.tempDirectory"],
        db=cfg["database.path"], include_no_data=args["--include-no-data"], categories=categories,
        by_priority=args["--by-priority"])
    if not found and fmt == "table":  # a human reading a table; scripts get silence
        warn(prog, f"no gaps from {start} to {end}")
    if fmt == "text":
        sys.stdout.writelines(f"{gap['date']}\n" for gap in found)
    else:
        tables.render(found, fmt, columns=gaps.COLUMNS)
    return 0


def resolve_range(args, start_date, now=None):
    """(first, last) trading-range dates from the options and processing.startDate."""
    from .. import calendar
    from ..dates import parse_date, parse_since, today_et

    configured = parse_date(start_date, "processing.startDate") if start_date else None
    if args["--from"]:
        start = parse_date(args["--from"], "--from")
    elif args["--since"]:
        start = parse_since(args["--since"], today_et(now), "--since")
    elif args["--last"]:
        start = _parse_last(args["--last"], today_et(now))
    elif configured:
        start = configured
    else:
        raise UsageError("set processing.startDate (spx-data config set processing.startDate 2024-01-02) "
                         "or pass --from")
    last_completed = calendar.last_completed_session(now)
    end = last_completed
    if args["--to"]:
        end = parse_date(args["--to"], "--to")
        if end > today_et(now):
            raise DateValidationError(
                f"--to {end} is in the future; the last completed session is {last_completed}")
    if start > end:
        raise DateValidationError(f"the range starts {start}, after its end {end}; pass an earlier start")
    if configured and start < configured:
        raise DateValidationError(
            f"the range starts {start}, before processing.startDate {configured}; pass a later start "
            "or change processing.startDate")
    return start, min(end, last_completed)


def _parse_last(text, today):
    from ..dates import parse_since

    if not text.strip()[-1:].isalpha() or not text.strip()[:-1].isdigit():
        raise DateValidationError(f"invalid --last {text!r}: expected a count and a unit, e.g. 30d, 2w, 6m, 1y")
    return parse_since(text, today, "--last")


def _categories(text):
    from ..gaps import CATEGORIES

    if not text:
        return None
    wanted = [c.strip() for c in text.split(",") if c.strip()]
    unknown = [c for c in wanted if c not in CATEGORIES]
    if unknown or not wanted:
        raise UsageError(f"unknown category {', '.join(unknown) or repr(text)}; expected one or more of "
                         f"{', '.join(CATEGORIES)}, comma-separated")
    return wanted
