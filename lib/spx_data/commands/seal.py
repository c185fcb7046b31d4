"""Verify a day's Parquet file and seal it into its final place, or re-check sealed files.

Usage:
  spx-seal TMP FINAL
  spx-seal --check FILE...
  spx-seal -h | --help

spx-seal TMP FINAL verifies TMP (a readable Parquet file with the pinned schema, its footer's row
count and content digest equal to its data), writes FINAL.sha256 (for `sha256sum -c`), and moves
TMP atomically to FINAL with mode 0600 (new directories 0700), fsyncing file and directory. FINAL
must be {outputDir}/YYYY/MM/DD/spx-options-YYYY-MM-DD.parquet for the day TMP holds; an existing
FINAL is replaced atomically. Prints {"event":"sealed","date","path","sha256","file_size_bytes","rows"}.
When verification fails FINAL is left untouched and TMP is kept.

spx-seal --check FILE... re-verifies sealed files, their sidecars included, and prints one
{"path","date","outcome":"ok"|"corrupt"|"missing","reason","sha256","rows"} per FILE.

Options:
  --check     re-verify sealed files instead of sealing one
  -h, --help  show this help

Exit status: 0 sealed, or every checked file ok; 1 verification failed or a checked file is not
ok; 2 bad usage or a FINAL path of the wrong shape; 5 disk full.
"""
import sys

from .. import ndjson
from ..cli import run


def handler(args):
    from .. import seal
    if args["--check"]:
        results = [seal.check(path) for path in args["FILE"]]
        for result in results:
            ndjson.write(sys.stdout, result)
        return 0 if all(result["outcome"] == "ok" for result in results) else 1
    ndjson.write(sys.stdout, seal.seal(args["TMP"], args["FINAL"]))
    return 0


def main(argv=None):
    run("spx-seal", __doc__, handler, argv)
