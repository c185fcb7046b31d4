"""Remove stale stage directories and partial or failed outputs no running process owns.

Usage:
  spx-data cleanup [--temp-files] [--failed-outputs] [--dry-run] [--format F]
  spx-data cleanup (-h | --help)

Without --temp-files or --failed-outputs, both are cleaned.
  temp files      stage directories under processing.tempDirectory/stage (a day started again
                  from scratch afterwards) and lock files no process holds;
  failed outputs  *.part / *.tmp files of the output tree, quarantined *.corrupt-* files (moved
                  aside by `spx-data retry`), sidecars whose Parquet file is gone, and sealed
                  files that fail verification, with their sidecars (reads every sealed file).
A day a running process holds (its lock file) is never touched: its items are listed as kept.

Output: one row per item: action (removed, would remove, kept ...), kind, date, path, size;
the total freed on stderr.

Options:
  --temp-files      clean the temp directory
  --failed-outputs  clean the output tree
  --dry-run         list what would be removed; remove nothing
  --format F        table, json, csv or ndjson [default: table]
  -h --help         show this help

Exit status: 0, 2 bad usage.
"""
from ..cli import run, warn

PROG = "spx-data cleanup"


def handle(args):
    from .. import config, tables
    from ..ops import cleanup
    from ..ops.units import human_bytes
    fmt = tables.check_format(args["--format"], ("table", "json", "csv", "ndjson"))
    both = not args["--temp-files"] and not args["--failed-outputs"]
    cfg = config.load()
    out_dir = cfg["processing.outputDirectory"]
    items = cleanup.plan(cfg["processing.tempDirectory"], out_dir,
                         temp_files=both or args["--temp-files"], failed_outputs=both or args["--failed-outputs"])
    if not items:
        warn(PROG, "nothing to clean")
        return 0
    cleanup.execute(items, out_dir, dry_run=args["--dry-run"])
    if fmt == "table":
        rows = [dict(item, size=human_bytes(item["bytes"])) for item in items]
        tables.render(rows, fmt, columns=["action", "kind", "date", "path", "size"])
    else:
        tables.render(items, fmt, columns=["action", "kind", "date", "path", "bytes", "freed"])
    freed = sum(item["freed"] for item in items)
    kept = sum(1 for item in items if item["holder"])
    acted = len(items) - kept
    verb = "would remove" if args["--dry-run"] else "removed"
    warn(PROG, f"{verb} {acted} item{'s' if acted != 1 else ''}, {human_bytes(freed)}"
               + (" (dry run)" if args["--dry-run"] else " freed")
               + (f"; kept {kept} in use by a running process" if kept else ""))
    return 0


def main(argv=None):
    run(PROG, __doc__, handle, argv)
