"""List the (root, expiration) pairs quoted on trading days.

Usage:
  spx-expirations [options] DATE...

For each DATE (YYYY-MM-DD) asks the Theta Terminal which contracts were quoted that day
(v2 /v2/list/contracts/option/quote, v3 /v3/option/list/contracts/quote) and prints one
expiration line per distinct (root, expiration), roots in the configured order, then by
expiration:
  {"date":"2024-01-02","root":"SPXW","expiration":"2024-01-05"}
A day the terminal has no data for (472 NO_DATA: a weekend, a holiday) prints nothing and a
note on stderr.

Options:
  --events FILE       write one error event per retried request to FILE (e.g. /dev/fd/3),
                      instead of a note on stderr
  --roots LIST        comma-separated roots, e.g. SPXW,SPX (overrides processing.roots)
  --base-url URL      the Theta Terminal, e.g. http://127.0.0.1:25503 (overrides thetadata.baseUrl)
  --api-version V     auto, v2 or v3 (overrides thetadata.apiVersion)
  -h --help           show this help

Exit status: 0 ok (also for days without data), 2 bad date or option, 4 the terminal is not
running or refused the request.
"""
import sys

from .. import ndjson
from ..cli import run, warn

PROG = "spx-expirations"
OPTION_KEYS = {"--roots": "processing.roots", "--base-url": "thetadata.baseUrl",
               "--api-version": "thetadata.apiVersion"}


def overrides(args, option_keys):
    """{config key: value} of the command-line options that were given."""
    return {key: args[option] for option, key in option_keys.items() if args.get(option) is not None}


def handler(args):
    from .. import config
    from ..dates import parse_date
    from ..thetadata import events
    from ..thetadata.client import ThetaClient
    days = [parse_date(value, "DATE") for value in args["DATE"]]
    cfg = config.load(overrides(args, OPTION_KEYS))
    roots = cfg["processing.roots"]
    emit, close = events.open_file(args["--events"]) if args["--events"] else (events.notes(PROG), lambda: None)
    try:
        client = ThetaClient.from_config(cfg, on_retry=events.dated(emit, days[0].isoformat()))
        for day in days:
            pairs = client.expirations(day, roots)
            if not pairs:
                warn(PROG, f"{day}: the terminal lists no {'/'.join(roots)} contracts (no data for that day)")
            for root, expiration in pairs:
                ndjson.write(sys.stdout, {"date": day.isoformat(), "root": root, "expiration": expiration.isoformat()})
            sys.stdout.flush()
    finally:
        close()
    return 0


def main(argv=None):
    run(PROG, __doc__, handler, argv)
