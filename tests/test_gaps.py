"""Gap analysis against real situations: real sealed Parquet files with sidecars, real events in a
real status database through spx-log, real processes holding (and dying with) day locks."""
import datetime as dt
import json
import signal
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from spx_data import gaps, integrity, layout, logclient

D = dt.date.fromisoformat
START, END = D("2024-01-02"), D("2024-01-12")
WEEK_ONE = ["2024-01-02", "2024-01-03", "2024-01-04", "2024-01-05", "2024-01-08", "2024-01-09",
            "2024-01-10", "2024-01-11", "2024-01-12"]
TODAY = D("2024-02-01")
LIB = Path(__file__).resolve().parent.parent / "lib"


@pytest.fixture
def world(spx_env):
    return SimpleNamespace(out=Path(spx_env["SPX_DATA_PROCESSING_OUTPUTDIRECTORY"]),
                           temp=Path(spx_env["SPX_DATA_PROCESSING_TEMPDIRECTORY"]),
                           db=spx_env["SPX_DATA_DATABASE_PATH"])


def find(world, start=START, end=END, **options):
    return gaps.find_gaps(start, end, world.out, world.temp, db=world.db, today=TODAY, **options)


def by_date(found):
    return {g["date"]: g for g in found}


def seal(world, day, rows=3, strike=4700.0):
    """A real sealed day: a small Parquet file and its sha256sum sidecar."""
    final = layout.final_path(world.out, day)
    final.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.table({"date": [day] * rows, "strike": [strike + i for i in range(rows)]}), final)
    checksum = integrity.sha256_file(final)
    layout.sidecar_path(final).write_text(integrity.sidecar_text(final, checksum))
    return final, checksum


def succeeded(day, checksum, records=3, **extra):
    return {"event": "succeeded", "date": day, "record_count": records, "expiration_count": 1,
            "file_size_bytes": 100, "checksum": checksum, **extra}


def seal_and_log(world, day):
    final, checksum = seal(world, day)
    logclient.record([{"event": "started", "date": day}, succeeded(day, checksum)], db=world.db)
    return final, checksum


def flip_a_byte(path):
    with open(path, "r+b") as handle:
        handle.seek(10)
        byte = handle.read(1)
        handle.seek(10)
        handle.write(bytes([byte[0] ^ 0xFF]))


# -- categories -------------------------------------------------------------------------------
def test_every_trading_day_is_never_attempted_in_an_empty_world(world):
    logclient.record([{"event": "queued", "date": "2024-01-03"}], db=world.db)
    found = find(world)
    assert [g["date"] for g in found] == WEEK_ONE  # weekends 6/7 January are no gaps
    assert {g["category"] for g in found} == {"never_attempted"}
    assert found[0] == {"date": "2024-01-02", "category": "never_attempted", "retry_count": 0,
                        "error_type": None, "priority": found[0]["priority"], "detail": None}


def test_holidays_are_never_gaps(world):
    found = find(world, D("2024-12-23"), D("2025-01-10"))
    dates = {g["date"] for g in found}
    assert "2024-12-25" not in dates and "2025-01-01" not in dates and "2025-01-09" not in dates
    assert {"2024-12-24", "2024-12-26", "2025-01-02", "2025-01-10"} <= dates


def test_sealed_logged_day_is_not_a_gap_and_a_deleted_file_is_missing_file(world):
    final, _ = seal_and_log(world, "2024-01-04")
    assert "2024-01-04" not in by_date(find(world))
    final.unlink()
    gap = by_date(find(world))["2024-01-04"]
    assert gap["category"] == "missing_file"
    assert str(final) in gap["detail"]


def test_sealed_file_unknown_to_the_log_is_not_a_gap(world):
    seal(world, "2024-01-05")
    assert "2024-01-05" not in by_date(find(world))


def test_flipped_byte_is_corrupt(world):
    final, _ = seal_and_log(world, "2024-01-08")
    assert "2024-01-08" not in by_date(find(world))
    size = final.stat().st_size
    flip_a_byte(final)
    assert final.stat().st_size == size
    gap = by_date(find(world))["2024-01-08"]
    assert (gap["category"], gap["detail"]) == ("corrupt", "sha256 differs from the sidecar")


def test_missing_sidecar_is_corrupt(world):
    final, _ = seal_and_log(world, "2024-01-08")
    layout.sidecar_path(final).unlink()
    gap = by_date(find(world))["2024-01-08"]
    assert (gap["category"], gap["detail"]) == ("corrupt", "sidecar missing or unreadable")


def test_file_that_differs_from_the_logged_checksum_is_corrupt(world):
    # A file replaced behind the pipeline's back, sidecar and all: only the database knows.
    seal_and_log(world, "2024-01-09")
    seal(world, "2024-01-09", strike=9999.0)
    gap = by_date(find(world))["2024-01-09"]
    assert (gap["category"], gap["detail"]) == ("corrupt", "sha256 differs from the checksum in the database")


def test_a_corrupt_verify_outcome_counts_until_a_later_verify_says_ok(world):
    _, checksum = seal_and_log(world, "2024-01-10")
    logclient.record([{"event": "verified", "date": "2024-01-10", "outcome": "corrupt", "checksum": checksum,
                       "reason": "row count differs from the log"}], db=world.db)
    gap = by_date(find(world))["2024-01-10"]
    assert (gap["category"], gap["detail"]) == ("corrupt", "spx-data verify found it corrupt")
    logclient.record([{"event": "verified", "date": "2024-01-10", "outcome": "ok", "checksum": checksum}],
                     db=world.db)
    assert "2024-01-10" not in by_date(find(world))


def test_a_corrupt_verify_of_an_earlier_file_does_not_condemn_its_replacement(world):
    _, old = seal_and_log(world, "2024-01-10")
    logclient.record([{"event": "verified", "date": "2024-01-10", "outcome": "corrupt", "checksum": old}],
                     db=world.db)
    _, new = seal(world, "2024-01-10", strike=5000.0)
    logclient.record([{"event": "started", "date": "2024-01-10"}, succeeded("2024-01-10", new)], db=world.db)
    assert "2024-01-10" not in by_date(find(world))


def test_failed_day_carries_retry_count_and_last_error_type(world):
    day = "2024-01-11"
    logclient.record([
        {"event": "started", "date": day},
        {"event": "failed", "date": day, "error_type": "ApiConnection", "error_message": "connection reset"},
        {"event": "started", "date": day},
        {"event": "failed", "date": day, "error_type": "ApiRateLimit", "error_message": "429 OS_LIMIT"},
    ], db=world.db)
    gap = by_date(find(world))[day]
    assert (gap["category"], gap["retry_count"], gap["error_type"], gap["detail"]) == (
        "failed", 1, "ApiRateLimit", "429 OS_LIMIT")


def test_a_failed_rerun_beside_a_good_file_is_not_a_gap(world):
    seal_and_log(world, "2024-01-11")
    logclient.record([{"event": "started", "date": "2024-01-11"},
                      {"event": "failed", "date": "2024-01-11", "error_type": "ApiConnection", "error_message": "x"}],
                     db=world.db)
    assert "2024-01-11" not in by_date(find(world))


def _hold_lock(world, day):
    code = ("import sys, time; sys.path.insert(0, sys.argv[1]); from spx_data.daylock import DayLock; "
            "lock = DayLock(sys.argv[2], sys.argv[3]); assert lock.acquire(); print('locked', flush=True); "
            "time.sleep(120)")
    proc = subprocess.Popen([sys.executable, "-c", code, str(LIB), str(world.temp), day],
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "locked"
    return proc


def test_live_run_is_not_a_gap_and_a_killed_one_is_stale(world):
    day = "2024-01-12"
    logclient.record([{"event": "started", "date": day}], db=world.db)
    holder = _hold_lock(world, day)
    try:
        assert day not in by_date(find(world))
        assert day not in by_date(find(world))  # answered from the cache: still alive
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
        holder.stdout.close()
    assert layout.lock_path(world.temp, day).exists()  # kill -9 leaves the lock file, unlocked
    gap = by_date(find(world))[day]
    assert gap["category"] == "in_progress_stale"


def test_processing_without_any_lock_file_is_stale(world):
    logclient.record([{"event": "started", "date": "2024-01-03"}], db=world.db)
    assert by_date(find(world))["2024-01-03"]["category"] == "in_progress_stale"


def test_no_data_days_only_when_asked(world):
    logclient.record([{"event": "started", "date": "2024-01-05"},
                      {"event": "succeeded", "date": "2024-01-05", "record_count": 0, "expiration_count": 0,
                       "error_type": "NoData"}], db=world.db)
    assert "2024-01-05" not in by_date(find(world))
    assert by_date(find(world, include_no_data=True))["2024-01-05"]["category"] == "no_data"


def test_category_filter(world):
    logclient.record([{"event": "started", "date": "2024-01-03"},
                      {"event": "failed", "date": "2024-01-03", "error_type": "ApiConnection", "error_message": "x"}],
                     db=world.db)
    assert [g["date"] for g in find(world, categories=["failed"])] == ["2024-01-03"]
    assert len(find(world, categories=["failed", "never_attempted"])) == len(WEEK_ONE)


# -- priority ---------------------------------------------------------------------------------
def test_priority_prefers_broken_recent_and_rarely_retried_days(world):
    events = [{"event": "started", "date": "2024-01-03"},
              {"event": "failed", "date": "2024-01-03", "error_type": "ApiConnection", "error_message": "x"}]
    for _ in range(4):
        events += [{"event": "started", "date": "2024-01-04"},
                   {"event": "failed", "date": "2024-01-04", "error_type": "ApiConnection", "error_message": "x"}]
    logclient.record(events, db=world.db)
    found = find(world, start=D("2023-01-03"), end=END, by_priority=True)
    order = [g["date"] for g in found]
    priority = {g["date"]: g["priority"] for g in found}
    assert order[0] == "2024-01-03"                           # failed once: first
    assert priority["2024-01-03"] > priority["2024-01-04"]    # the same but retried 4 more times
    assert priority["2024-01-04"] > priority["2024-01-12"]    # failed beats never attempted
    assert priority["2024-01-12"] > priority["2023-06-01"] > priority["2023-01-03"]  # recent first
    assert [g["priority"] for g in found] == sorted(priority.values(), reverse=True)


def test_volatility_near_a_gap_raises_its_priority(world):
    quiet, volatile = "2024-01-23", "2024-01-09"
    without = by_date(find(world, end=D("2024-01-31")))
    assert without[quiet]["priority"] > without[volatile]["priority"]  # recency alone
    ivs = {"2024-01-05": 0.13, "2024-01-08": 0.31, "2024-01-10": 0.29, "2024-01-19": 0.12,
           "2024-01-22": 0.12, "2024-01-24": 0.13, "2024-01-30": 0.12}
    logclient.record([{"event": "metric", "date": d, "metric_name": "iv_atm_mean", "metric_value": v}
                      for d, v in ivs.items()], db=world.db)
    with_iv = by_date(find(world, end=D("2024-01-31")))
    assert with_iv[volatile]["priority"] > with_iv[quiet]["priority"]
    assert with_iv[quiet]["priority"] == pytest.approx(without[quiet]["priority"], abs=0.5)


# -- caches -----------------------------------------------------------------------------------
def test_result_is_cached_until_the_database_or_a_file_changes(world):
    seal_and_log(world, "2024-01-04")
    calls = []
    logged = gaps._logged_history(world.db)

    def history(start, end):
        calls.append((start, end))
        return logged(start, end)

    first = find(world, history=history)
    assert find(world, history=history) == first and len(calls) == 1
    logclient.record([{"event": "queued", "date": "2024-01-05"}], db=world.db)
    find(world, history=history)
    assert len(calls) == 2
    flip_a_byte(layout.final_path(world.out, "2024-01-04"))
    assert by_date(find(world, history=history))["2024-01-04"]["category"] == "corrupt"
    assert len(calls) == 3


def test_files_are_hashed_only_when_they_change(world, monkeypatch):
    finals = [seal_and_log(world, day)[0] for day in ("2024-01-04", "2024-01-05")]
    hashed = []
    real = integrity.sha256_file
    monkeypatch.setattr(integrity, "sha256_file", lambda path: hashed.append(Path(path)) or real(path))
    find(world)
    assert sorted(hashed) == sorted(finals)
    for cached in (world.temp / "cache").glob("gaps-*.json"):
        cached.unlink()  # force a recomputation: the hash cache alone must spare the hashing
    hashed.clear()
    assert find(world) == find(world)
    assert hashed == []
    flip_a_byte(finals[1])
    assert by_date(find(world))["2024-01-05"]["category"] == "corrupt"
    assert hashed == [finals[1]]
    cache = json.loads((world.temp / "cache" / "hashes.json").read_text())
    assert set(cache) == {str(f) for f in finals}


def test_a_damaged_cache_is_a_miss_not_an_error(world):
    first = find(world)
    for cached in (world.temp / "cache").glob("*.json"):
        cached.write_text("{not json")
    assert find(world) == first


def test_cache_files_are_written_atomically_in_a_private_directory(world):
    seal_and_log(world, "2024-01-04")
    find(world)
    cache = world.temp / "cache"
    assert oct(cache.stat().st_mode & 0o777) == "0o700"
    assert sorted(p.name for p in cache.iterdir()) == ["gaps-2024-01-02-2024-01-12.json", "hashes.json"]
