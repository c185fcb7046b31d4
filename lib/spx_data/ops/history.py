"""`spx-data list`: the processing history as records, and the per-date metric trends.

History columns: date, status, records, size, duration, retries (retry_count), quality (the day's
latest quality_score metric), error_type; machine formats add error_message, expirations and
the timestamps, and carry sizes and durations as raw numbers (size_bytes, duration_ms).

Metric trends (--metrics): per date the latest value of each run metric the pipeline logs
(rows/min, MB/min, peak RSS, API latency p95, requests, retries, quality), and a summary line:
mean, min and max of each, and the change of the mean from the older half of the dates to the
newer half (the trend).
"""
import statistics

from ..dates import parse_date
from ..errors import UsageError
from .units import human_bytes, human_seconds

STATUSES = ("queued", "processing", "success", "failed")
TABLE_COLUMNS = ("date", "status", "records", "size", "duration", "retries", "quality", "error_type")
MACHINE_COLUMNS = ("date", "status", "records", "expirations", "size_bytes", "duration_ms", "retries", "quality",
                   "error_type", "error_message", "started_at", "completed_at")

# logged metric name -> column of the trend view
TREND_METRICS = {
    "rows_per_minute": "rows_per_min",
    "mb_per_minute": "mb_per_min",
    "memory_peak_mb": "peak_rss_mb",
    "api_latency_p95_ms": "latency_p95_ms",
    "api_requests": "requests",
    "api_retries": "retries",
    "quality_score": "quality",
}


def check_status(status):
    if status is not None and status not in STATUSES:
        raise UsageError(f"unknown status {status!r}; expected one of {', '.join(STATUSES)}")
    return status


def parse_range(text):
    """'A..B' -> (date A, date B), both ISO dates, A not after B."""
    first, sep, last = str(text).partition("..")
    if not sep:
        raise UsageError(f"invalid --date-range {text!r}: expected START..END, e.g. 2024-01-02..2024-03-28")
    start, end = parse_date(first, "--date-range start"), parse_date(last, "--date-range end")
    if start > end:
        raise UsageError(f"invalid --date-range {text!r}: {start} is after {end}")
    return start, end


def latest_by_date(metrics, name):
    """{date: value} of the latest metric NAME per date (metrics come oldest first)."""
    return {m["date"]: m["metric_value"] for m in metrics if m["metric_name"] == name}


def history(rows, quality):
    """Records of processing_log ROWS; QUALITY maps date -> quality score."""
    return [{
        "date": row["date"],
        "status": row["status"],
        "records": row.get("record_count"),
        "expirations": row.get("expiration_count"),
        "size_bytes": row.get("file_size_bytes"),
        "duration_ms": row.get("processing_duration_ms"),
        "retries": row.get("retry_count") or 0,
        "quality": _rounded(quality.get(row["date"])),
        "error_type": row.get("error_type"),
        "error_message": row.get("error_message"),
        "started_at": row.get("started_at"),
        "completed_at": row.get("completed_at"),
    } for row in rows]


def for_table(records):
    """History records with human sizes and durations."""
    return [dict(r, size=human_bytes(r["size_bytes"]), duration=human_seconds(r["duration_ms"])) for r in records]


def trends(metrics, dates):
    """One record per date of DATES that has any trend metric: {date, <TREND_METRICS columns>}."""
    wanted = set(dates)
    by_date = {}
    for metric in metrics:
        column = TREND_METRICS.get(metric["metric_name"])
        if column and metric["date"] in wanted:
            by_date.setdefault(metric["date"], {})[column] = _rounded(metric["metric_value"])
    return [{"date": day, **{c: by_date[day].get(c) for c in TREND_METRICS.values()}} for day in sorted(by_date)]


def trend_summary(records):
    """{column: {n, mean, min, max, trend_pct}} over the trend records (oldest first)."""
    summary = {}
    for column in TREND_METRICS.values():
        values = [r[column] for r in records if r.get(column) is not None]
        if not values:
            continue
        half = len(values) // 2
        older, newer = values[:half], values[half:]
        trend = None
        if older and statistics.fmean(older):
            trend = round((statistics.fmean(newer) / statistics.fmean(older) - 1) * 100, 1)
        summary[column] = {"n": len(values), "mean": _rounded(statistics.fmean(values)),
                           "min": min(values), "max": max(values), "trend_pct": trend}
    return summary


def summary_line(summary, days):
    """One line for stderr, e.g. '12 days: rows_per_min mean 61,234 (50,112..70,001, +4.2 %); ...'."""
    if not summary:
        return "no run metrics logged for these dates"
    parts = []
    for column, s in summary.items():
        trend = "" if s["trend_pct"] is None else f", {s['trend_pct']:+.1f} %"
        parts.append(f"{column} mean {_number(s['mean'])} ({_number(s['min'])}..{_number(s['max'])}{trend})")
    return f"{days} day{'s' if days != 1 else ''}: " + "; ".join(parts)


def _number(value):
    return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:g}"


def _rounded(value):
    return None if value is None else round(float(value), 2)
