"""spx-log — the status database: the only program that opens SQLite.

Usage:
  spx-log [--db PATH] record [--each] [FILE]
  spx-log [--db PATH] query processing [--status S] [--from D] [--to D] [--date D]... [--limit N]
  spx-log [--db PATH] query errors [--date D] [--type T] [--unresolved] [--since ISO]
  spx-log [--db PATH] query metrics [--date D] [--name N]
  spx-log [--db PATH] query verifications [--date D]
  spx-log [--db PATH] query summary
  spx-log [--db PATH] config get [KEY]
  spx-log [--db PATH] config set [--by WHO] [--] KEY VALUE
  spx-log [--db PATH] config reset [--by WHO]
  spx-log [--db PATH] config history [KEY]
  spx-log [--db PATH] check
  spx-log (-h | --help | --version)

record reads events, one JSON object per line (FILE or stdin), e.g.
  {"event":"started","date":"2024-01-02"}
Events: queued, started, expiration_done, succeeded, failed, error, metric, resolved, verified
(fields: see spx_data/store.py; an optional "at" ISO timestamp overrides now). By default every
line is checked first and all are written in one transaction: one bad line writes nothing and
exits 2 naming it ("spx-log: -:LINE: reason"). With --each every line is committed on its own
(for a long-lived pipe from a running job); bad lines are reported and skipped, exit 2 at the end.

query prints NDJSON rows on stdout: processing (oldest date first; --limit N keeps the N latest
dates; each row carries its latest verification), errors, metrics, verifications, summary (counts
by status, last activity, schema version, integrity check). A database that does not exist yet
reads as empty.
config get prints the stored configuration rows; config set validates and stores one value and
prints the change; config reset puts every key back to its default and prints the changes;
config history prints every change (old value, new value, when, by whom). `spx-data config` is
the user-facing command over these.
check prints schema version and integrity_check; exit 3 when the database is missing or unhealthy.

Options:
  --db PATH       the database (default: $SPX_DATA_DATABASE_PATH or ./data/spx-pipeline.db)
  --each          commit every event on its own
  --status S      queued, processing, success or failed
  --from D        first date (YYYY-MM-DD)
  --to D          last date (YYYY-MM-DD)
  --date D        only this date (repeatable for processing)
  --limit N       at most N rows (the latest dates)
  --type T        error type, e.g. ApiConnection
  --unresolved    only errors not resolved yet
  --since ISO     errors at or after this ISO timestamp or date (UTC unless it has an offset)
  --name N        metric name
  --by WHO        who makes the change (default: the current user)

Exit codes: 0 ok, 2 bad usage or bad input, 3 database missing, unwritable, corrupt or newer.
"""
import getpass
import os
import sys

from .. import config, ndjson
from ..cli import run, warn, whole_number
from ..errors import DatabaseConnectionError, DatabaseError, SchemaValidationError, UsageError
from ..store import STATUSES, Store, check_date, migrations, parse_timestamp, validate_event

PROG = "spx-log"


def handle(args):
    db = config.database_path(args["--db"])[0]
    if args["record"]:
        return record(db, args["FILE"], each=args["--each"])
    if args["query"]:
        return query(db, args)
    if args["config"]:
        return configure(db, args)
    return check(db)


def _print(rows):
    for row in rows:
        ndjson.write(sys.stdout, row)


# -- record -----------------------------------------------------------------------------------
def _events(path):
    """(line number, event or SchemaValidationError) for every non-blank line of PATH ('-' = stdin).
    Bytes are decoded per line so that bad UTF-8 is reported with its line number too."""
    source = path or "-"
    handle = ndjson.open_input(path)  # kept referenced: dropping it would close its buffer
    for lineno, raw in enumerate(handle.buffer, 1):
        try:
            line = raw.decode("utf-8")
            if not line.strip():
                continue
            yield lineno, validate_event(ndjson.parse_line(line, lineno, source))
        except UnicodeDecodeError:
            yield lineno, SchemaValidationError(f"{source}:{lineno}: not UTF-8 text")
        except SchemaValidationError as exc:
            message = str(exc)
            prefix = f"{source}:{lineno}: "
            yield lineno, SchemaValidationError(message if message.startswith(prefix) else prefix + message)


def record(db, path, each=False):
    if not each:
        events = []
        for _lineno, event in _events(path):
            if isinstance(event, SchemaValidationError):
                raise event
            events.append(event)
        if events:
            store = Store.open(db)
            store.record(events)
        return 0
    store = Store.open(db)
    bad = 0
    for _lineno, event in _events(path):
        if isinstance(event, SchemaValidationError):
            warn(PROG, str(event))
            bad += 1
            continue
        store.record([event])
    if bad:
        warn(PROG, f"{bad} bad line{'s' if bad != 1 else ''} skipped")
    return 2 if bad else 0


# -- query ------------------------------------------------------------------------------------
def _date_option(args, option):
    value = args[option]
    if value is None:
        return None
    try:
        return check_date(value, option)
    except SchemaValidationError as exc:
        raise UsageError(str(exc)) from None


def query(db, args):
    """Options are checked before the database is opened: bad usage is exit 2 even without one."""
    if args["summary"]:
        store = Store.open(db, create=False)
        _print([store.summary() if store else _empty_summary(db)])
        return 0
    if args["processing"]:
        if args["--status"] is not None and args["--status"] not in STATUSES:
            raise UsageError(f"--status must be one of {', '.join(STATUSES)}, not {args['--status']!r}")
        filters = (args["--status"], _date_option(args, "--from"), _date_option(args, "--to"),
                   [check_date(d, "--date") for d in args["--date"]], whole_number(args["--limit"], "--limit"))
        select = Store.processing
    elif args["errors"]:
        since = parse_timestamp(args["--since"]) if args["--since"] else None
        filters = (_single_date(args), args["--type"], args["--unresolved"], since)
        select = Store.errors
    elif args["metrics"]:
        filters = (_single_date(args), args["--name"])
        select = Store.metrics
    else:
        filters = (_single_date(args),)
        select = Store.verifications
    store = Store.open(db, create=False)
    _print(select(store, *filters) if store else [])
    return 0


def _single_date(args):
    dates = args["--date"]
    if len(dates) > 1:
        raise UsageError("--date can be given once here")
    return check_date(dates[0], "--date") if dates else None


def _empty_summary(db):
    return {"path": str(db), "exists": False, "schema_version": 0, "counts": dict.fromkeys(STATUSES, 0),
            "dates": 0, "unresolved_errors": 0, "last_activity": None, "integrity_check": None}


# -- config -----------------------------------------------------------------------------------
def current_user():
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (containers) and no $USER
        return f"uid {os.getuid()}"


def configure(db, args):
    if args["get"]:
        store = Store.open(db, create=False)
        if args["KEY"]:
            config.key_of(args["KEY"])
        _print(store.config_rows(args["KEY"]) if store else [])
    elif args["history"]:
        store = Store.open(db, create=False)
        _print(store.config_history(args["KEY"]) if store else [])
    elif args["set"]:
        name = args["KEY"]
        config.check_storable(name)
        text = config.to_text(name, config.validate(name, args["VALUE"]))
        key = config.key_of(name)
        store = Store.open(db)
        _print([store.set_config(name, text, key.value_type, key.description, True, args["--by"] or current_user())])
    else:
        store = Store.open(db)
        _print(store.reset_config(config.default_rows(), args["--by"] or current_user()))
    return 0


# -- check ------------------------------------------------------------------------------------
def check(db):
    store = Store.open(db, create=False)
    if store is None:
        raise DatabaseConnectionError(
            f"no database at {db} yet (the first `spx-data process` or `spx-data config set` creates it)")
    result = {"path": str(db), "schema_version": store.schema_version(),
              "latest_schema_version": migrations()[-1][0], "integrity_check": store.integrity()}
    _print([result])
    if result["integrity_check"] != "ok":
        raise DatabaseError(f"database {db} failed integrity_check: {result['integrity_check']}")
    return 0


def main(argv=None):
    run(PROG, __doc__, handle, argv)
