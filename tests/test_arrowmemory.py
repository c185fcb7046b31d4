"""Arrow's allocator (mimalloc) is told to give freed memory back at once in spx-fetch,
spx-ndjson2parquet and spx-seal, before pyarrow loads; a setting already in the environment wins."""
import json
import os
import subprocess

import pytest

ROW = {"date": "2024-01-02", "root": "SPXW", "expiration": "2024-01-05", "strike": 4700.0, "right": "C",
       "ms_of_day": 34200000, "bid": 1.0, "ask": 1.1, "delta": 0.5, "theta": -1.0, "vega": 1.0, "rho": 0.1,
       "epsilon": -0.1, "lambda": 10.0, "implied_vol": 0.2, "iv_error": 0.0, "ms_of_day2": 34199990,
       "underlying_price": 4700.5}


def allocator_options(argv, stdin="", check=True, **env):
    """The options mimalloc reports it started with (MIMALLOC_VERBOSE) in the command ARGV."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("MIMALLOC_")}
    environment.update(MIMALLOC_VERBOSE="1", **env)
    result = subprocess.run(argv, input=stdin, env=environment, capture_output=True, text=True)
    assert result.returncode == 0 or not check, result.stderr
    return {line.split("'")[1]: line.split(":")[-1].strip() for line in result.stderr.splitlines()
            if line.startswith("option '")}


@pytest.fixture
def one_row(tmp_path):
    path = tmp_path / "rows.ndjson"
    path.write_text(json.dumps(ROW) + "\n")
    return path


def test_spx_ndjson2parquet_returns_freed_memory_at_once(one_row, tmp_path):
    options = allocator_options(["spx-ndjson2parquet", str(one_row), "-o", str(tmp_path / "out.parquet")])
    assert options["purge_delay"] == "0" and options["arena_eager_commit"] == "0"


def test_spx_fetch_returns_freed_memory_at_once(sim, tmp_path):
    line = json.dumps({"date": "2024-01-02", "root": "SPXW", "expiration": "2024-01-02"}) + "\n"
    options = allocator_options(["spx-fetch", "--base-url", sim.base_url, "--stage", str(tmp_path / "stage")], line)
    assert options["purge_delay"] == "0" and options["arena_eager_commit"] == "0"


def test_spx_seal_returns_freed_memory_at_once(one_row, tmp_path):
    day_file = tmp_path / "day.parquet"
    subprocess.run(["spx-ndjson2parquet", str(one_row), "-o", str(day_file)], check=True, capture_output=True)
    options = allocator_options(["spx-seal", "--check", str(day_file)], check=False)
    assert options["purge_delay"] == "0" and options["arena_eager_commit"] == "0"


def test_a_setting_in_the_environment_wins(one_row, tmp_path):
    options = allocator_options(["spx-ndjson2parquet", str(one_row), "-o", str(tmp_path / "out.parquet")],
                                MIMALLOC_PURGE_DELAY="250")
    assert options["purge_delay"] == "250" and options["arena_eager_commit"] == "0"
