"""spx-data — SPX index option greeks from a Theta Terminal into verified daily Parquet files.

Usage:
  spx-data [--db PATH] <command> [<args>...]
  spx-data (-h | --help | --version)

Commands:
  config          show, set, validate and reset configuration
  status          what has been processed, what is running, disk, database and terminal health
  list            processing history: records, size, duration, retries, quality, errors
  gaps            trading days without a sealed, verified file (a table; spx-gaps prints bare dates)
  health          check disk, database, directories and the terminal; non-zero exit if any check fails
  process         download, convert and seal the given trading dates
  process-range   process every trading day between two dates, several at once
  process-gaps    process the gaps found by `spx-data gaps`, in batches (--dry-run shows the plan)
  stop            gracefully stop every running spx-data process of this data directory
  retry           re-process failed dates (one, all failed, or the last N)
  cleanup         remove stale stage directories and partial outputs
  verify          re-check sealed files against their checksums, schema and the database

The single-purpose tools compose in shell pipelines and are reachable as `spx-data <name>` too:
  expirations     spx-expirations DATE...   (root, expiration) pairs quoted on a day
  fetch           spx-fetch                 expiration lines in, tick rows out
  ndjson2parquet  spx-ndjson2parquet        tick rows in, one Parquet file out
  seal            spx-seal TMP FINAL        verify, checksum and atomically place a day's file
  log             spx-log                   the status database (the only reader/writer of SQLite)
  sim             spx-sim                   the built-in Theta Terminal simulator

Options:
  --db PATH       the status database (default: $SPX_DATA_DATABASE_PATH or ./data/spx-pipeline.db)
  -h --help       show this help
  --version       show the version

`spx-data <command> --help` shows a command's own usage.
"""
import os
import sys
from importlib import import_module

from ..cli import run
from ..errors import UsageError
from ..toolpath import find_tool

# Built-in commands: name -> module under spx_data.commands exposing main(argv).
BUILTINS = {
    "config": "config",
    "status": "status",
    "list": "history",
    "gaps": "gaps",
    "health": "health",
    "process": "process",
    "process-range": "process_range",
    "process-gaps": "process_gaps",
    "stop": "stop",
    "retry": "retry",
    "cleanup": "cleanup",
    "verify": "verify",
}
TOOLS = ("expirations", "fetch", "ndjson2parquet", "seal", "log", "sim")

def handle(args):
    if args["--db"]:
        os.environ["SPX_DATA_DATABASE_PATH"] = args["--db"]
    name, rest = args["<command>"], args["<args>"]
    if name == "help":
        if not rest:
            print(__doc__.strip())
            return 0
        name, rest = rest[0], ["--help"]
    if name in BUILTINS:
        module = import_module(f"spx_data.commands.{BUILTINS[name]}")
        if name == "gaps":
            return module.main(rest, default_format="table")
        return module.main(rest)
    tool = find_tool(name)
    if tool is None:
        raise UsageError(f"'{name}' is not an spx-data command; see 'spx-data --help'")
    sys.stdout.flush()
    os.execv(tool, [tool, *rest])


def main(argv=None):
    run("spx-data", __doc__, handle, argv, options_first=True)
