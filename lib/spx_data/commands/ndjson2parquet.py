"""Convert NDJSON tick rows into one Parquet file with the pinned spx-data schema.

Usage:
  spx-ndjson2parquet -o OUT [--rejects=FILE] [--date=DATE] [--interval-ms=MS] [--meta=KV]... [FILE...]
  spx-ndjson2parquet -o OUT --follow [--rejects=FILE] [--date=DATE] [--interval-ms=MS] [--meta=KV]... FILE...
  spx-ndjson2parquet -h | --help

Reads tick rows (one JSON object per line: date, root, expiration, strike, right, ms_of_day,
bid, ask, delta, theta, vega, rho, epsilon, lambda, implied_vol, iv_error, ms_of_day2,
underlying_price) from each FILE, or stdin when FILE is - or missing. Every row is validated;
an invalid row goes to the rejects file with its file, line number and reason, and the valid rows
still land. Rows repeating a key (root, expiration, strike, right, ms_of_day) are dropped, the
first one read stays. OUT is written sorted, typed, zstd-compressed, as OUT.part renamed to OUT
when complete. One summary record {"event":"converted",...} is printed on stdout.

With --follow, the FILEs are the stage files `spx-fetch --stage DIR` is still writing
(DIR/ROOT-YYYY-MM-DD.ndjson) and stdin is its events: each FILE is read once its expiration_done
event arrives, and written out as soon as every FILE before it (in root, expiration order) has
been read, so the conversion runs alongside the fetch (spx-data process works this way):
  spx-fetch --stage S --typed-copy < exps.ndjson |
    spx-ndjson2parquet --follow -o day.parquet S/SPX-2024-01-19.ndjson S/SPXW-2024-01-02.ndjson ...
A FILE must hold rows of its own expiration only; events that end before every FILE was
announced (the fetch failed) exit 1 and write nothing.

Options:
  -o OUT, --output=OUT  the Parquet file to write (a temporary path; spx-seal moves it into place)
  --rejects=FILE        where rejected lines go as NDJSON {file,line,reason,raw}
                        (default OUT.rejects.ndjson; written only when a line is rejected)
  --date=DATE           the trading day YYYY-MM-DD; rows of another date are rejected
                        (default: the date of the first row that has a valid one)
  --interval-ms=MS      the interval the rows were fetched at, for completeness; 0 = tick data
                        [default: 60000]
  --meta=KV             footer metadata KEY=VALUE, repeatable; source.KEY=VALUE goes into the
                        spx_data.source JSON, e.g. --meta source.api_version=v3
  --follow              convert stage files as spx-fetch's events on stdin announce them
  -h, --help            show this help

Exit status: 0 the file was written (also with rejects, also empty), 1 failure, 2 bad usage or
no way to tell the day, 5 disk full.
"""
import sys

from .. import ndjson
from ..cli import run
from ..errors import UsageError


def interval_ms(text):
    try:
        value = int(text)
    except (TypeError, ValueError):
        value = -1
    if value < 0:
        raise UsageError(f"invalid --interval-ms {text!r}: expected milliseconds >= 0, e.g. 60000")
    return value


def handler(args):
    from ..convert import convert
    summary = convert(args["FILE"], args["--output"], rejects_path=args["--rejects"], day=args["--date"],
                      interval_ms=interval_ms(args["--interval-ms"]), meta=args["--meta"],
                      follow=sys.stdin if args["--follow"] else None)
    ndjson.write(sys.stdout, summary)
    return 0


def main(argv=None):
    run("spx-ndjson2parquet", __doc__, handler, argv)
