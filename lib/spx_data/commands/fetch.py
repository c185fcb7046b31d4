"""Fetch the first-order greeks of expirations from the Theta Terminal.

Usage:
  spx-fetch [options] [FILE]

Reads expiration lines {"date","root","expiration"} (what spx-expirations prints) from FILE or
stdin (-), and fetches each expiration's tick rows for its day, several expirations at once,
starting in (date, root, expiration) order, the order of the day's Parquet file.
At most thetadata.maxConcurrentRequests requests are in flight across every spx-data process
on this machine. Retryable errors (429, 474, 571, dropped connections, truncated replies) are
retried with backoff; 472 is an empty expiration; a request that is too large (570) is split.

Without --stage, tick rows (DESIGN §2) go to stdout, one whole expiration after another.
With --stage DIR, each expiration is written to DIR/ROOT-YYYY-MM-DD.ndjson (as a .part file,
renamed when complete); expirations whose file exists are skipped, so running the same command
again after an interruption fetches only the missing ones. Stdout then gets one event per
expiration and one per retried error:
  {"event":"expiration_done","date","root","expiration","rows","requests","bytes","empty",
   "skipped","seconds","latency_ms"}
  {"event":"error","date","error_type","error_message","retry_attempt","context_data"}

Options:
  --stage DIR          write each expiration to a stage file in DIR, events to stdout
  --typed-copy         with --stage: also keep each expiration's rows in Arrow IPC form,
                       DIR/ROOT-YYYY-MM-DD.ndjson.arrow, which spx-ndjson2parquet reads instead of
                       parsing the NDJSON while the NDJSON file is unchanged (spx-data process
                       uses it: a day converts about three times faster)
  --events FILE        write the events to FILE (e.g. /dev/fd/3) instead
  --base-url URL       the Theta Terminal, e.g. http://127.0.0.1:25503 (overrides thetadata.baseUrl)
  --api-version V      auto, v2 or v3 (overrides thetadata.apiVersion)
  --format F           csv, json or ndjson (overrides thetadata.responseFormat; v2: csv or json)
  --interval-ms MS     sampling interval, e.g. 60000 (overrides processing.intervalMs)
  -h --help            show this help

Exit status: 0 every expiration fetched (or already staged), 1 a failure, 2 bad input lines or
options (nothing is fetched), 4 the terminal is not running or refused a request,
130/143 interrupted (finished stage files are kept, unfinished .part files removed).
"""
import re
import sys
from pathlib import Path

from .. import ndjson
from ..cli import run
from ..errors import SchemaValidationError, UsageError
from .expirations import overrides

PROG = "spx-fetch"
OPTION_KEYS = {"--base-url": "thetadata.baseUrl", "--api-version": "thetadata.apiVersion",
               "--format": "thetadata.responseFormat", "--interval-ms": "processing.intervalMs"}
_ROOT = re.compile(r"[A-Z]{1,10}")


def read_jobs(stream, source):
    """Every expiration line of STREAM, checked before anything is fetched; duplicates once."""
    from ..dates import parse_date
    from ..thetadata.parallel import Job
    jobs, seen = [], set()
    for lineno, record in ndjson.read(stream, source):
        where = f"{source}:{lineno}"
        missing = [key for key in ("date", "root", "expiration") if not isinstance(record.get(key), str)]
        if missing:
            raise SchemaValidationError(f"{where}: missing or not a string: {', '.join(missing)}; expected an "
                                        'expiration line like {"date":"2024-01-02","root":"SPXW","expiration":"2024-01-05"}')
        if not _ROOT.fullmatch(record["root"]):
            raise SchemaValidationError(f"{where}: root {record['root']!r} is not an option root like SPXW")
        try:
            day = parse_date(record["date"], "date")
            expiration = parse_date(record["expiration"], "expiration")
        except UsageError as exc:
            raise SchemaValidationError(f"{where}: {exc}") from None
        key = (day, record["root"], expiration)
        if key not in seen:
            seen.add(key)
            jobs.append(Job(*key))
    # In the order of the day's Parquet file, so that spx-ndjson2parquet --follow can write each
    # expiration soon after it lands.
    return sorted(jobs, key=lambda job: (job.date, job.root, job.expiration))


def event_sink(args):
    """(emit, close) for events: --events FILE, else stdout with --stage, else notes on stderr."""
    from ..thetadata import events
    if args["--events"]:
        return events.open_file(args["--events"])
    if args["--stage"]:
        return events.to_stream(sys.stdout), lambda: None
    return events.notes(PROG), lambda: None


def handler(args):
    from .. import arrowmemory  # noqa: F401  (before pyarrow loads)
    from .. import config
    from ..thetadata.client import ThetaClient
    from ..thetadata.parallel import FetchRun
    jobs = read_jobs(ndjson.open_input(args["FILE"]), args["FILE"] or "-")
    cfg = config.load(overrides(args, OPTION_KEYS))
    stage = Path(args["--stage"]) if args["--stage"] else None
    if args["--typed-copy"] and stage is None:
        raise UsageError("--typed-copy goes with --stage DIR: the copy is kept beside each stage file")
    if stage is not None:
        stage.mkdir(parents=True, exist_ok=True, mode=0o700)
    emit, close = event_sink(args)
    try:
        client = ThetaClient.from_config(cfg)
        # Twice as many workers as request slots: while one finishes an expiration (its last block,
        # the commit) after giving its slot back, another is waiting to use it. Data is held only
        # while a reply is being worked on, so the waiting ones cost no memory.
        FetchRun(client, jobs, emit, stage=stage, output=None if stage else sys.stdout.buffer,
                 workers=2 * cfg["thetadata.maxConcurrentRequests"], typed_copy=args["--typed-copy"]).run()
    finally:
        close()
    return 0


def main(argv=None):
    run(PROG, __doc__, handler, argv)
