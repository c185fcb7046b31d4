"""Gap analysis: the trading days of a range without a sealed, verified Parquet file, and why.

Each trading day falls in at most one category (checked in this order):
  corrupt            the sealed file exists but its SHA-256 differs from its sidecar or from the
                     checksum the log recorded at success, the sidecar is missing or unreadable, or
                     the day's latest `verified` event said corrupt about this very file (same
                     checksum, or verified after the file was sealed).
  in_progress_stale  status processing, no sealed file, and nobody holds the day's lock
                     ({tempDir}/locks/DATE.lock): the run died. A live run (lock held) is not a gap.
  failed             status failed and no sealed file; retry_count and error_type from the log.
  no_data            status success with error_type NoData (or zero records) and no file: the
                     terminal had nothing for the day. Listed only when asked (include_no_data).
  missing_file       status success with records, but the sealed file is gone.
  never_attempted    no processing_log row, or only `queued`, and no sealed file.
Not gaps: a sealed file that matches its sidecar and the log, whatever the status says (a failed
forced re-run leaves the previous good file in place); a sealed file the log never recorded
(`spx-data verify` reports it as `unrecorded`); a day a live run is working on.

The processing history comes ONLY from spx-log (spx_data.logclient); SQLite is never opened here.

Priority (higher first with --by-priority), a sum of four terms:
  recency     10 / (1 + age in years): yesterday ~10, a year ago 5, nine years ago 1
  category    corrupt 4, missing_file 4, in_progress_stale 3, failed 3, never_attempted 1, no_data 0
              (a file we had and lost, or a run that broke, before a day never tried)
  retries     -0.5 per retry already made, at most -2.5 (a day that keeps failing waits its turn)
  volatility  0..5: 5 * (highest iv_atm_mean logged within 7 calendar days / median iv_atm_mean
              of all logged days - 1), clipped to 0..5; 0 when no such metrics were logged.

Caching, so that ten years answer in well under half a second when nothing changed:
  - file hashes in {tempDir}/cache/hashes.json keyed by path, valid while size, mtime_ns,
    ctime_ns and inode are unchanged (a flipped byte changes mtime and ctime);
  - the whole result in {tempDir}/cache/gaps-<range>.json, valid while today's date, the database
    and its WAL (size, mtime_ns, inode) and the stat of every expected sealed file and sidecar are
    unchanged. Lock state is never cached: whether a `processing` day's run is alive is checked on
    every call.
"""
import datetime as _dt
import hashlib
import os
import statistics

import ujson

from . import calendar, daylock, integrity, layout
from .dates import today_et

CATEGORIES = ("never_attempted", "failed", "in_progress_stale", "missing_file", "corrupt", "no_data")
COLUMNS = ("date", "category", "retry_count", "error_type", "priority", "detail")

CATEGORY_WEIGHT = {"corrupt": 4, "missing_file": 4, "in_progress_stale": 3, "failed": 3,
                   "never_attempted": 1, "no_data": 0}
RETRY_PENALTY, MAX_RETRY_PENALTY = 0.5, 2.5
VOLATILITY_WINDOW_DAYS, MAX_VOLATILITY = 7, 5.0
VOLATILITY_METRIC = "iv_atm_mean"
_CACHE_VERSION = 1


def find_gaps(start, end, output_dir, temp_dir, db=None, today=None, include_no_data=False,
              categories=None, by_priority=False, history=None):
    """The gaps of trading days START..END (dates), as dicts with the COLUMNS keys.

    Oldest first, or highest priority first with BY_PRIORITY. CATEGORIES (an iterable of names)
    keeps only those. DB is the status database path (default: the one spx-log would use).
    HISTORY(start, end) -> (processing rows, iv metric rows) replaces the spx-log queries
    (tests count its calls to see the cache at work)."""
    today = today or today_et()
    if db is None:
        from .config import database_path
        db = database_path()[0]  # the cache must watch the very file spx-log will read
    days = calendar.trading_days(start, end)
    files = {day: layout.final_path(output_dir, day) for day in days}
    cache = _ResultCache(temp_dir, start, end)
    signature = _signature(today, db, files)
    gaps = cache.load(signature)
    if gaps is None:
        history = history or _logged_history(db)
        rows, iv_metrics = history(start, end)
        with _HashCache(temp_dir) as hashes:
            gaps = _classify(days, files, {row["date"]: row for row in rows}, hashes)
        _prioritise(gaps, today, _volatility(iv_metrics))
        cache.save(signature, gaps)
    gaps = [g for g in gaps if not _run_is_live(g, temp_dir)]
    if not include_no_data:
        gaps = [g for g in gaps if g["category"] != "no_data"]
    if categories:
        wanted = set(categories)
        gaps = [g for g in gaps if g["category"] in wanted]
    if by_priority:
        gaps.sort(key=lambda g: (g["priority"], g["date"]), reverse=True)  # ties: the recent day first
    return gaps


# -- classification ---------------------------------------------------------------------------
def _classify(days, files, rows, hashes):
    gaps = []
    for day in days:
        iso = day.isoformat()
        row = rows.get(iso) or {}
        category, detail = _category(row, files[day], hashes)
        if category:
            gaps.append({"date": iso, "category": category, "retry_count": row.get("retry_count") or 0,
                         "error_type": row.get("error_type"), "priority": 0.0, "detail": detail})
    return gaps


def _category(row, final, hashes):
    status = row.get("status")
    try:
        stat = os.stat(final)
    except FileNotFoundError:
        stat = None
    if stat is not None:
        problem = _integrity_problem(row, final, stat, hashes)
        return ("corrupt", problem) if problem else (None, None)
    if status == "processing":
        return "in_progress_stale", "status processing but no run holds the day's lock"
    if status == "failed":
        return "failed", row.get("error_message")
    if status == "success":
        if row.get("error_type") == "NoData" or row.get("record_count") == 0:
            return "no_data", "the terminal had no data for this day"
        return "missing_file", f"logged success but {final} is gone"
    return "never_attempted", None


def _integrity_problem(row, final, stat, hashes):
    recorded = integrity.read_sidecar(final)
    if recorded is None:
        return "sidecar missing or unreadable"
    digest = hashes.sha256(final, stat)
    if digest != recorded:
        return "sha256 differs from the sidecar"
    logged = row.get("checksum") if row.get("status") == "success" else None
    if logged and digest != logged.lower():
        return "sha256 differs from the checksum in the database"
    if row.get("last_verify_outcome") == "corrupt":
        verified_checksum = row.get("last_verify_checksum")
        same_file = (verified_checksum.lower() == digest if verified_checksum
                     else (row.get("last_verified_at") or "") >= (row.get("completed_at") or ""))
        if same_file:
            return "spx-data verify found it corrupt"
    return None


def _run_is_live(gap, temp_dir):
    return (gap["category"] == "in_progress_stale"
            and daylock.holder(layout.lock_path(temp_dir, gap["date"])) is not None)


# -- priority ---------------------------------------------------------------------------------
def _volatility(iv_metrics):
    """day -> volatility term, from iv_atm_mean metrics ({date, metric_value} rows)."""
    by_day = {}
    for metric in iv_metrics:
        value = metric.get("metric_value")
        if isinstance(value, (int, float)) and value > 0:
            by_day[_dt.date.fromisoformat(metric["date"])] = float(value)
    if not by_day:
        return lambda day: 0.0
    median = statistics.median(by_day.values())
    window = _dt.timedelta(days=VOLATILITY_WINDOW_DAYS)

    def term(day):
        nearby = [v for d, v in by_day.items() if abs(d - day) <= window]
        if not nearby:
            return 0.0
        return min(MAX_VOLATILITY, max(0.0, MAX_VOLATILITY * (max(nearby) / median - 1)))
    return term


def _prioritise(gaps, today, volatility):
    for gap in gaps:
        day = _dt.date.fromisoformat(gap["date"])
        age_years = max(0, (today - day).days) / 365.25
        score = (10 / (1 + age_years) + CATEGORY_WEIGHT[gap["category"]]
                 - min(MAX_RETRY_PENALTY, RETRY_PENALTY * gap["retry_count"]) + volatility(day))
        gap["priority"] = round(score, 2)


# -- inputs -----------------------------------------------------------------------------------
def _logged_history(db):
    def history(start, end):
        from . import logclient
        rows = logclient.query("processing", db=db, date_from=start.isoformat(), date_to=end.isoformat())
        iv_metrics = logclient.query("metrics", db=db, name=VOLATILITY_METRIC)
        return rows, iv_metrics
    return history


def _stat_key(path):
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    return [st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino]


def _signature(today, db, files):
    digest = hashlib.sha256()
    db_path = os.fspath(db)
    parts = [_CACHE_VERSION, today.isoformat(), db_path, _stat_key(db_path), _stat_key(f"{db_path}-wal")]
    digest.update(ujson.dumps(parts).encode())
    for day, final in files.items():
        entry = [os.fspath(final), _stat_key(final), _stat_key(layout.sidecar_path(final))]
        digest.update(ujson.dumps(entry).encode())
    return digest.hexdigest()


# -- caches -----------------------------------------------------------------------------------
def _cache_dir(temp_dir):
    return os.path.join(os.fspath(temp_dir), "cache")


def _read_json(path):
    try:
        with open(path, encoding="utf-8") as handle:
            return ujson.load(handle)
    except (OSError, ValueError):
        return None  # a missing or damaged cache is a miss, never an error


def _write_json(path, value):
    os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
    temporary = f"{path}.{os.getpid()}.tmp"
    with open(temporary, "w", encoding="utf-8") as handle:
        ujson.dump(value, handle)
    os.replace(temporary, path)  # readers see the old or the new file, never half of one


class _ResultCache:
    def __init__(self, temp_dir, start, end):
        self.path = os.path.join(_cache_dir(temp_dir), f"gaps-{start.isoformat()}-{end.isoformat()}.json")

    def load(self, signature):
        cached = _read_json(self.path)
        if isinstance(cached, dict) and cached.get("signature") == signature:
            return cached["gaps"]
        return None

    def save(self, signature, gaps):
        _write_json(self.path, {"signature": signature, "gaps": gaps})


class _HashCache:
    """SHA-256 of sealed files, recomputed only when a file's stat changed."""

    def __init__(self, temp_dir):
        self.path = os.path.join(_cache_dir(temp_dir), "hashes.json")
        self.entries = None
        self.changed = False

    def __enter__(self):
        loaded = _read_json(self.path)
        self.entries = loaded if isinstance(loaded, dict) else {}
        return self

    def sha256(self, path, stat):
        key = os.fspath(path)
        stamp = [stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns, stat.st_ino]
        entry = self.entries.get(key)
        if isinstance(entry, list) and entry[:4] == stamp:
            return entry[4]
        digest = integrity.sha256_file(path)
        self.entries[key] = [*stamp, digest]
        self.changed = True
        return digest

    def __exit__(self, *exc):
        if self.changed:
            self.entries = {k: v for k, v in self.entries.items() if os.path.exists(k)}
            _write_json(self.path, self.entries)
