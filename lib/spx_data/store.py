"""The status database. The ONLY module that imports sqlite3, and only `spx-log` runs it; every
other module talks to it through spx_data.logclient (a subprocess), so one process kind owns the
locking rules.

- Schema: sql/NNN_name.sql migrations, applied in order, each in one transaction together with its
  schema_version row, automatically on first use and idempotently (a second process that waited
  for the lock sees the new version and applies nothing). A database newer than the newest
  migration this code ships is refused (DatabaseSchemaError).
- Connections: WAL (readers never block the writer), busy_timeout 30 s, foreign keys on, every
  write in BEGIN IMMEDIATE so concurrent writers queue instead of failing on a lock upgrade.
- Timestamps are ISO-8601 UTC text with milliseconds, e.g. 2024-01-02T21:04:05.123Z, so that text
  order is time order. An event's optional "at" overrides now.
- A database file that does not exist yet is created (with its directory) by writers only;
  readers answer as if it were empty (see `Store.open(create=False)`).

Events (DESIGN §2), one JSON object per line; fields not listed are ignored:
  queued            {date}                                   row queued (if absent)
  started           {date}                                   status processing, started_at; run fields reset;
                                                             retry_count+1 when the last attempt failed or died
  expiration_done   {date, root, expiration, rows, requests, bytes?, empty?}
                                                             running totals: expiration_count+1, record_count+rows,
                                                             api_requests_made+requests
  succeeded         {date, record_count, expiration_count, file_size_bytes, checksum, processing_duration_ms?,
                     api_requests_made?, temp_file_size_bytes?, memory_peak_mb?, error_type?, error_message?}
                                                             status success (error_type "NoData": the terminal had
                                                             nothing; then file_size_bytes/checksum may be absent)
  failed            {date, error_type, error_message, stack_trace?, context_data?, + succeeded's metric fields}
                                                             status failed and an error_log row
  error             {date, error_type, error_message, retry_attempt?, context_data?, stack_trace?}  error_log row
  metric            {date, metric_name, metric_value, unit?, context?}                            performance_metrics
  resolved          {date, resolution_method}                open error_log rows of the date resolved
  verified          {date, outcome ok|corrupt|missing|unrecorded, checksum?, reason?}             verification_log
error/metric/expiration_done/failed/succeeded for a date without a processing_log row create it as
queued first (foreign keys); resolved and verified never create one.
"""
import datetime as _dt
import re
import sqlite3
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import ujson

from . import ndjson
from .dates import ISO_HINT, parse_date
from .errors import (
    DatabaseConnectionError, DatabaseSchemaError, DatabaseTransactionError, DateValidationError,
    SchemaValidationError,
)

BUSY_TIMEOUT_MS = 30_000
STATUSES = ("queued", "processing", "success", "failed")
VERIFY_OUTCOMES = ("ok", "corrupt", "missing", "unrecorded")
SYSTEM = "system"  # updated_by of rows that hold the shipped defaults

_MIGRATION_NAME = re.compile(r"^(\d{3})_([a-z0-9_]+)\.sql$")


# -- time and dates ---------------------------------------------------------------------------
def utc_text(moment):
    moment = moment.astimezone(_dt.timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def now_text():
    return utc_text(_dt.datetime.now(_dt.timezone.utc))


def parse_timestamp(text):
    """ISO-8601 timestamp or date -> UTC text; a time without offset is taken as UTC."""
    if not isinstance(text, str):
        raise SchemaValidationError(f"expected an ISO-8601 timestamp such as 2024-01-02T21:00:00Z, got {text!r}")
    try:
        moment = _dt.datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith("Z") else text)
    except ValueError:
        raise SchemaValidationError(
            f"{text!r} is not an ISO-8601 timestamp (e.g. 2024-01-02T21:00:00Z or 2024-01-02)") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=_dt.timezone.utc)
    return utc_text(moment)


def check_date(text, what="date"):
    """TEXT when it is an ISO YYYY-MM-DD date string; SchemaValidationError otherwise."""
    if not isinstance(text, str):
        raise SchemaValidationError(f"invalid {what} {text!r}: {ISO_HINT}")
    try:
        return parse_date(text, what).isoformat()
    except DateValidationError as exc:
        raise SchemaValidationError(str(exc)) from None


# -- event validation -------------------------------------------------------------------------
def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


_KINDS = {
    # kind: (test, what a valid value looks like)
    "count": (lambda v: _is_int(v) and v >= 0, "a non-negative integer"),
    "number": (lambda v: isinstance(v, (int, float)) and not isinstance(v, bool), "a number"),
    "text": (lambda v: isinstance(v, str) and v != "", "a non-empty string"),
    "bool": (lambda v: isinstance(v, bool), "true or false"),
    "date": (lambda v: isinstance(v, str), "a YYYY-MM-DD date"),  # then check_date() for the details
    "json": (lambda v: True, "any JSON value"),
    "outcome": (lambda v: v in VERIFY_OUTCOMES, " | ".join(VERIFY_OUTCOMES)),
}

_RUN_METRICS = {"processing_duration_ms": "count", "api_requests_made": "count",
                "temp_file_size_bytes": "count", "memory_peak_mb": "count"}

# event -> ({required field: kind}, {optional field: kind})
EVENTS = {
    "queued": ({}, {}),
    "started": ({}, {}),
    "expiration_done": ({"root": "text", "expiration": "date", "rows": "count", "requests": "count"},
                        {"bytes": "count", "empty": "bool"}),
    "succeeded": ({"record_count": "count", "expiration_count": "count"},
                  {"file_size_bytes": "count", "checksum": "text", "error_type": "text", "error_message": "text",
                   **_RUN_METRICS}),
    "failed": ({"error_type": "text", "error_message": "text"},
               {"stack_trace": "text", "context_data": "json", "record_count": "count",
                "expiration_count": "count", "file_size_bytes": "count", **_RUN_METRICS}),
    "error": ({"error_type": "text", "error_message": "text"},
              {"retry_attempt": "count", "context_data": "json", "stack_trace": "text"}),
    "metric": ({"metric_name": "text", "metric_value": "number"}, {"unit": "text", "context": "json"}),
    "resolved": ({"resolution_method": "text"}, {}),
    "verified": ({"outcome": "outcome"}, {"checksum": "text", "reason": "text"}),
}

NO_DATA = "NoData"


def validate_event(record):
    """A checked copy of one event record (with "at" normalised), or SchemaValidationError."""
    name = record.get("event")
    if not isinstance(name, str) or name not in EVENTS:  # a list or object is no event name (nor hashable)
        raise SchemaValidationError(f"unknown event {name!r} (valid: {', '.join(EVENTS)})")
    if "date" not in record:
        _missing("date", name)
    event = {"event": name, "date": check_date(record["date"], "field 'date'")}
    required, optional = EVENTS[name]
    for field, kind in {**required, **optional}.items():
        if field not in record or (record[field] is None and field in optional):
            if field in required:
                _missing(field, name)
            continue
        test, hint = _KINDS[kind]
        if not test(record[field]):
            raise SchemaValidationError(f"{name}: field '{field}' must be {hint}, got {record[field]!r}")
        event[field] = check_date(record[field], f"field '{field}'") if kind == "date" else record[field]
    if name == "succeeded" and event.get("error_type") != NO_DATA:
        for field in ("file_size_bytes", "checksum"):
            if field not in event:
                raise SchemaValidationError(
                    f"succeeded: field '{field}' is required (only a day with error_type \"NoData\" has no file)")
    event["at"] = parse_timestamp(record["at"]) if record.get("at") is not None else None
    return event


def _missing(field, name):
    raise SchemaValidationError(f"{name}: required field '{field}' is missing")


# -- locating the migrations -----------------------------------------------------------------
def sql_dir():
    """<repo>/sql in a checkout, sys.prefix/share/spx-data/sql when installed."""
    for candidate in (Path(__file__).resolve().parent.parent.parent / "sql",
                      Path(sys.prefix) / "share" / "spx-data" / "sql"):
        if candidate.is_dir():
            return candidate
    raise DatabaseSchemaError("cannot find the spx-data SQL migrations (sql/ in the checkout or "
                              f"{Path(sys.prefix) / 'share/spx-data/sql'} when installed)")


def migrations():
    """[(version, name, path)] in version order."""
    found = []
    for path in sql_dir().iterdir():
        match = _MIGRATION_NAME.match(path.name)
        if match:
            found.append((int(match.group(1)), match.group(2), path))
    return sorted(found)


def _statements(script):
    """Split a migration into statements (sqlite3's own completeness test, so ';' in comments
    or strings is harmless); execute() runs one statement at a time inside our transaction."""
    statements, buffer = [], ""
    for line in script.splitlines(keepends=True):
        buffer += line
        if sqlite3.complete_statement(buffer):
            statements.append(buffer.strip())
            buffer = ""
    if buffer.strip() and not buffer.strip().startswith("--"):
        statements.append(buffer.strip())
    return statements


# -- the store --------------------------------------------------------------------------------

def _switch_to_wal(conn):
    """WAL once per file. Changing the journal mode needs an exclusive lock and SQLite answers
    "locked" at once, without the busy handler, while another process is creating the same new
    database: wait for it here instead of failing."""
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            if conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                conn.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.02)


class Store:
    """One connection to the status database, migrated to the newest schema."""

    def __init__(self, conn, path):
        self.conn = conn
        self.path = path

    @classmethod
    def open(cls, path, create=True):
        """The store at PATH; None when it does not exist and create is false."""
        path = Path(path)
        if not path.exists():
            if not create:
                return None
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise DatabaseConnectionError(
                    f"cannot create the database directory {path.parent}: {exc.strerror} "
                    "(pass --db PATH or set SPX_DATA_DATABASE_PATH to a writable place)") from None
        elif path.is_dir():
            raise DatabaseConnectionError(f"database path {path} is a directory, not a file")
        try:
            conn = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
        except sqlite3.Error as exc:
            raise DatabaseConnectionError(f"cannot open database {path}: {exc}") from None
        store = cls(conn, path)
        with store._errors("open"):
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            conn.execute("PRAGMA foreign_keys = ON")
            _switch_to_wal(conn)
            # WAL + NORMAL: every commit is atomic and survives a killed process; only a power
            # loss can drop the last commits. Cheap enough for one commit per event.
            conn.execute("PRAGMA synchronous = NORMAL")
        store.migrate()
        return store

    def close(self):
        self.conn.close()


    @contextmanager
    def _errors(self, doing):
        """sqlite3 errors -> one-line DatabaseError subclasses that name the file."""
        try:
            yield
        except sqlite3.Error as exc:
            text = str(exc)
            if "not a database" in text:
                raise DatabaseConnectionError(f"{self.path} is not an SQLite database ({text})") from None
            if "readonly" in text or "unable to open" in text:
                raise DatabaseConnectionError(
                    f"database {self.path} is not writable ({text}); check its permissions") from None
            if "locked" in text or "busy" in text:
                raise DatabaseTransactionError(
                    f"database {self.path} stayed locked for {BUSY_TIMEOUT_MS // 1000} s during {doing}") from None
            raise DatabaseTransactionError(f"database {self.path}: {doing} failed: {text}") from None

    @contextmanager
    def transaction(self, doing="write"):
        """BEGIN IMMEDIATE ... COMMIT; ROLLBACK on any exception (also Interrupted)."""
        with self._errors(doing):
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                yield self.conn
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise
            self.conn.execute("COMMIT")

    def rows(self, sql, params=()):
        with self._errors("query"):
            cursor = self.conn.execute(sql, params)
            names = [column[0] for column in cursor.description]
            return [dict(zip(names, row)) for row in cursor.fetchall()]

    # -- schema -------------------------------------------------------------------------------
    def schema_version(self):
        with self._errors("reading the schema version"):
            has_table = self.conn.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'").fetchone()
            if not has_table:
                return 0
            return self.conn.execute("SELECT COALESCE(MAX(version), 0) FROM schema_version").fetchone()[0]

    def migrate(self):
        known = migrations()
        latest = known[-1][0] if known else 0
        if self._check_version(latest) == latest:
            return
        with self.transaction("migration"):
            current = self._check_version(latest)  # again under the lock: another process may have won
            for version, name, path in known:
                if version <= current:
                    continue
                try:
                    for statement in _statements(path.read_text(encoding="utf-8")):
                        self.conn.execute(statement)
                except sqlite3.Error as exc:
                    raise DatabaseSchemaError(
                        f"database {self.path}: migration {path.name} failed ({exc}); is this an spx-data "
                        "database?") from None
                self.conn.execute("INSERT INTO schema_version (version, name, applied_at) VALUES (?, ?, ?)",
                                  (version, name, now_text()))

    def _check_version(self, latest):
        current = self.schema_version()
        if current > latest:
            raise DatabaseSchemaError(
                f"database {self.path} has schema version {current}, newer than this spx-data knows ({latest}); "
                "upgrade spx-data")
        return current

    # -- events -------------------------------------------------------------------------------
    def record(self, events):
        """Apply checked events (validate_event) in ONE transaction: all or nothing."""
        with self.transaction("recording events"):
            for event in events:
                self._apply(event)

    def _apply(self, event):
        at = event["at"] or now_text()
        getattr(self, "_on_" + event["event"])(event, at)

    def _ensure_row(self, date, at):
        self.conn.execute(
            "INSERT OR IGNORE INTO processing_log (date, status, retry_count, created_at, updated_at) "
            "VALUES (?, 'queued', 0, ?, ?)", (date, at, at))

    def _on_queued(self, event, at):
        self._ensure_row(event["date"], at)

    def _on_started(self, event, at):
        self._ensure_row(event["date"], at)
        # A date whose last attempt failed (or died while 'processing') is being retried.
        self.conn.execute(
            "UPDATE processing_log SET status = 'processing', started_at = ?, completed_at = NULL, "
            "error_message = NULL, error_type = NULL, record_count = 0, expiration_count = 0, "
            "api_requests_made = 0, processing_duration_ms = NULL, temp_file_size_bytes = NULL, "
            "memory_peak_mb = NULL, updated_at = ?, "
            "retry_count = COALESCE(retry_count, 0) + (CASE WHEN status IN ('failed', 'processing') THEN 1 ELSE 0 END) "
            "WHERE date = ?", (at, at, event["date"]))

    def _on_expiration_done(self, event, at):
        self._ensure_row(event["date"], at)
        self.conn.execute(
            "UPDATE processing_log SET expiration_count = COALESCE(expiration_count, 0) + 1, "
            "record_count = COALESCE(record_count, 0) + ?, "
            "api_requests_made = COALESCE(api_requests_made, 0) + ?, updated_at = ? WHERE date = ?",
            (event["rows"], event["requests"], at, event["date"]))

    _OUTCOME_FIELDS = ("record_count", "expiration_count", "file_size_bytes", "checksum", "processing_duration_ms",
                       "api_requests_made", "temp_file_size_bytes", "memory_peak_mb")

    def _finish(self, event, at, status, error_type, error_message):
        self._ensure_row(event["date"], at)
        fields = [f for f in self._OUTCOME_FIELDS if f in event]
        assignments = "".join(f"{f} = ?, " for f in fields)
        self.conn.execute(
            f"UPDATE processing_log SET {assignments}status = ?, completed_at = ?, error_type = ?, "
            "error_message = ?, updated_at = ? WHERE date = ?",
            [event[f] for f in fields] + [status, at, error_type, error_message, at, event["date"]])

    def _on_succeeded(self, event, at):
        self._finish(event, at, "success", event.get("error_type"), event.get("error_message"))

    def _on_failed(self, event, at):
        self._finish(event, at, "failed", event["error_type"], event["error_message"])
        retries = self.conn.execute("SELECT retry_count FROM processing_log WHERE date = ?",
                                    (event["date"],)).fetchone()[0]
        self._insert_error(event, at, retries or 0)

    def _on_error(self, event, at):
        self._ensure_row(event["date"], at)
        self._insert_error(event, at, event.get("retry_attempt", 0))

    def _insert_error(self, event, at, retry_attempt):
        context = event.get("context_data")
        self.conn.execute(
            "INSERT INTO error_log (date, error_type, error_message, stack_trace, retry_attempt, context_data, "
            "occurred_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (event["date"], event["error_type"], event["error_message"], event.get("stack_trace"), retry_attempt,
             None if context is None else ndjson.dumps(context), at))

    def _on_metric(self, event, at):
        self._ensure_row(event["date"], at)
        context = event.get("context")
        self.conn.execute(
            "INSERT INTO performance_metrics (date, metric_name, metric_value, unit, context, recorded_at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (event["date"], event["metric_name"], event["metric_value"], event.get("unit"),
             None if context is None else ndjson.dumps(context), at))

    def _on_resolved(self, event, at):
        self.conn.execute(
            "UPDATE error_log SET resolved_at = ?, resolution_method = ? WHERE date = ? AND resolved_at IS NULL",
            (at, event["resolution_method"], event["date"]))

    def _on_verified(self, event, at):
        self.conn.execute(
            "INSERT INTO verification_log (date, outcome, checksum, reason, verified_at) VALUES (?, ?, ?, ?, ?)",
            (event["date"], event["outcome"], event.get("checksum"), event.get("reason"), at))

    # -- queries ------------------------------------------------------------------------------
    def processing(self, status=None, date_from=None, date_to=None, dates=(), limit=None):
        """processing_log rows, oldest date first, each with the outcome of the date's latest
        verification; LIMIT keeps the latest dates."""
        where, params = _where([
            ("p.status = ?", status), ("p.date >= ?", date_from), ("p.date <= ?", date_to)])
        if dates:
            where.append(f"p.date IN ({', '.join('?' * len(dates))})")
            params.extend(dates)
        sql = ("SELECT p.*, v.outcome AS last_verify_outcome, v.checksum AS last_verify_checksum, "
               "v.verified_at AS last_verified_at FROM processing_log p "
               "LEFT JOIN verification_log v ON v.id = (SELECT id FROM verification_log "
               "WHERE date = p.date ORDER BY verified_at DESC, id DESC LIMIT 1)"
               + _clause(where))
        if limit is not None:  # the LIMIT latest dates, still listed oldest first
            sql = f"SELECT * FROM ({sql} ORDER BY p.date DESC LIMIT ?)"
            params.append(limit)
        return self.rows(sql + " ORDER BY date", params)

    def errors(self, date=None, error_type=None, unresolved=False, since=None):
        where, params = _where([("date = ?", date), ("error_type = ?", error_type), ("occurred_at >= ?", since)])
        if unresolved:
            where.append("resolved_at IS NULL")
        rows = self.rows("SELECT * FROM error_log" + _clause(where) + " ORDER BY occurred_at, id", params)
        return [_decode(row, "context_data") for row in rows]

    def metrics(self, date=None, name=None):
        where, params = _where([("date = ?", date), ("metric_name = ?", name)])
        rows = self.rows("SELECT * FROM performance_metrics" + _clause(where) + " ORDER BY date, recorded_at, id",
                         params)
        return [_decode(row, "context") for row in rows]

    def verifications(self, date=None):
        where, params = _where([("date = ?", date)])
        return self.rows("SELECT * FROM verification_log" + _clause(where) + " ORDER BY date, verified_at, id",
                         params)

    def integrity(self):
        with self._errors("integrity_check"):
            results = [row[0] for row in self.conn.execute("PRAGMA integrity_check").fetchall()]
        return "ok" if results == ["ok"] else "; ".join(results)

    def summary(self):
        counts = dict.fromkeys(STATUSES, 0)
        for row in self.rows("SELECT status, COUNT(*) AS n FROM processing_log GROUP BY status"):
            counts[row["status"]] = row["n"]
        last = self.rows(
            "SELECT MAX(t) AS last FROM (SELECT MAX(updated_at) AS t FROM processing_log "
            "UNION ALL SELECT MAX(occurred_at) FROM error_log UNION ALL SELECT MAX(verified_at) FROM verification_log)")
        unresolved = self.rows("SELECT COUNT(*) AS n FROM error_log WHERE resolved_at IS NULL")
        return {"path": str(self.path), "schema_version": self.schema_version(), "counts": counts,
                "dates": sum(counts.values()), "unresolved_errors": unresolved[0]["n"],
                "last_activity": last[0]["last"], "integrity_check": self.integrity()}

    # -- configuration ------------------------------------------------------------------------
    def config_rows(self, key=None):
        where, params = _where([("key = ?", key)])
        rows = self.rows("SELECT * FROM configuration" + _clause(where) + " ORDER BY key", params)
        for row in rows:
            row["is_required"] = bool(row["is_required"])
        return rows

    def set_config(self, key, value, value_type, description, is_required, by, at=None):
        """Store KEY's new value (already validated), keep the change in configuration_history
        and return it as {key, old_value, new_value, changed_at, changed_by}."""
        with self.transaction("config set"):
            return self._put_config((key, value, value_type, description, is_required), by, by, at or now_text(),
                                    always=True)

    def reset_config(self, defaults, by, at=None):
        """defaults: [(key, value, value_type, description, is_required)], stored as owned by
        'system' again; returns the changes (keys already at their default are left alone)."""
        at = at or now_text()
        with self.transaction("config reset"):
            changes = [self._put_config(row, SYSTEM, by, at) for row in defaults]
        return [change for change in changes if change]

    def _put_config(self, row, owner, changed_by, at, always=False):
        key, value = row[0], row[1]
        old = self.conn.execute("SELECT value, updated_by FROM configuration WHERE key = ?", (key,)).fetchone()
        if old == (value, owner) and not always:
            return None
        self.conn.execute(
            "INSERT INTO configuration (key, value, value_type, description, is_required, updated_at, updated_by) "
            "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value, "
            "description = excluded.description, value_type = excluded.value_type, "
            "is_required = excluded.is_required, updated_at = excluded.updated_at, updated_by = excluded.updated_by",
            (*row, at, owner))
        change = {"key": key, "old_value": None if old is None else old[0], "new_value": value,
                  "changed_at": at, "changed_by": changed_by}
        self.conn.execute(
            "INSERT INTO configuration_history (key, old_value, new_value, changed_at, changed_by) "
            "VALUES (:key, :old_value, :new_value, :changed_at, :changed_by)", change)
        return change

    def config_history(self, key=None):
        where, params = _where([("key = ?", key)])
        return self.rows("SELECT key, old_value, new_value, changed_at, changed_by FROM configuration_history"
                         + _clause(where) + " ORDER BY changed_at, id", params)


def _where(conditions):
    """[(sql, value)] -> the conditions whose value is given, and their parameters."""
    where = [sql for sql, value in conditions if value is not None]
    return where, [value for _sql, value in conditions if value is not None]


def _clause(where):
    return " WHERE " + " AND ".join(where) if where else ""


def _decode(row, column):
    """JSON text columns come back as the JSON value they were stored from."""
    if row[column] is not None:
        try:
            row[column] = ujson.loads(row[column])
        except ValueError:
            pass  # written by someone else as plain text: keep it
    return row
