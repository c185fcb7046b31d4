"""`spx-data status`: one snapshot of the data directory, gathered in parallel so it answers in
well under 2 s even with the terminal down (the terminal probe has a 1 s connect timeout).

Everything comes from what runs log (spx-log summary and processing rows, updated per expiration
while a day runs), the day locks (which runs are alive, and their pids), gap analysis, the file
systems and the terminal. A part that cannot be read is reported as an error in its own field;
the rest of the snapshot is still shown.
"""
import os
from concurrent.futures import ThreadPoolExecutor

from .. import daylock, diskspace
from ..errors import SpxError
from . import terminal
from .units import human_bytes


def collect(cfg, terminal_timeout=terminal.PROBE_TIMEOUT):
    """The status snapshot as a dict (the --format json shape)."""
    db = cfg["database.path"]
    out_dir, temp_dir = cfg["processing.outputDirectory"], cfg["processing.tempDirectory"]
    with ThreadPoolExecutor(max_workers=4) as pool:
        probe = pool.submit(terminal.probe, cfg, terminal_timeout)
        summary = pool.submit(_guarded, _summary, db)
        running = pool.submit(_guarded, _runs, db, temp_dir)
        gaps = pool.submit(_guarded, _gap_count, cfg)
    summary, running, gaps = summary.result(), running.result(), gaps.result()
    counts = summary.get("counts") or {}
    return {
        "last_activity": summary.get("last_activity"),
        "processed": counts.get("success"),
        "failed": counts.get("failed"),
        "queued": counts.get("queued"),
        "in_progress": running.get("live", []),
        "stale": running.get("stale", []),
        "gaps": gaps.get("count"),
        "gaps_note": gaps.get("note") or gaps.get("error"),
        "output_dir": _directory(out_dir),
        "temp_dir": _directory(temp_dir),
        "database": {"path": os.path.abspath(db), "exists": summary.get("exists", "error" not in summary),
                     "schema_version": summary.get("schema_version"),
                     "integrity": summary.get("integrity_check"),
                     "unresolved_errors": summary.get("unresolved_errors"),
                     "error": summary.get("error") or running.get("error")},
        "terminal": probe.result(),
    }


def _guarded(function, *args):
    try:
        return function(*args)
    except SpxError as exc:
        return {"error": str(exc) or exc.error_type}


def _summary(db):
    from .. import logclient
    return logclient.query("summary", db=db)[0]


def _runs(db, temp_dir):
    """Live runs (day lock held: date, pid and the running totals they logged) and stale ones
    (status processing, nobody holds the lock: the run died)."""
    from .. import logclient
    live = daylock.running(temp_dir)
    rows = {r["date"]: r for r in logclient.query("processing", db=db, status="processing")}
    return {
        "live": [{"date": day, "pid": pid, "expirations": (rows.get(day) or {}).get("expiration_count"),
                  "records": (rows.get(day) or {}).get("record_count"),
                  "started_at": (rows.get(day) or {}).get("started_at")} for day, pid in sorted(live.items())],
        "stale": sorted(day for day in rows if day not in live),
    }


def _gap_count(cfg):
    from .. import calendar, gaps
    start = cfg["processing.startDate"]
    if start is None:
        return {"count": None, "note": "processing.startDate is not set; "
                                       "spx-data config set processing.startDate 2024-01-02"}
    end = calendar.last_completed_session()
    if start > end:
        return {"count": 0}
    found = gaps.find_gaps(start, end, cfg["processing.outputDirectory"], cfg["processing.tempDirectory"],
                           db=cfg["database.path"])
    return {"count": len(found)}


def _directory(path):
    try:
        return {"path": os.path.abspath(path), "free_bytes": diskspace.free_bytes(path)}
    except OSError as exc:
        return {"path": os.path.abspath(path), "free_bytes": None, "error": exc.strerror}


def lines(snapshot):
    """The table form: [{"key", "value"}] rows, one fact per line."""
    def run_text(run):
        done = f"{run['expirations'] or 0} expirations, {run['records'] or 0:,} rows so far"
        return f"{run['date']} (pid {run['pid']}, {done})"

    database, term = snapshot["database"], snapshot["terminal"]
    if database["error"]:
        db_text = f"{database['path']}: ERROR {database['error']}"
    elif not database["exists"]:
        db_text = f"{database['path']}: not created yet"
    else:
        unresolved = database["unresolved_errors"]
        db_text = (f"{database['path']}: schema {database['schema_version']}, integrity {database['integrity']}, "
                   f"{unresolved} unresolved error{'s' if unresolved != 1 else ''}")
    if term["reachable"]:
        term_text = f"{term['url']}: {term['mdds_status']}, api {term['api_version'] or 'not detected'}"
    else:
        term_text = f"{term['url']}: unreachable ({term['error']})"
    gaps = snapshot["gaps"]
    rows = [
        ("last_activity", snapshot["last_activity"] or "never"),
        ("processed", snapshot["processed"]),
        ("failed", snapshot["failed"]),
        ("in_progress", "; ".join(run_text(r) for r in snapshot["in_progress"]) or "none"),
        ("stale", ", ".join(snapshot["stale"]) + " (the run died; spx-data retry --all-failed)"
         if snapshot["stale"] else "none"),
        ("gaps", f"{gaps}" if gaps is not None else f"- ({snapshot['gaps_note']})"),
        ("output_dir", _dir_text(snapshot["output_dir"])),
        ("temp_dir", _dir_text(snapshot["temp_dir"])),
        ("database", db_text),
        ("terminal", term_text),
    ]
    return [{"key": key, "value": "-" if value is None else value} for key, value in rows]


def _dir_text(directory):
    if directory["free_bytes"] is None:
        return f"{directory['path']} ({directory.get('error')})"
    return f"{directory['path']} ({human_bytes(directory['free_bytes'])} free)"
