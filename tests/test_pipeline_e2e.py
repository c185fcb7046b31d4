"""`spx-data process` end to end: real spx-sim on loopback, real child commands, real SQLite
through spx-log, real Parquet read back — compared value by value with the simulator's oracle."""
import datetime as dt
import json
import os
import stat
import subprocess
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from spx_data import layout
from spx_data.daylock import DayLock
from spx_data.integrity import read_sidecar, sha256_file
from spx_data.schema import arrow_schema

DAY = "2024-01-03"
KEY = ("root", "expiration", "strike", "right", "ms_of_day")


def next_trading_day_after(day):
    from spx_data import calendar
    while not calendar.is_trading_day(day):
        day += dt.timedelta(days=1)
    return day.isoformat()


def use_terminal(monkeypatch, sim, api_version="auto", fmt="csv"):
    monkeypatch.setenv("SPX_DATA_THETADATA_BASEURL", sim.base_url)
    monkeypatch.setenv("SPX_DATA_THETADATA_APIVERSION", api_version)
    monkeypatch.setenv("SPX_DATA_THETADATA_RESPONSEFORMAT", fmt)
    monkeypatch.setenv("SPX_DATA_THETADATA_RETRYBASESECONDS", "0.01")
    monkeypatch.setenv("SPX_DATA_THETADATA_MAXRETRIES", "3")


def process(*args):
    return subprocess.run(["spx-data", "process", *args], capture_output=True, text=True, timeout=300)


def query(kind, *args):
    out = subprocess.run(["spx-log", "query", kind, *args], capture_output=True, text=True, check=True).stdout
    return [json.loads(line) for line in out.splitlines()]


def final(spx_env, day=DAY):
    return layout.final_path(spx_env["SPX_DATA_PROCESSING_OUTPUTDIRECTORY"], day)


def parquet_rows(path):
    """The file's rows as DESIGN §2 tick rows (the timestamp column checked separately)."""
    table = pq.read_table(path)
    rows = table.drop_columns(["timestamp"]).to_pylist()
    for row in rows:
        row["date"] = row["date"].isoformat()
        row["expiration"] = row["expiration"].isoformat()
    return rows


def by_key(rows):
    return sorted(rows, key=lambda r: tuple(r[k] for k in KEY))


def output_files(spx_env):
    root = Path(spx_env["SPX_DATA_PROCESSING_OUTPUTDIRECTORY"])
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


@pytest.mark.parametrize("api_version, fmt, tick_limit", [
    ("v2", "json", 0),
    ("v2", "csv", 1000),      # pages of 1,000 rows: every expiration spans several pages
    ("v3", "csv", 0),
    ("v3", "ndjson", 0),
])
def test_day_holds_exactly_the_terminals_rows(spx_env, sim_factory, monkeypatch, api_version, fmt, tick_limit):
    sim = sim_factory(tick_limit=tick_limit)
    use_terminal(monkeypatch, sim, api_version, fmt)
    result = process(DAY)
    assert result.returncode == 0, result.stderr
    path = final(spx_env)
    expected = list(sim.oracle(DAY))
    assert parquet_rows(path) == by_key(expected)
    assert pq.read_schema(path).remove_metadata() == arrow_schema().remove_metadata()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert read_sidecar(path) == sha256_file(path)
    logged = query("processing", "--date", DAY)[0]
    assert logged["status"] == "success"
    assert logged["record_count"] == len(expected)
    assert logged["checksum"] == sha256_file(path)
    assert logged["expiration_count"] == len({(r["root"], r["expiration"]) for r in expected})
    for field in ("file_size_bytes", "processing_duration_ms", "api_requests_made", "temp_file_size_bytes",
                  "memory_peak_mb"):
        assert logged[field] and logged[field] > 0, field
    if tick_limit:
        pages = [path for path in sim.stats()["requests"] if path.startswith("/v2/page/")]
        assert pages, "the day was small enough to fit one page: the test proves nothing"
    assert not layout.stage_dir(spx_env["SPX_DATA_PROCESSING_TEMPDIRECTORY"], DAY).exists()


def test_v2_and_v3_give_identical_files_content(spx_env, sim_factory, monkeypatch):
    sim = sim_factory()
    contents = []
    for version in ("v2", "v3"):
        use_terminal(monkeypatch, sim, version)
        result = process("--force", DAY)
        assert result.returncode == 0, result.stderr
        contents.append(pq.read_table(final(spx_env)).to_pylist())
    assert contents[0] == contents[1]


def test_early_close_has_210_minutes_and_timestamps_are_wall_clock(spx_env, sim, monkeypatch):
    use_terminal(monkeypatch, sim)
    result = process("2024-11-29")
    assert result.returncode == 0, result.stderr
    table = pq.read_table(final(spx_env, "2024-11-29"))
    contracts = {(r["root"], r["expiration"], r["strike"], r["right"])
                 for r in table.select(["root", "expiration", "strike", "right"]).to_pylist()}
    assert table.num_rows == 210 * len(contracts)
    stamps = table["timestamp"].to_pylist()
    assert min(stamps).strftime("%H:%M %Z") == "09:30 EST"
    assert max(stamps).strftime("%H:%M %Z") == "12:59 EST"


@pytest.mark.parametrize("before, after", [("2024-03-08", "2024-03-11"), ("2024-11-01", "2024-11-04")])
def test_timestamp_is_right_across_a_dst_change(spx_env, sim, monkeypatch, before, after):
    use_terminal(monkeypatch, sim)
    assert process(before, after).returncode == 0
    utc_hours = set()
    for day in (before, after):
        frame = pq.read_table(final(spx_env, day)).to_pandas()
        first = frame.loc[frame["ms_of_day"] == 34_200_000, "timestamp"].iloc[0]
        assert (first.hour, first.minute) == (9, 30)            # 09:30 New York on both sides
        utc_hours.add(first.tz_convert("UTC").hour)
        assert str(frame["timestamp"].dtype) == "datetime64[ms, America/New_York]"
        assert str(frame["strike"].dtype) == "float64"
    assert utc_hours == {13, 14}                                # …which is 14:30 UTC in winter, 13:30 in summer


def test_interrupted_day_resumes_with_only_the_missing_expirations(spx_env, sim_factory, monkeypatch):
    sim = sim_factory(die_after=4)  # the listing and 3 expirations, then the terminal dies
    use_terminal(monkeypatch, sim, "v3")
    monkeypatch.setenv("SPX_DATA_THETADATA_MAXRETRIES", "1")
    monkeypatch.setenv("SPX_DATA_THETADATA_MAXCONCURRENTREQUESTS", "1")  # expirations complete one by one
    failed = process(DAY)
    assert failed.returncode == 1
    assert output_files(spx_env) == []                          # nothing half-made in the output tree
    logged = query("processing", "--date", DAY)[0]
    assert logged["status"] == "failed" and logged["error_type"]
    stage = layout.stage_dir(spx_env["SPX_DATA_PROCESSING_TEMPDIRECTORY"], DAY)
    done_before = sorted(p.name for p in stage.glob("*-????-??-??.ndjson"))
    assert done_before, "no expiration completed before the terminal died"

    sim.restart()
    sim.reset_stats()
    resumed = process(DAY)
    assert resumed.returncode == 0, resumed.stderr
    expected = list(sim.oracle(DAY))
    expirations = {(r["root"], r["expiration"]) for r in expected}
    greeks_requests = sum(sum(codes.values()) for path, codes in sim.stats()["requests"].items()
                          if "greeks" in path)
    assert greeks_requests == len(expirations) - len(done_before)
    assert parquet_rows(final(spx_env)) == by_key(expected)

    clean_env = dict(os.environ, SPX_DATA_PROCESSING_OUTPUTDIRECTORY=str(spx_env["tmp"] / "clean"),
                     SPX_DATA_PROCESSING_TEMPDIRECTORY=str(spx_env["tmp"] / "clean-temp"))
    assert subprocess.run(["spx-data", "process", DAY], env=clean_env, capture_output=True).returncode == 0
    clean = layout.final_path(spx_env["tmp"] / "clean", DAY)
    assert pq.read_table(clean).equals(pq.read_table(final(spx_env)))
    assert pq.read_metadata(clean).metadata[b"spx_data.content_sha256"] == \
        pq.read_metadata(final(spx_env)).metadata[b"spx_data.content_sha256"]


def test_failing_date_leaves_nothing_in_the_output_directory(spx_env, sim_factory, monkeypatch):
    sim = sim_factory(p429=1.0)
    use_terminal(monkeypatch, sim)
    monkeypatch.setenv("SPX_DATA_THETADATA_MAXRETRIES", "2")
    result = process(DAY)
    assert result.returncode == 1
    assert "ApiRateLimit" in result.stderr
    assert output_files(spx_env) == []
    logged = query("processing", "--date", DAY)[0]
    assert (logged["status"], logged["error_type"]) == ("failed", "ApiRateLimit")
    assert len(query("errors", "--date", DAY)) >= 2             # each retry and the failure


def test_sealed_day_is_skipped_unless_forced(spx_env, sim, monkeypatch):
    use_terminal(monkeypatch, sim)
    assert process(DAY).returncode == 0
    sealed_at = final(spx_env).stat().st_mtime_ns
    sim.reset_stats()
    again = process(DAY)
    assert again.returncode == 0 and "already sealed" in again.stderr
    assert sim.stats()["data_requests"] == 0
    assert final(spx_env).stat().st_mtime_ns == sealed_at
    forced = process("--force", DAY)
    assert forced.returncode == 0 and sim.stats()["data_requests"] > 0


def test_a_day_another_process_holds_is_refused(spx_env, sim, monkeypatch):
    use_terminal(monkeypatch, sim)
    with DayLock(spx_env["SPX_DATA_PROCESSING_TEMPDIRECTORY"], DAY) as lock:
        assert lock.acquire()
        result = process(DAY)
    assert result.returncode == 1
    assert f"{DAY} is already being processed (pid {os.getpid()})" in result.stderr
    assert output_files(spx_env) == []


@pytest.mark.parametrize("day, message", [
    ("2024-01-06", "2024-01-06 is a Saturday, not a trading day"),
    ("2024-12-25", "NYSE holiday"),
    ("2024-02-30", "2024-02-30"),
    ("01/02/2024", "YYYY-MM-DD"),
    (next_trading_day_after(dt.date.today() + dt.timedelta(days=7)), "in the future"),
    ("2010-01-04", "earliest option history"),
])
def test_unprocessable_dates_are_refused_before_anything_is_written(spx_env, sim, monkeypatch, day, message):
    use_terminal(monkeypatch, sim)
    result = process("2024-01-03", day)
    assert result.returncode == 2
    assert message in result.stderr and result.stderr.count("\n") == 1
    assert not Path(spx_env["SPX_DATA_DATABASE_PATH"]).exists()
    assert sim.stats()["data_requests"] == 0
