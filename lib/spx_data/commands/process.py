"""Download, convert and seal SPX option data for the given trading dates.

Usage:
  spx-data process [options] DATE...

Each DATE (YYYY-MM-DD, or - to read dates from stdin) is checked against the NYSE calendar
first: a weekend, holiday, future date or a date before the terminal's data start is refused
(exit 2) before anything is fetched. A day already sealed and valid is skipped unless --force.
An interrupted or failed day keeps its stage; running the same command again resumes from the
last completed expiration.

Options:
  --force              rebuild days that are already sealed and valid
  --quiet              no progress lines, only errors and the summary
  --events             also print every event sent to spx-log on stdout (NDJSON)
  --base-url URL       the Theta Terminal to use (overrides thetadata.baseUrl)
  --api-version V      auto, v2 or v3 (overrides thetadata.apiVersion)
  -h --help            show this help

Exit status: 0 every date succeeded (or was already sealed, or had no data), 1 any date failed
or was being processed by another run, 2 bad usage or a date that is not processable,
130/143 interrupted.
"""
import datetime
import os
import sys

from .. import ndjson
from ..cli import run
from ..errors import DateValidationError, ProcessingLockedError, UsageError

OPTION_KEYS = {"--base-url": "thetadata.baseUrl", "--api-version": "thetadata.apiVersion"}
# The earliest option history any ThetaData subscription has (Pro tier, options).
EARLIEST_DATA = datetime.date(2012, 6, 1)


def read_dates(values):
    dates = []
    for value in values:
        if value == "-":
            dates.extend(line.strip() for line in sys.stdin if line.strip())
        else:
            dates.append(value)
    if not dates:
        raise UsageError("no dates given")
    return dates


def checked_days(values):
    """Parse and calendar-check every date before anything runs (all or nothing)."""
    from ..calendar import check_processable
    from ..dates import parse_date
    days = []
    for value in read_dates(values):
        day = parse_date(value)
        if day < EARLIEST_DATA:
            raise DateValidationError(f"{day} is before {EARLIEST_DATA}, the earliest option history ThetaData has")
        check_processable(day)
        if day not in days:
            days.append(day)
    return days


def child_env(overrides):
    """Children (spx-fetch, …) must see the options this run was given: pass them as the
    environment variables that override stored configuration."""
    env = dict(os.environ)
    for key, value in overrides.items():
        env["SPX_DATA_" + key.replace(".", "_").upper()] = str(value)
    return env


class TeeLog:
    """Send events to spx-log and echo them on a stream (for a parent watching progress)."""

    def __init__(self, log, stream):
        self.log = log
        self.stream = stream

    def send(self, event):
        self.log.send(event)
        ndjson.write(self.stream, event)
        self.stream.flush()


def process_days(days, overrides, force=False, quiet=False, events=False):
    """Run DayRun for each day; returns {outcome: [dates]}."""
    from .. import config, logclient
    from ..pipeline import DayRun
    cfg = config.load(overrides=overrides)
    results = {}
    with logclient.EventStream() as stream:
        log = TeeLog(stream, sys.stdout) if events else stream
        for day in days:
            try:
                outcome = DayRun(day, cfg, log, force=force, quiet=quiet, child_env=child_env(overrides)).run()
            except ProcessingLockedError as exc:
                print(f"spx-data process: {exc}", file=sys.stderr, flush=True)
                outcome = "locked"
            results.setdefault(outcome, []).append(day.isoformat())
    return results


def handle(args):
    overrides = {key: args[option] for option, key in OPTION_KEYS.items() if args[option]}
    days = checked_days(args["DATE"])
    results = process_days(days, overrides, force=args["--force"], quiet=args["--quiet"], events=args["--events"])
    if len(days) > 1:
        parts = ", ".join(f"{len(v)} {k.replace('_', ' ')}" for k, v in sorted(results.items()))
        print(f"spx-data process: {len(days)} dates: {parts}", file=sys.stderr)
    return 1 if results.get("failed") or results.get("locked") else 0


def main(argv=None):
    run("spx-data process", __doc__, handle, argv)
