"""`spx-data verify`: re-check sealed files against themselves, their sidecars and the log.

Per date, one outcome:
  ok          the file reads, has the pinned schema and its footer's row count, its SHA-256
              matches the sidecar and the checksum logged at success (and, for a success row,
              the logged record count); also a day logged as NoData, which has no file;
  corrupt     any of those checks fails (the reason says which);
  missing     no sealed file: the log says success with records (the file is gone), or the day
              was never sealed (asked for by date);
  unrecorded  the file is intact but the log never recorded a success with a checksum for it.
Every outcome is logged as a `verified` event, so `spx-data gaps` lists what verify found corrupt.
"""
import os
import re
from pathlib import Path

from .. import layout

_FINAL_GLOB = f"[0-9][0-9][0-9][0-9]/[0-9][0-9]/[0-9][0-9]/{layout.FILE_PREFIX}*.parquet"
_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}$")
OUTCOMES = ("ok", "corrupt", "missing", "unrecorded")


def sealed_dates(output_dir):
    """ISO dates of every sealed file in the output tree."""
    root = Path(output_dir)
    if not root.is_dir():
        return set()
    found = set()
    for path in root.glob(_FINAL_GLOB):
        day = layout.date_of_final(path)
        if day and _ISO.match(day) and path == layout.final_path(output_dir, day):
            found.add(day)
    return found


def _expects_file(row):
    return row.get("status") == "success" and not _no_data(row)


def _no_data(row):
    return row.get("error_type") == "NoData" or row.get("record_count") == 0


def all_dates(output_dir, rows):
    """--all: every sealed file, and every day the log says was sealed."""
    return sorted(sealed_dates(output_dir) | {r["date"] for r in rows if _expects_file(r)})


def check_day(day, row, output_dir):
    """{date, outcome, reason, rows, sha256, path} for one day; ROW is its processing_log row or None."""
    from ..seal import check
    row = row or {}
    final = layout.final_path(output_dir, day)
    result = {"date": day, "outcome": None, "reason": None, "rows": None, "sha256": None, "path": str(final)}
    if not os.path.exists(final):
        if row.get("status") == "success" and _no_data(row):
            return dict(result, outcome="ok", reason="the terminal had no data that day; no file expected")
        if row.get("status") == "success":
            return dict(result, outcome="missing",
                        reason=f"logged success with {row.get('record_count')} rows, but the file is gone")
        status = row.get("status") or "not in the log"
        return dict(result, outcome="missing", reason=f"never sealed (status: {status})")
    checked = check(final)  # readable, pinned schema, footer rows and digest, sidecar
    result.update(rows=checked.get("rows"), sha256=checked.get("sha256"))
    if checked["outcome"] != "ok":
        return dict(result, outcome=checked["outcome"], reason=checked.get("reason"))
    logged = (row.get("checksum") or "").lower()
    if not logged:
        return dict(result, outcome="unrecorded", reason="intact, but the log has no success with a checksum for it")
    if result["sha256"] != logged:
        return dict(result, outcome="corrupt", reason=f"sha256 differs from the database ({logged[:12]}…)")
    if row.get("status") == "success" and row.get("record_count") not in (None, result["rows"]):
        return dict(result, outcome="corrupt",
                    reason=f"{result['rows']} rows, the database logged {row['record_count']}")
    return dict(result, outcome="ok")


def verify_days(days, rows_by_date, output_dir, log):
    """Check DAYS one by one, sending each outcome to LOG (an EventStream) as soon as it is known,
    so an interrupted verify keeps what it found. Yields the results."""
    for day in days:
        result = check_day(day, rows_by_date.get(day), output_dir)
        event = {"event": "verified", "date": day, "outcome": result["outcome"]}
        if result["sha256"]:
            event["checksum"] = result["sha256"]
        if result["reason"]:
            event["reason"] = result["reason"]
        log.send(event)
        yield result
