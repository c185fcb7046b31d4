"""The status database: schema from the PRD, migrations, events, queries (spx_data.store)."""
import sqlite3

import pytest

from spx_data import config
from spx_data.errors import (
    DatabaseConnectionError, DatabaseSchemaError, DatabaseTransactionError, SchemaValidationError,
)
from spx_data.store import Store, migrations, validate_event

# The PRD's "Database Schema Design" section, verbatim: the reference the migrations must match.
PRD_SCHEMA = """
CREATE TABLE processing_log (
  date TEXT PRIMARY KEY,
  status TEXT NOT NULL CHECK (status IN ('queued', 'processing', 'success', 'failed')),
  started_at DATETIME, completed_at DATETIME, record_count INTEGER, expiration_count INTEGER,
  file_size_bytes INTEGER, checksum TEXT, error_message TEXT, error_type TEXT,
  retry_count INTEGER DEFAULT 0, processing_duration_ms INTEGER, api_requests_made INTEGER,
  temp_file_size_bytes INTEGER, memory_peak_mb INTEGER,
  created_at DATETIME DEFAULT CURRENT_TIMESTAMP, updated_at DATETIME DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX idx_processing_log_status ON processing_log(status);
CREATE INDEX idx_processing_log_date ON processing_log(date);
CREATE INDEX idx_processing_log_updated_at ON processing_log(updated_at);
CREATE TABLE configuration (
  key TEXT PRIMARY KEY, value TEXT NOT NULL, description TEXT,
  value_type TEXT NOT NULL CHECK (value_type IN ('string', 'number', 'boolean', 'date')),
  is_required BOOLEAN DEFAULT FALSE, updated_at DATETIME DEFAULT CURRENT_TIMESTAMP,
  updated_by TEXT DEFAULT 'system'
);
CREATE TABLE error_log (
  id INTEGER PRIMARY KEY AUTOINCREMENT, date TEXT NOT NULL, error_type TEXT NOT NULL,
  error_message TEXT NOT NULL, stack_trace TEXT, retry_attempt INTEGER DEFAULT 0, context_data TEXT,
  occurred_at DATETIME DEFAULT CURRENT_TIMESTAMP, resolved_at DATETIME, resolution_method TEXT,
  FOREIGN KEY (date) REFERENCES processing_log(date)
);
CREATE INDEX idx_error_log_date ON error_log(date);
CREATE INDEX idx_error_log_type ON error_log(error_type);
CREATE INDEX idx_error_log_occurred_at ON error_log(occurred_at);
CREATE TABLE performance_metrics (
  id INTEGER PRIMARY KEY AUTOINCREMENT, date TEXT NOT NULL, metric_name TEXT NOT NULL,
  metric_value REAL NOT NULL, unit TEXT, context TEXT, recorded_at DATETIME DEFAULT CURRENT_TIMESTAMP,
  FOREIGN KEY (date) REFERENCES processing_log(date)
);
CREATE INDEX idx_performance_metrics_date_metric ON performance_metrics(date, metric_name);
CREATE INDEX idx_performance_metrics_recorded_at ON performance_metrics(recorded_at);
"""
PRD_TABLES = ("processing_log", "configuration", "error_log", "performance_metrics")
PRD_SEED_KEYS = ("thetadata.baseUrl", "thetadata.maxConcurrentRequests", "processing.startDate",
                 "processing.outputDirectory", "processing.tempDirectory", "database.path")


def describe(conn, table):
    """Everything that defines a table: columns (name, type, notnull, default, pk), FKs, indices."""
    columns = conn.execute(f"PRAGMA table_info({table})").fetchall()
    fks = [row[2:5] for row in conn.execute(f"PRAGMA foreign_key_list({table})").fetchall()]
    indices = {}
    for row in conn.execute(f"PRAGMA index_list({table})").fetchall():
        if row[3] == "c":  # explicitly created, not the automatic PRIMARY KEY index
            indices[row[1]] = [c[2] for c in conn.execute(f"PRAGMA index_info({row[1]})").fetchall()]
    return columns, fks, indices


@pytest.fixture
def db(tmp_path):
    return tmp_path / "data" / "log.db"


@pytest.fixture
def store(db):
    opened = Store.open(db)
    yield opened
    opened.close()


def rec(store, *events):
    store.record([validate_event(e) for e in events])


def row(store, date):
    rows = store.processing(dates=[date])
    return rows[0] if rows else None


# -- schema ------------------------------------------------------------------------------------
def test_tables_match_the_prd_exactly(store):
    reference = sqlite3.connect(":memory:")
    reference.executescript(PRD_SCHEMA)
    for table in PRD_TABLES:
        assert describe(store.conn, table) == describe(reference, table), table


@pytest.mark.parametrize("sql", [
    "INSERT INTO processing_log (date, status) VALUES ('2024-01-02', 'done')",
    "INSERT INTO configuration (key, value, value_type) VALUES ('k', 'v', 'list')",
    "INSERT INTO error_log (date, error_type, error_message) VALUES ('1999-01-04', 'X', 'no such date')",
    "INSERT INTO performance_metrics (date, metric_name, metric_value) VALUES ('1999-01-04', 'm', 1)",
])
def test_checks_and_foreign_keys_are_enforced(store, sql):
    with pytest.raises(sqlite3.IntegrityError):
        store.conn.execute(sql)


def test_wal_mode_and_schema_version(store, db):
    assert store.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    versions = [r["version"] for r in store.rows("SELECT version FROM schema_version ORDER BY version")]
    assert versions == [version for version, _name, _path in migrations()]
    assert versions[0] == 1 and len(versions) >= 2


def test_migrations_apply_once(db):
    Store.open(db).close()
    again = Store.open(db)
    assert again.rows("SELECT COUNT(*) AS n FROM schema_version")[0]["n"] == len(migrations())
    assert again.rows("SELECT COUNT(*) AS n FROM configuration WHERE key = 'thetadata.baseUrl'")[0]["n"] == 1


def test_a_database_from_a_newer_version_is_refused(store, db):
    latest = migrations()[-1][0]
    store.conn.execute("INSERT INTO schema_version VALUES (?, 'future', 'x')", (latest + 1,))
    store.close()
    with pytest.raises(DatabaseSchemaError, match=f"schema version {latest + 1}, newer"):
        Store.open(db)


def test_a_file_that_is_not_a_database_is_refused(tmp_path):
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(DatabaseConnectionError, match="not an SQLite database"):
        Store.open(garbage)


def test_a_database_under_a_file_cannot_be_created(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(DatabaseConnectionError, match="cannot create the database directory"):
        Store.open(tmp_path / "file" / "sub" / "log.db")


def test_readers_do_not_create_a_missing_database(db):
    assert Store.open(db, create=False) is None
    assert not db.exists()


def test_seeded_configuration_equals_the_code_defaults(store):
    rows = {r["key"]: r for r in store.config_rows()}
    assert set(rows) == set(config.KEYS)
    assert set(PRD_SEED_KEYS) <= set(rows)
    for name, key in config.KEYS.items():
        assert (rows[name]["value"], rows[name]["value_type"], rows[name]["updated_by"]) == \
            (key.default, key.value_type, "system"), name


# -- events ------------------------------------------------------------------------------------
def test_queued_creates_a_row_once_and_keeps_its_status(store):
    rec(store, {"event": "queued", "date": "2024-01-02"}, {"event": "started", "date": "2024-01-02"},
        {"event": "queued", "date": "2024-01-02"})
    assert row(store, "2024-01-02")["status"] == "processing"


def test_started_counts_a_retry_only_after_a_failed_or_dead_attempt(store):
    day = "2024-01-02"
    rec(store, {"event": "started", "date": day})
    assert row(store, day)["retry_count"] == 0
    rec(store, {"event": "failed", "date": day, "error_type": "ApiConnection", "error_message": "reset"},
        {"event": "started", "date": day})
    assert row(store, day)["retry_count"] == 1
    assert row(store, day)["error_type"] is None  # cleared for the new attempt
    rec(store, {"event": "started", "date": day})  # the previous run died while processing
    assert row(store, day)["retry_count"] == 2
    rec(store, {"event": "succeeded", "date": day, "record_count": 1, "expiration_count": 1,
                "file_size_bytes": 10, "checksum": "c"}, {"event": "started", "date": day})
    assert row(store, day)["retry_count"] == 2  # a forced rebuild of a good day is not a retry


def test_expiration_done_keeps_running_totals(store):
    day = "2024-01-02"
    rec(store, {"event": "started", "date": day},
        {"event": "expiration_done", "date": day, "root": "SPXW", "expiration": "2024-01-03", "rows": 100,
         "requests": 2, "bytes": 5000, "empty": False, "skipped": False, "latency_ms": [3, 4]},
        {"event": "expiration_done", "date": day, "root": "SPX", "expiration": "2024-01-19", "rows": 0,
         "requests": 1, "empty": True})
    got = row(store, day)
    assert (got["expiration_count"], got["record_count"], got["api_requests_made"]) == (2, 100, 3)
    rec(store, {"event": "started", "date": day})  # a new attempt starts its totals again
    assert row(store, day)["record_count"] == 0


def test_succeeded_sets_every_field(store):
    fields = {"record_count": 123, "expiration_count": 4, "file_size_bytes": 999, "checksum": "ab" * 32,
              "processing_duration_ms": 1500, "api_requests_made": 9, "temp_file_size_bytes": 4000,
              "memory_peak_mb": 80}
    rec(store, {"event": "started", "date": "2024-01-02", "at": "2024-01-03T01:00:00Z"},
        {"event": "succeeded", "date": "2024-01-02", "at": "2024-01-03T01:00:01.5+00:00", **fields})
    got = row(store, "2024-01-02")
    assert {k: got[k] for k in fields} == fields
    assert (got["status"], got["started_at"], got["completed_at"]) == \
        ("success", "2024-01-03T01:00:00.000Z", "2024-01-03T01:00:01.500Z")


def test_a_no_data_day_succeeds_without_a_file(store):
    rec(store, {"event": "succeeded", "date": "2024-01-02", "record_count": 0, "expiration_count": 0,
                "error_type": "NoData", "error_message": "no contracts"})
    got = row(store, "2024-01-02")
    assert (got["status"], got["error_type"], got["checksum"]) == ("success", "NoData", None)


def test_failed_sets_the_row_and_logs_an_error(store):
    rec(store, {"event": "started", "date": "2024-01-02"},
        {"event": "failed", "date": "2024-01-02", "error_type": "InsufficientDiskSpace",
         "error_message": "need 2 GB", "stack_trace": "Traceback ...", "processing_duration_ms": 70})
    got = row(store, "2024-01-02")
    assert (got["status"], got["error_type"], got["error_message"], got["processing_duration_ms"]) == \
        ("failed", "InsufficientDiskSpace", "need 2 GB", 70)
    [error] = store.errors(date="2024-01-02")
    assert (error["error_type"], error["stack_trace"]) == ("InsufficientDiskSpace", "Traceback ...")


def test_error_and_metric_create_the_missing_row_as_queued(store):
    rec(store, {"event": "error", "date": "2024-01-05", "error_type": "ApiRateLimit", "error_message": "429",
                "retry_attempt": 2, "context_data": {"url": "http://127.0.0.1/v2/x", "status": 429}},
        {"event": "metric", "date": "2024-01-08", "metric_name": "rows_per_second", "metric_value": 1.5e5,
         "unit": "rows/s", "context": {"format": "csv"}})
    assert [r["status"] for r in store.processing()] == ["queued", "queued"]
    [error] = store.errors()
    assert (error["retry_attempt"], error["context_data"]) == (2, {"url": "http://127.0.0.1/v2/x", "status": 429})
    stored = store.rows("SELECT context_data FROM error_log")[0]["context_data"]
    assert isinstance(stored, str)  # JSON text in the table
    [metric] = store.metrics(name="rows_per_second")
    assert (metric["metric_value"], metric["unit"], metric["context"]) == (1.5e5, "rows/s", {"format": "csv"})


def test_resolved_closes_only_the_open_errors_of_its_date(store):
    error = {"event": "error", "error_type": "ApiConnection", "error_message": "reset"}
    rec(store, {**error, "date": "2024-01-02"}, {**error, "date": "2024-01-03"})
    rec(store, {"event": "resolved", "date": "2024-01-02", "resolution_method": "retry succeeded",
                "at": "2024-02-01T00:00:00Z"})
    rec(store, {"event": "resolved", "date": "2024-01-02", "resolution_method": "again"})
    assert [e["date"] for e in store.errors(unresolved=True)] == ["2024-01-03"]
    [done] = store.errors(date="2024-01-02")
    assert (done["resolved_at"], done["resolution_method"]) == ("2024-02-01T00:00:00.000Z", "retry succeeded")


def test_verified_is_kept_and_the_latest_outcome_joins_the_processing_row(store):
    rec(store, {"event": "succeeded", "date": "2024-01-02", "record_count": 1, "expiration_count": 1,
                "file_size_bytes": 1, "checksum": "c"},
        {"event": "verified", "date": "2024-01-02", "outcome": "ok", "at": "2024-02-01T00:00:00Z"},
        {"event": "verified", "date": "2024-01-02", "outcome": "corrupt", "checksum": "d",
         "at": "2024-02-02T00:00:00Z"},
        {"event": "verified", "date": "2024-01-09", "outcome": "unrecorded"})
    got = row(store, "2024-01-02")
    assert (got["last_verify_outcome"], got["last_verify_checksum"]) == ("corrupt", "d")
    assert row(store, "2024-01-09") is None  # an unrecorded file does not invent a processing row
    assert [v["outcome"] for v in store.verifications(date="2024-01-09")] == ["unrecorded"]


@pytest.mark.parametrize("event, reason", [
    ({"event": "finished", "date": "2024-01-02"}, "unknown event 'finished'"),
    ({"event": "queued"}, "required field 'date'"),
    ({"event": "queued", "date": "2024-02-30"}, "invalid field 'date' '2024-02-30': day is out of range"),
    ({"event": "queued", "date": "20240102"}, "invalid field 'date' '20240102': expected YYYY-MM-DD"),
    ({"event": "expiration_done", "date": "2024-01-02", "root": "SPXW", "expiration": 20240105,
      "rows": 1, "requests": 1}, "'expiration' must be a YYYY-MM-DD date"),
    ({"event": "failed", "date": "2024-01-02", "error_type": "X"}, "'error_message' is missing"),
    ({"event": "metric", "date": "2024-01-02", "metric_name": "m", "metric_value": "1"}, "must be a number"),
    ({"event": "metric", "date": "2024-01-02", "metric_name": "m", "metric_value": True}, "must be a number"),
    ({"event": "expiration_done", "date": "2024-01-02", "root": "SPXW", "expiration": "2024-01-03",
      "rows": -1, "requests": 1}, "non-negative integer"),
    ({"event": "succeeded", "date": "2024-01-02", "record_count": 1, "expiration_count": 1},
     "'file_size_bytes' is required"),
    ({"event": "verified", "date": "2024-01-02", "outcome": "fine"}, "ok | corrupt"),
    ({"event": "queued", "date": "2024-01-02", "at": "yesterday"}, "not an ISO-8601 timestamp"),
])
def test_invalid_events_are_refused_with_the_reason(event, reason):
    with pytest.raises(SchemaValidationError, match=reason):
        validate_event(event)


def test_a_batch_is_all_or_nothing(store):
    good = validate_event({"event": "queued", "date": "2024-01-02"})
    # Valid JSON, valid shape, but the metric cannot be stored: the whole batch rolls back.
    bad = validate_event({"event": "metric", "date": "2024-01-03", "metric_name": "m", "metric_value": 1})
    bad["metric_value"] = None
    with pytest.raises(DatabaseTransactionError, match="NOT NULL"):
        store.record([good, bad])
    assert store.processing() == []


# -- queries -----------------------------------------------------------------------------------
def test_processing_filters(store):
    days = ["2024-01-02", "2024-01-03", "2024-01-04", "2024-01-05"]
    rec(store, *({"event": "queued", "date": d} for d in days),
        {"event": "failed", "date": "2024-01-04", "error_type": "X", "error_message": "y"})
    assert [r["date"] for r in store.processing(date_from="2024-01-03", date_to="2024-01-04")] == days[1:3]
    assert [r["date"] for r in store.processing(status="failed")] == ["2024-01-04"]
    assert [r["date"] for r in store.processing(dates=["2024-01-05", "2024-01-02"])] == [days[0], days[3]]
    assert [r["date"] for r in store.processing(limit=2)] == days[2:]  # the latest two, oldest first


def test_errors_since_and_type(store):
    rec(store, {"event": "error", "date": "2024-01-02", "error_type": "A", "error_message": "m",
                "at": "2024-03-01T10:00:00Z"},
        {"event": "error", "date": "2024-01-02", "error_type": "B", "error_message": "m",
         "at": "2024-03-02T10:00:00-05:00"})
    assert [e["error_type"] for e in store.errors(since="2024-03-02T00:00:00.000Z")] == ["B"]
    assert [e["occurred_at"] for e in store.errors(error_type="B")] == ["2024-03-02T15:00:00.000Z"]


def test_summary_counts_every_status(store):
    rec(store, {"event": "queued", "date": "2024-01-02"}, {"event": "started", "date": "2024-01-03"},
        {"event": "error", "date": "2024-01-03", "error_type": "X", "error_message": "y",
         "at": "2030-01-01T00:00:00Z"})
    summary = store.summary()
    assert summary["counts"] == {"queued": 1, "processing": 1, "success": 0, "failed": 0}
    assert (summary["unresolved_errors"], summary["last_activity"], summary["integrity_check"]) == \
        (1, "2030-01-01T00:00:00.000Z", "ok")
    assert summary["schema_version"] == migrations()[-1][0]


# -- configuration -----------------------------------------------------------------------------
def test_set_and_reset_keep_the_history(store):
    key = config.KEYS["thetadata.maxRetries"]
    row_of = lambda value: (key.name, value, key.value_type, key.description, True)  # noqa: E731
    change = store.set_config(*row_of("9"), by="alice")
    assert (change["old_value"], change["new_value"], change["changed_by"]) == (key.default, "9", "alice")
    store.set_config(*row_of("8"), by="bob")
    changed = store.reset_config(config.default_rows(), by="carol")
    assert [c["key"] for c in changed] == ["thetadata.maxRetries"]  # only what differed
    history = [(h["old_value"], h["new_value"], h["changed_by"]) for h in store.config_history(key.name)]
    assert history == [(key.default, "9", "alice"), ("9", "8", "bob"), ("8", key.default, "carol")]
    assert store.config_rows(key.name)[0]["updated_by"] == "system"
    assert store.reset_config(config.default_rows(), by="carol") == []
