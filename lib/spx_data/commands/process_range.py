"""Process every trading day between two dates, several days at once.

Usage:
  spx-data process-range [options] START END

Weekends and NYSE holidays in the range are skipped. At most --parallel days run at once (each a
`spx-data process` of its own); whatever N is, requests to the terminal stay within
thetadata.maxConcurrentRequests across the machine. One failed day never stops the others.
Ctrl-C or `spx-data stop` stops launching new days; running days log Interrupted and resume
from their stage next time; completed days stay sealed.

Options:
  --parallel N     days processed at once (default: processing.parallelism)
  --force          rebuild days that are already sealed and valid
  --quiet          only the summary
  -h --help        show this help

Exit status: 0 every day succeeded or was already sealed, 1 any day failed, 2 bad usage
(malformed dates, START after END, END not yet a completed session, START before
processing.startDate), 130/143 interrupted.
"""
import sys

from ..cli import run, whole_number
from ..errors import Interrupted, UsageError


def trading_days_between(start_text, end_text):
    from .. import calendar, config
    from ..dates import parse_date
    start, end = parse_date(start_text), parse_date(end_text)
    if start > end:
        raise UsageError(f"START {start} is after END {end}")
    last = calendar.last_completed_session()
    if end > last:
        raise UsageError(f"END {end} is after the last completed session {last}")
    start_date = config.load()["processing.startDate"]
    if start_date and start < parse_date(start_date, "processing.startDate"):
        raise UsageError(f"START {start} is before processing.startDate {start_date}")
    return [d.isoformat() for d in calendar.trading_days(start, end)]


def parallelism(value):
    from .. import config
    if value is None:
        return config.load()["processing.parallelism"]
    return whole_number(value, "--parallel", 1, 64)


def run_batch(days, parallel, force=False, quiet=False, label="spx-data process-range"):
    """Run DAYS through batch.run_dates with a summary line; returns the exit code."""
    from .. import batch
    if not days:
        print(f"{label}: no trading days to process", file=sys.stderr)
        return 0
    try:
        results = batch.run_dates(days, parallel=parallel, force=force, quiet=quiet)
    except Interrupted as exc:
        print(f"{label}: interrupted: {batch.summary(getattr(exc, 'results', {}))}", file=sys.stderr)
        raise
    print(f"{label}: {len(days)} days: {batch.summary(results)}", file=sys.stderr)
    return batch.exit_code(results)


def handle(args):
    days = trading_days_between(args["START"], args["END"])
    return run_batch(days, parallelism(args["--parallel"]), force=args["--force"], quiet=args["--quiet"])


def main(argv=None):
    run("spx-data process-range", __doc__, handle, argv)
