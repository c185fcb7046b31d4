"""Show what has been processed, what is running, the gaps, disk, database and terminal.

Usage:
  spx-data status [--format F] [--base-url URL]
  spx-data status (-h | --help)

Fields: last activity; processed (success), failed and queued days; days in progress (date, pid
and the running totals the run has logged so far) and stale ones (status processing, but the run
died); the gap count (processing.startDate to the last completed session); the output and temp
directories with their free space; the database (path, schema version, integrity, unresolved
errors); the terminal (URL, reachable, MDDS status, API version).

Options:
  --format F      table (`key  value` lines) or json (one object) [default: table]
  --base-url URL  the Theta Terminal to probe (overrides thetadata.baseUrl)
  -h --help       show this help

Exit status: 0 (problems are shown, not signalled: `spx-data health` exits 1 on them),
2 bad usage or configuration.
"""
import sys

from ..cli import run


def handle(args):
    from .. import ndjson, tables
    from ..errors import ConfigurationValidationError
    from ..ops import settings, status
    fmt = tables.check_format(args["--format"], ("table", "json"))
    overrides = {"thetadata.baseUrl": args["--base-url"]} if args["--base-url"] else None
    cfg, problems, _database_error = settings.effective(overrides)  # the snapshot shows the database error
    if problems:
        raise ConfigurationValidationError(problems[0])
    snapshot = status.collect(cfg)
    if fmt == "json":
        ndjson.write(sys.stdout, snapshot)
    else:
        tables.render(status.lines(snapshot), "table", columns=["key", "value"])
    return 0


def main(argv=None):
    run("spx-data status", __doc__, handle, argv)
