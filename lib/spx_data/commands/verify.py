"""Re-check sealed files against their checksums, schema, row counts and the database.

Usage:
  spx-data verify [--format F] [--all | DATE...]
  spx-data verify (-h | --help)

For each DATE (or, with --all or no DATE, every sealed file and every day the log says was
sealed) the file's footer is re-read, its data decoded, its SHA-256 recomputed and compared with
the sidecar and the checksum logged at success, its schema with the pinned one and its row count
with the footer and the log. One outcome per date:
  ok          all of it holds (or the day is logged as having no data, so no file is expected);
  corrupt     something does not (the reason says what);
  missing     no sealed file (logged as sealed, or never sealed);
  unrecorded  the file is intact but the log has no success with a checksum for it.
Each outcome is logged (spx-log `verified` events), so `spx-data gaps` lists corrupt files.

Options:
  --all         every sealed file and every day logged as sealed (the default without DATE)
  --format F    table, json or ndjson [default: table]
  -h --help     show this help

Exit status: 0 every file ok, 1 any file corrupt, missing or unrecorded, 2 bad usage or dates,
3 database.
"""
from ..cli import run, warn

PROG = "spx-data verify"


def handle(args):
    from .. import config, logclient, tables
    from ..dates import parse_date
    from ..ops import verify
    fmt = tables.check_format(args["--format"], ("table", "json", "ndjson"))
    days = sorted({parse_date(d).isoformat() for d in args["DATE"]})
    cfg = config.load()
    out_dir = cfg["processing.outputDirectory"]
    rows = logclient.query("processing", dates=days) if days else logclient.query("processing")
    if not days:
        days = verify.all_dates(out_dir, rows)
    if not days:
        warn(PROG, "nothing to verify: no sealed file and no day logged as sealed")
        return 0
    by_date = {row["date"]: row for row in rows}
    with logclient.EventStream() as log:
        results = list(verify.verify_days(days, by_date, out_dir, log))
    columns = ["date", "outcome", "rows", "reason"] if fmt == "table" else \
        ["date", "outcome", "rows", "sha256", "reason", "path"]
    tables.render(results, fmt, columns=columns)
    problems = [r for r in results if r["outcome"] != "ok"]
    if problems:
        counts = {}
        for r in problems:
            counts[r["outcome"]] = counts.get(r["outcome"], 0) + 1
        warn(PROG, f"{len(problems)} of {len(results)} not ok: "
                   + ", ".join(f"{n} {outcome}" for outcome, n in sorted(counts.items())))
        return 1
    warn(PROG, f"{len(results)} ok")
    return 0


def main(argv=None):
    run(PROG, __doc__, handle, argv)
