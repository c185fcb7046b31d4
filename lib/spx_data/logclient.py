"""The client side of the status database. Every module except spx-log itself records events and
reads history and stored configuration here, by running `spx-log` as a subprocess (the running
command's own bin/ first, then PATH, then this checkout's bin/) under the same Python interpreter.

    record(events, db=None)                  one transaction: all events or none
    with EventStream(db=None) as log:        a long-lived `spx-log record --each`; every send() is
        log.send(event)                      committed on its own, so a crash keeps what was sent
    query(kind, db=None, **filters)          -> [dict]; kinds: processing, errors, metrics,
                                             verifications, summary, config-history
    config_values(db=None)                   -> {key: text} set by a user (not the shipped defaults)

Failures raise spx-log's one-line message as DatabaseError subclasses (exit 3), or as
SchemaValidationError / ConfigurationValidationError (exit 2) when spx-log rejected the input.
db=None lets spx-log choose: SPX_DATA_DATABASE_PATH or ./data/spx-pipeline.db.
"""
import datetime as _dt
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from . import ndjson
from .errors import (
    ConfigurationValidationError, DatabaseConnectionError, DatabaseSchemaError, DatabaseTransactionError,
    SchemaValidationError, UsageError,
)
from .toolpath import find_tool

_PREFIX = "spx-log: "
SYSTEM = "system"  # updated_by of the configuration rows that hold the shipped defaults

# filter name -> spx-log option; a list value repeats the option, True is a bare flag.
_QUERY_OPTIONS = {
    "processing": {"status": "--status", "date_from": "--from", "from": "--from", "date_to": "--to", "to": "--to",
                   "date": "--date", "dates": "--date", "limit": "--limit"},
    "errors": {"date": "--date", "type": "--type", "error_type": "--type", "unresolved": "--unresolved",
               "since": "--since"},
    "metrics": {"date": "--date", "name": "--name", "metric_name": "--name"},
    "verifications": {"date": "--date"},
    "summary": {},
}


def spx_log():
    found = find_tool("log")
    if found:
        return found
    checkout = Path(__file__).resolve().parent.parent.parent / "bin" / "spx-log"
    if checkout.is_file():
        return str(checkout)
    raise DatabaseConnectionError(f"spx-log not found next to {sys.argv[0]} or on PATH; is spx-data installed?")


def command(db, *args):
    """The argv of one spx-log call."""
    return [sys.executable, spx_log(), *(["--db", str(db)] if db else []), *args]


def _failure(returncode, stderr, rejected=SchemaValidationError):
    lines = [line[len(_PREFIX):] if line.startswith(_PREFIX) else line
             for line in (stderr or "").splitlines() if line.strip()]
    # The first line names the problem; a stream's last line counts the bad lines.
    message = "; ".join(lines[:1] + lines[1:][-1:]) or f"spx-log exited with status {returncode}"
    if returncode == 2:
        return rejected(message)
    if "schema version" in message or "migration" in message:
        return DatabaseSchemaError(message)
    if returncode == 3 and ("cannot" in message or "not writable" in message or "not an SQLite" in message):
        return DatabaseConnectionError(message)
    return DatabaseTransactionError(message)


def _child_env():
    # SPX_DATA_ERROR_FILE belongs to the command that was given it: spx-log's own failures come
    # back to us as exceptions and must not overwrite the report our parent reads.
    return {k: v for k, v in os.environ.items() if k != "SPX_DATA_ERROR_FILE"}


def _run(args, db=None, stdin_text=None, rejected=SchemaValidationError):
    proc = subprocess.run(command(db, *args), input=stdin_text, capture_output=True, text=True, encoding="utf-8",
                          env=_child_env())
    if proc.returncode != 0:
        raise _failure(proc.returncode, proc.stderr, rejected)
    return [ndjson.parse_line(line, n, "spx-log") for n, line in enumerate(proc.stdout.splitlines(), 1)
            if line.strip()]


def _lines(events):
    return "".join(ndjson.dumps(event) + "\n" for event in events)


def record(events, db=None):
    """Record EVENTS (dicts, DESIGN §2) in one transaction."""
    text = _lines(events)
    if text:
        _run(["record"], db, stdin_text=text)


class EventStream:
    """A long-lived `spx-log record --each`: send() writes and flushes one event, which spx-log
    commits on its own. The child runs in its own session so that a Ctrl-C meant for us does not
    kill it before our clean-up has logged the interruption; it ends when we close its stdin."""

    def __init__(self, db=None):
        self.db = db
        self._proc = None
        self._stderr = None

    def __enter__(self):
        # stderr to a file, not a pipe: nobody reads it while the stream runs, so a pipe could fill.
        self._stderr = tempfile.TemporaryFile(mode="w+", encoding="utf-8")
        self._proc = subprocess.Popen(command(self.db, "record", "--each"), stdin=subprocess.PIPE,
                                      stdout=subprocess.DEVNULL, stderr=self._stderr, text=True,
                                      encoding="utf-8", start_new_session=True, env=_child_env())
        return self

    def send(self, event):
        try:
            self._proc.stdin.write(ndjson.dumps(event) + "\n")
            self._proc.stdin.flush()
        except (BrokenPipeError, ValueError, OSError):
            raise self._error(self._proc.wait()) from None

    def close(self):
        """Close the stream and wait for spx-log; raise if it failed."""
        if self._proc is None:
            return
        proc, self._proc = self._proc, None
        try:
            proc.stdin.close()
        except (BrokenPipeError, OSError):
            pass
        returncode = proc.wait()
        error = self._error(returncode) if returncode != 0 else None
        self._stderr.close()
        if error:
            raise error

    def _error(self, returncode):
        self._stderr.seek(0)
        return _failure(returncode, self._stderr.read())

    def __exit__(self, exc_type, exc, tb):
        try:
            self.close()
        except (DatabaseConnectionError, DatabaseSchemaError, DatabaseTransactionError, SchemaValidationError):
            if exc_type is None:
                raise  # otherwise the exception already on its way out is the one to report


def _option_values(value):
    values = value if isinstance(value, (list, tuple)) else [value]
    return [v.isoformat() if isinstance(v, _dt.date) else str(v) for v in values]


def query(kind, db=None, **filters):
    """Rows of KIND as dicts. Filters: processing(status, from/date_from, to/date_to, date/dates,
    limit), errors(date, type, unresolved, since), metrics(date, name), verifications(date),
    config-history(key)."""
    if kind == "config-history":
        unknown = set(filters) - {"key"}
        if unknown:
            raise UsageError(f"unknown filter {sorted(unknown)[0]!r} for config-history (valid: key)")
        return _run(["config", "history", *([filters["key"]] if filters.get("key") else [])], db)
    if kind not in _QUERY_OPTIONS:
        raise UsageError(f"unknown query kind {kind!r}; valid: {', '.join([*_QUERY_OPTIONS, 'config-history'])}")
    options = _QUERY_OPTIONS[kind]
    args = ["query", kind]
    for name, value in filters.items():
        if name not in options:
            raise UsageError(f"unknown filter {name!r} for {kind} (valid: {', '.join(options)})")
        if value is None or value is False:
            continue
        if value is True:
            args.append(options[name])
            continue
        for text in _option_values(value):
            args += [options[name], text]
    return _run(args, db)


def config_rows(db=None):
    """Every stored configuration row (key, value, value_type, description, is_required, updated_at, updated_by)."""
    return _run(["config", "get"], db)


def config_values(db=None):
    """{key: text} of the values a user stored; rows still owned by 'system' are the defaults."""
    return {row["key"]: row["value"] for row in config_rows(db) if row["updated_by"] != SYSTEM}


def config_set(key, value, by=None, db=None):
    """Validate and store one value; returns the change {key, old_value, new_value, changed_at, changed_by}."""
    return _run(["config", "set", key, value, *(["--by", by] if by else [])], db,
                rejected=ConfigurationValidationError)[0]


def config_reset(by=None, db=None):
    """Every key back to its default; returns the changes made."""
    return _run(["config", "reset", *(["--by", by] if by else [])], db, rejected=ConfigurationValidationError)


def check(db=None):
    """{path, schema_version, latest_schema_version, integrity_check}; DatabaseError when not healthy."""
    return _run(["check"], db)[0]
