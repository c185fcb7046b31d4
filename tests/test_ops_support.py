"""Helpers shared by the tests/test_ops_*.py files (no tests here): real sealed day files made by
the real converter and sealer, events recorded through the real spx-log, and commands run as a
user runs them."""
import os
import subprocess
from pathlib import Path

from spx_data import layout, logclient


def spx(*argv, stdin=None, env=None, timeout=60):
    """Run a command (`spx-data status`, ...) from bin/ on PATH; CompletedProcess with text."""
    return subprocess.run(list(argv), input=stdin, capture_output=True, text=True, timeout=timeout,
                          env=None if env is None else {**os.environ, **env})


def tick_rows(day, strikes=(4700.0, 4750.0), minutes=3):
    """A few well-formed tick rows (DESIGN §2) of one SPXW expiration three days after DAY."""
    import datetime as dt
    expiration = (dt.date.fromisoformat(day) + dt.timedelta(days=3)).isoformat()
    rows = []
    for strike in strikes:
        for right in ("C", "P"):
            for minute in range(minutes):
                ms = 34_200_000 + minute * 60_000
                rows.append({"date": day, "root": "SPXW", "expiration": expiration, "strike": strike, "right": right,
                             "ms_of_day": ms, "bid": 10.0 + minute, "ask": 10.5 + minute, "delta": 0.5, "theta": -2.0,
                             "vega": 1.5, "rho": 0.1, "epsilon": -0.1, "lambda": 70.0, "implied_vol": 0.12,
                             "iv_error": 0.0, "ms_of_day2": ms - 2, "underlying_price": 4742.5})
    return rows


def seal_day(output_dir, day, work_dir, **rows_options):
    """Convert and seal a real day file into OUTPUT_DIR; returns the seal record
    {path, sha256, rows, file_size_bytes, ...}."""
    from spx_data import convert, ndjson, seal
    work = Path(work_dir) / f"build-{day}"
    work.mkdir(parents=True, exist_ok=True)
    ticks = work / "ticks.ndjson"
    with open(ticks, "w", encoding="utf-8") as handle:
        for row in tick_rows(day, **rows_options):
            ndjson.write(handle, row)
    convert.convert([str(ticks)], work / "day.parquet", day=day)
    return seal.seal(work / "day.parquet", layout.final_path(output_dir, day))


def log_success(day, sealed):
    logclient.record([{"event": "started", "date": day},
                      {"event": "succeeded", "date": day, "record_count": sealed["rows"], "expiration_count": 1,
                       "file_size_bytes": sealed["file_size_bytes"], "checksum": sealed["sha256"],
                       "processing_duration_ms": 1500}])


def log_failure(day, error_type="ApiConnection", message="connection reset", attempts=1):
    """ATTEMPTS started+failed pairs: the first is the original run, the others retries."""
    events = []
    for _ in range(attempts):
        events += [{"event": "started", "date": day},
                   {"event": "failed", "date": day, "error_type": error_type, "error_message": message}]
    logclient.record(events)


def flip_byte(path, offset=100):
    data = bytearray(Path(path).read_bytes())
    data[offset] ^= 0xFF
    Path(path).write_bytes(data)


def row_of(day):
    rows = logclient.query("processing", date=day)
    return rows[0] if rows else None
