"""Check everything a run needs; one line per check, and how to fix each failure.

Usage:
  spx-data health [--format F] [--base-url URL]
  spx-data health (-h | --help)

Checks: configuration (every value valid, processing.startDate set); the output and temp
directories writable (or creatable); free disk space on each file system against the estimated
size of the next day + 50 %; the database (integrity check, schema version); the Theta Terminal
reachable with MDDS status CONNECTED; the API version detected (and equal to
thetadata.apiVersion unless that is auto).

Output lines:  ok    NAME  DETAIL
               FAIL  NAME  DETAIL
                           fix: WHAT TO DO

Options:
  --format F      text, json or ndjson [default: text]
  --base-url URL  the Theta Terminal to check (overrides thetadata.baseUrl)
  -h --help       show this help

Exit status: 0 every check passed, 1 any check failed, 2 bad usage.
"""
import sys

from ..cli import run


def handle(args):
    from .. import tables
    from ..ops import health, settings
    fmt = tables.check_format(args["--format"], ("text", "json", "ndjson"))
    overrides = {"thetadata.baseUrl": args["--base-url"]} if args["--base-url"] else None
    cfg, problems, database_error = settings.effective(overrides)
    if database_error:
        problems.append("stored values unreadable (see the database check); defaults and environment used")
    checks = health.run_checks(cfg, problems)
    if fmt == "text":
        sys.stdout.writelines(line + "\n" for line in health.text_lines(checks))
    else:
        tables.render(checks, fmt, columns=["check", "ok", "detail", "fix"])
    return 0 if all(c["ok"] for c in checks) else 1


def main(argv=None):
    run("spx-data health", __doc__, handle, argv)
