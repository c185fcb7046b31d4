"""spx-data list: the processing history and the metric trends, from a real spx-log database."""
import csv
import datetime as dt
import io
import json

import pytest

from spx_data import logclient
from spx_data.dates import today_et
from test_ops_support import log_failure, spx


def succeed(day, records=1000, size=2_500_000, duration_ms=65_000, metrics=None):
    events = [{"event": "started", "date": day},
              {"event": "succeeded", "date": day, "record_count": records, "expiration_count": 4,
               "file_size_bytes": size, "checksum": "ab" * 32, "processing_duration_ms": duration_ms}]
    events += [{"event": "metric", "date": day, "metric_name": name, "metric_value": value}
               for name, value in (metrics or {}).items()]
    logclient.record(events)


def listing(*argv):
    result = spx("spx-data", "list", "--format", "ndjson", *argv)
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


@pytest.fixture
def history():
    succeed("2024-01-02", metrics={"quality_score": 91.0})
    log_failure("2024-01-03", "ApiRateLimit", "the terminal is busy", attempts=3)
    succeed("2024-01-04", records=2000, size=5_000_000)


def test_machine_formats_carry_every_column_with_raw_numbers(history):
    rows = {r["date"]: r for r in listing()}
    assert list(rows) == ["2024-01-02", "2024-01-03", "2024-01-04"]
    assert rows["2024-01-02"]["size_bytes"] == 2_500_000 and rows["2024-01-02"]["duration_ms"] == 65_000
    assert rows["2024-01-02"]["quality"] == 91.0
    failed = rows["2024-01-03"]
    assert (failed["status"], failed["error_type"], failed["error_message"]) == \
        ("failed", "ApiRateLimit", "the terminal is busy")
    assert failed["retries"] == 2  # the original attempt and two retries


def test_table_shows_human_sizes_and_durations(history):
    result = spx("spx-data", "list")
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["DATE", "STATUS", "RECORDS", "SIZE", "DURATION", "RETRIES", "QUALITY", "ERROR_TYPE"]
    first = lines[1]
    assert "2.50 MB" in first and "1m05s" in first and "91.0" in first


def test_csv_has_a_header_and_a_row_per_date(history):
    result = spx("spx-data", "list", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [r["date"] for r in rows] == ["2024-01-02", "2024-01-03", "2024-01-04"]
    assert rows[1]["error_type"] == "ApiRateLimit"


def test_json_is_one_array(history):
    result = spx("spx-data", "list", "--format", "json")
    assert [r["date"] for r in json.loads(result.stdout)] == ["2024-01-02", "2024-01-03", "2024-01-04"]


def test_failed_only_and_status_filter(history):
    assert [r["date"] for r in listing("--failed-only")] == ["2024-01-03"]
    assert [r["date"] for r in listing("--status", "success")] == ["2024-01-02", "2024-01-04"]


def test_unknown_status_is_bad_usage(history):
    result = spx("spx-data", "list", "--status", "done")
    assert result.returncode == 2
    assert "queued, processing, success, failed" in result.stderr


def test_date_range_is_inclusive(history):
    assert [r["date"] for r in listing("--date-range", "2024-01-03..2024-01-04")] == ["2024-01-03", "2024-01-04"]


@pytest.mark.parametrize("bad", ["2024-01-04..2024-01-03", "2024-01-03", "2024-01-03..2024-02-30"])
def test_bad_date_range_is_bad_usage(history, bad):
    result = spx("spx-data", "list", "--date-range", bad)
    assert result.returncode == 2
    assert "--date-range" in result.stderr


def test_since_takes_relative_expressions():
    today = today_et()
    recent, old = (today - dt.timedelta(days=5)).isoformat(), (today - dt.timedelta(days=40)).isoformat()
    succeed(old)
    succeed(recent)
    assert [r["date"] for r in listing("--since", "30 days ago")] == [recent]
    assert [r["date"] for r in listing("--since", "6w")] == [old, recent]
    bad = spx("spx-data", "list", "--since", "fortnight")
    assert bad.returncode == 2


def test_limit_keeps_the_latest_dates(history):
    assert [r["date"] for r in listing("--limit", "2")] == ["2024-01-03", "2024-01-04"]


def test_quality_is_the_latest_score_of_the_date():
    succeed("2024-01-02", metrics={"quality_score": 40.0})
    succeed("2024-01-02", metrics={"quality_score": 95.5})   # a forced rebuild scored better
    assert listing()[0]["quality"] == 95.5


def test_metrics_view_shows_trends_and_a_summary():
    succeed("2024-01-02", metrics={"rows_per_minute": 50_000.0, "memory_peak_mb": 300.0, "quality_score": 90.0})
    succeed("2024-01-03", metrics={"rows_per_minute": 60_000.0, "memory_peak_mb": 320.0})
    succeed("2024-01-04", metrics={"rows_per_minute": 90_000.0, "api_latency_p95_ms": 180.0})
    succeed("2024-01-05", metrics={"rows_per_minute": 110_000.0})
    succeed("2024-01-08")                                        # no metrics: not a row of the trend
    result = spx("spx-data", "list", "--metrics", "--format", "ndjson")
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["date"] for r in rows] == ["2024-01-02", "2024-01-03", "2024-01-04", "2024-01-05"]
    assert rows[0]["peak_rss_mb"] == 300.0 and rows[2]["latency_p95_ms"] == 180.0
    assert rows[3]["peak_rss_mb"] is None
    summary = result.stderr
    assert "4 days" in summary
    assert "rows_per_min mean 77,500 (50,000..110,000, +81.8 %)" in summary  # (90k+110k)/2 vs (50k+60k)/2


def test_metrics_view_honours_the_date_range():
    succeed("2024-01-02", metrics={"rows_per_minute": 1.0})
    succeed("2024-01-03", metrics={"rows_per_minute": 2.0})
    result = spx("spx-data", "list", "--metrics", "--date-range", "2024-01-03..2024-01-03", "--format", "ndjson")
    assert [json.loads(line)["date"] for line in result.stdout.splitlines()] == ["2024-01-03"]


def test_empty_history_says_so():
    result = spx("spx-data", "list")
    assert result.returncode == 0
    assert result.stdout == ""
    assert "no processing history" in result.stderr
