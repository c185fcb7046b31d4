"""spx_data.logclient: the subprocess client of spx-log that every other module uses."""
import datetime as dt
import os
import signal

import pytest

from spx_data import logclient
from spx_data.errors import (
    ConfigurationValidationError, DatabaseConnectionError, DatabaseError, DatabaseSchemaError,
    SchemaValidationError, UsageError,
)
from spx_data.store import Store, migrations


def test_record_then_query_round_trip():
    logclient.record([{"event": "started", "date": "2024-01-02"},
                      {"event": "error", "date": "2024-01-02", "error_type": "ApiRateLimit", "error_message": "429",
                       "context_data": {"status": 429}}])
    [row] = logclient.query("processing", date=dt.date(2024, 1, 2))
    assert (row["date"], row["status"]) == ("2024-01-02", "processing")
    [error] = logclient.query("errors", unresolved=True, type="ApiRateLimit")
    assert error["context_data"] == {"status": 429}


def test_query_filters_reach_spx_log():
    logclient.record([{"event": "queued", "date": d} for d in ("2024-01-02", "2024-01-03", "2024-01-04")])
    got = logclient.query("processing", date_from="2024-01-03", to=dt.date(2024, 1, 4), status="queued")
    assert [r["date"] for r in got] == ["2024-01-03", "2024-01-04"]
    assert [r["date"] for r in logclient.query("processing", dates=["2024-01-04", "2024-01-02"])] == \
        ["2024-01-02", "2024-01-04"]
    assert [r["date"] for r in logclient.query("processing", limit=1)] == ["2024-01-04"]
    assert logclient.query("summary")[0]["counts"]["queued"] == 3


def test_an_explicit_db_is_used(tmp_path):
    other = tmp_path / "other.db"
    logclient.record([{"event": "queued", "date": "2024-01-02"}], db=other)
    assert logclient.query("processing") == []
    assert len(logclient.query("processing", db=other)) == 1


def test_unknown_kinds_and_filters_are_usage_errors():
    with pytest.raises(UsageError, match="unknown query kind"):
        logclient.query("everything")
    with pytest.raises(UsageError, match="unknown filter 'colour'"):
        logclient.query("processing", colour="red")


def test_a_rejected_batch_raises_with_spx_logs_message():
    with pytest.raises(SchemaValidationError, match=r"^-:2: unknown event 'done'"):
        logclient.record([{"event": "queued", "date": "2024-01-02"}, {"event": "done", "date": "2024-01-02"}])
    assert logclient.query("processing") == []


def test_a_newer_database_raises_a_schema_error(spx_env):
    store = Store.open(spx_env["SPX_DATA_DATABASE_PATH"])
    store.conn.execute("INSERT INTO schema_version VALUES (?, 'future', 'x')", (migrations()[-1][0] + 1,))
    store.close()
    with pytest.raises(DatabaseSchemaError, match="newer than this spx-data knows"):
        logclient.query("processing")


def test_an_unusable_database_path_raises_a_database_error(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(DatabaseConnectionError, match="cannot create the database directory"):
        logclient.record([{"event": "queued", "date": "2024-01-02"}], db=tmp_path / "file" / "x.db")


def test_event_stream_commits_every_event_as_it_is_sent():
    with logclient.EventStream() as log:
        log.send({"event": "started", "date": "2024-01-02"})
        log.send({"event": "expiration_done", "date": "2024-01-02", "root": "SPXW", "expiration": "2024-01-03",
                  "rows": 7, "requests": 1})
        # Visible to another reader while the stream is still open (the stream flushes per event;
        # spx-log commits per line) — poll briefly because the child works asynchronously.
        for _ in range(400):
            rows = logclient.query("processing")
            if rows and rows[0]["record_count"] == 7:
                break
        assert rows[0]["record_count"] == 7


def test_event_stream_reports_bad_events_on_close():
    with pytest.raises(SchemaValidationError, match="-:1: .*required field 'error_message'"):
        with logclient.EventStream() as log:
            log.send({"event": "failed", "date": "2024-01-02", "error_type": "X"})
            log.send({"event": "queued", "date": "2024-01-03"})
    assert [r["date"] for r in logclient.query("processing")] == ["2024-01-03"]


def test_event_stream_does_not_hide_the_exception_already_raised():
    with pytest.raises(KeyError):
        with logclient.EventStream() as log:
            log.send({"event": "nonsense", "date": "2024-01-02"})
            raise KeyError("the caller's own failure")


def test_event_stream_raises_when_spx_log_died():
    with pytest.raises(DatabaseError):
        with logclient.EventStream() as log:
            os.kill(log._proc.pid, signal.SIGKILL)
            log._proc.wait()
            for _ in range(10):  # the first writes may still fit in the pipe buffer
                log.send({"event": "queued", "date": "2024-01-02"})


def test_config_values_are_only_what_a_user_stored():
    assert logclient.config_values() == {}  # a fresh database: only the seeded defaults
    change = logclient.config_set("processing.parallelism", "3", by="tester")
    assert (change["new_value"], change["changed_by"]) == ("3", "tester")
    assert logclient.config_values() == {"processing.parallelism": "3"}
    assert [h["new_value"] for h in logclient.query("config-history", key="processing.parallelism")] == ["3"]
    with pytest.raises(ConfigurationValidationError, match="processing.parallelism=0"):
        logclient.config_set("processing.parallelism", "0")
    assert [c["key"] for c in logclient.config_reset(by="tester")] == ["processing.parallelism"]
    assert logclient.config_values() == {}


def test_check_reports_schema_and_integrity():
    logclient.record([{"event": "queued", "date": "2024-01-02"}])
    result = logclient.check()
    assert (result["integrity_check"], result["schema_version"]) == ("ok", result["latest_schema_version"])


def test_spx_log_failures_do_not_overwrite_the_callers_error_file(tmp_path, monkeypatch):
    report = tmp_path / "error.json"
    report.write_text("the caller's own report\n")
    monkeypatch.setenv("SPX_DATA_ERROR_FILE", str(report))
    with pytest.raises(SchemaValidationError):
        logclient.record([{"event": "bogus", "date": "2024-01-02"}])
    assert report.read_text() == "the caller's own report\n"
