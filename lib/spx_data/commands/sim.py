"""spx-sim — a local Theta Terminal for development and tests: the v2 and v3 HTTP API on one
loopback port, serving deterministic, realistic SPX/SPXW first-order greeks, with fault injection.

Usage:
  spx-sim [options] [--seed N] [--preset NAME] [--data-start DATE]
  spx-sim --oracle DATE [--seed N] [--preset NAME] [--interval-ms MS] [--data-start DATE]
  spx-sim --count DATE [--seed N] [--preset NAME] [--interval-ms MS] [--data-start DATE]
  spx-sim (-h | --help)

Serving (the default): listens on 127.0.0.1 until interrupted; GET /sim/stats reports what it
saw (requests by path and status, body bytes sent, data requests, most in flight at once), GET or
POST /sim/reset-stats clears it. --oracle prints the tick rows served for DATE as NDJSON (DESIGN
§2 fields, exactly the values served); --count prints {"date","expirations","contracts","rows"}.

Server options:
  --port P                TCP port on 127.0.0.1; 0 picks a free one [default: 25510]
  --port-file F           write the port to F once listening
  --tick-limit N          v2 greeks responses over N rows are paged (/v2/page/{id}); 0: never [default: 500000]
  --page-expire-ms MS     an unfetched page is discarded after MS (then 477) [default: 60000]
  --v3-only               every /v2 path answers 410, like a v3-only terminal
  --cache-mb MB           memory for generated rows and encoded bodies [default: 1024]
  --verbose               log every request on stderr

Data options:
  --seed N                the data (and fault draws) are a pure function of the seed [default: 7]
  --preset NAME           tiny (unit tests), small, or full (a realistic day) [default: full]
  --data-start DATE       the first day with data; earlier days are NO_DATA [default: 2017-01-03]
  --interval-ms MS        interval of --oracle/--count rows [default: 60000]

Fault options (probabilities are per data request, drawn from the seed and request number):
  --p429 P                answer 429 OS_LIMIT [default: 0]
  --p474 P                answer 474 DISCONNECTED [default: 0]
  --p571 P                answer 571 SERVER_STARTING [default: 0]
  --p570 P                answer 570 LARGE_REQUEST to greeks requests [default: 0]
  --truncate P            cut a 200 body short of its Content-Length, then close [default: 0]
  --reset P               reset the connection instead of answering [default: 0]
  --latency-ms MS         wait MS before answering each data request [default: 0]
  --bandwidth BPS         send at most BPS body bytes per second, all connections together
  --max-in-flight N       data requests beyond N in flight get 429
  --die-after N           exit when data request N+1 arrives (the port then refuses connections)
  --starting-seconds S    for S seconds after start: status DISCONNECTED, data requests 571 [default: 0]
  --no-data LIST          ROOT:YYYY-MM-DD,... expirations whose greeks are 472 NO_DATA
  --large-over ROWS       greeks requests of more than ROWS rows get 570 LARGE_REQUEST

Data requests are all /v2 and /v3 requests except the mdds/fpss status ones.
Exit status: 0 after --oracle/--count, 1 when the port cannot be opened (or --die-after fires),
2 bad usage, 130/143 interrupted.
"""
import os
import sys

from ..cli import run, warn
from ..errors import EXIT_FAILURE, SpxError, UsageError

PROG = "spx-sim"


def main(argv=None):
    run(PROG, __doc__, handle, argv)


def handle(args):
    from ..dates import parse_date
    from ..sim import chain

    preset = args["--preset"]
    if preset not in chain.PRESETS:
        raise UsageError(f"invalid --preset {preset!r}: expected one of {', '.join(chain.PRESETS)}")
    seed = _number(args, "--seed", int)
    data_start = parse_date(args["--data-start"], "--data-start")
    interval_ms = _number(args, "--interval-ms", int, low=1)
    if args["--count"] or args["--oracle"]:
        return _print_day(args, parse_date(args["DATE"], "DATE"), seed, preset, interval_ms, data_start)
    return _serve(args, seed, preset, data_start)


def _print_day(args, day, seed, preset, interval_ms, data_start):
    from .. import ndjson
    from ..sim import oracle
    if args["--count"]:
        ndjson.write(sys.stdout, oracle.count(day, seed, preset, interval_ms, data_start=data_start))
    else:
        for row in oracle.ticks(day, seed, preset, interval_ms, data_start=data_start):
            ndjson.write(sys.stdout, row)
    return 0


def _serve(args, seed, preset, data_start):
    from ..sim.server import SimServer, write_port_file
    from ..sim.terminal import Settings, Terminal

    settings = Settings(seed=seed, preset=preset,
                        tick_limit=_number(args, "--tick-limit", int),
                        page_expire_ms=_number(args, "--page-expire-ms", int),
                        v3_only=args["--v3-only"], data_start=data_start,
                        cache_mb=_number(args, "--cache-mb", int))
    terminal = Terminal(settings, _faults(args), die=_die)
    port = _number(args, "--port", int, high=65535)
    try:
        server = SimServer(port, terminal, verbose=args["--verbose"])
    except OSError as exc:
        raise SpxError(f"cannot listen on 127.0.0.1:{port}: {exc.strerror}; pick another --port or --port 0") from None
    try:
        if args["--port-file"]:
            write_port_file(args["--port-file"], server.port)
        warn(PROG, f"Theta Terminal v2+v3 on http://127.0.0.1:{server.port} (preset {preset}, seed {seed})")
        server.serve_forever(poll_interval=0.25)
    finally:
        server.server_close()
    return 0


def _die(message):
    warn(PROG, message)
    os._exit(EXIT_FAILURE)      # at once, mid-response and all: that is what a crash looks like


def _faults(args):
    from ..sim.faults import Faults

    probabilities = {name: _number(args, f"--{name}", float, high=1) for name in
                     ("p429", "p474", "p571", "p570", "truncate", "reset")}
    if sum(probabilities.values()) - probabilities["truncate"] > 1:
        raise UsageError("--reset, --p429, --p474, --p571 and --p570 add up to more than 1")
    optional = lambda name, low=0: _number(args, name, int, low=low) if args[name] is not None else None  # noqa: E731
    return Faults(**probabilities,
                  latency_ms=_number(args, "--latency-ms", int),
                  bandwidth=optional("--bandwidth", low=1) or 0,
                  max_in_flight=optional("--max-in-flight", low=1) or 0,
                  die_after=optional("--die-after"),
                  starting_seconds=_number(args, "--starting-seconds", float),
                  no_data=_no_data(args["--no-data"]),
                  large_over=optional("--large-over", low=1) or 0)


def _number(args, name, kind, low=0, high=None):
    text = args[name]
    try:
        value = kind(text)
    except (TypeError, ValueError):
        value = None
    if value is None or value != value or value < low or (high is not None and value > high):
        bounds = f"from {low} to {high}" if high is not None else f"{low} or more"
        example = "0.05" if kind is float else "60000"
        raise UsageError(f"invalid {name} {text!r}: expected a number {bounds}, e.g. {name} {example}")
    return value


def _no_data(text):
    from ..dates import parse_date
    pairs = set()
    for item in filter(None, (text or "").split(",")):
        root, _, day = item.strip().partition(":")
        if root.upper() not in ("SPXW", "SPX") or not day:
            raise UsageError(f"invalid --no-data item {item!r}: expected ROOT:YYYY-MM-DD, e.g. SPXW:2024-01-05")
        pairs.add((root.upper(), parse_date(day, "--no-data expiration")))
    return frozenset(pairs)
