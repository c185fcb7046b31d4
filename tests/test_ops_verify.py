"""spx-data verify: real sealed files, real spx-log, the command run as a user runs it."""
import json
import os

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from spx_data import integrity, layout, logclient
from test_ops_support import flip_byte, log_failure, log_success, seal_day, spx


@pytest.fixture
def out_dir(spx_env):
    return spx_env["SPX_DATA_PROCESSING_OUTPUTDIRECTORY"]


def verify(*argv):
    result = spx("spx-data", "verify", "--format", "ndjson", *argv)
    return result, {r["date"]: r for r in map(json.loads, result.stdout.splitlines())}


def test_intact_logged_file_is_ok_and_the_outcome_is_logged(out_dir, tmp_path):
    sealed = seal_day(out_dir, "2024-01-02", tmp_path)
    log_success("2024-01-02", sealed)
    result, found = verify("2024-01-02")
    assert result.returncode == 0, result.stderr
    assert found["2024-01-02"]["outcome"] == "ok"
    assert found["2024-01-02"]["rows"] == sealed["rows"]
    logged = logclient.query("verifications", date="2024-01-02")
    assert [(v["outcome"], v["checksum"]) for v in logged] == [("ok", sealed["sha256"])]


def test_flipped_byte_is_corrupt(out_dir, tmp_path):
    sealed = seal_day(out_dir, "2024-01-02", tmp_path)
    log_success("2024-01-02", sealed)
    flip_byte(sealed["path"])
    result, found = verify("2024-01-02")
    assert result.returncode == 1
    assert found["2024-01-02"]["outcome"] == "corrupt"
    assert "1 corrupt" in result.stderr


def test_sidecar_that_disagrees_is_corrupt(out_dir, tmp_path):
    sealed = seal_day(out_dir, "2024-01-02", tmp_path)
    log_success("2024-01-02", sealed)
    layout.sidecar_path(sealed["path"]).write_text(integrity.sidecar_text(sealed["path"], "0" * 64))
    result, found = verify("2024-01-02")
    assert result.returncode == 1
    assert found["2024-01-02"]["outcome"] == "corrupt"


def test_checksum_logged_in_the_database_must_match(out_dir, tmp_path):
    sealed = seal_day(out_dir, "2024-01-02", tmp_path)
    log_success("2024-01-02", dict(sealed, sha256="ab" * 32))
    result, found = verify("2024-01-02")
    assert result.returncode == 1
    assert found["2024-01-02"]["outcome"] == "corrupt"
    assert "database" in found["2024-01-02"]["reason"]


def test_row_count_logged_in_the_database_must_match(out_dir, tmp_path):
    sealed = seal_day(out_dir, "2024-01-02", tmp_path)
    log_success("2024-01-02", dict(sealed, rows=sealed["rows"] + 1))
    result, found = verify("2024-01-02")
    assert found["2024-01-02"]["outcome"] == "corrupt"
    assert str(sealed["rows"] + 1) in found["2024-01-02"]["reason"]


def test_logged_success_without_its_file_is_missing(out_dir, tmp_path):
    sealed = seal_day(out_dir, "2024-01-02", tmp_path)
    log_success("2024-01-02", sealed)
    os.unlink(sealed["path"])
    result, found = verify("2024-01-02")
    assert result.returncode == 1
    assert found["2024-01-02"]["outcome"] == "missing"


def test_date_never_sealed_is_missing(out_dir):
    log_failure("2024-01-03")
    result, found = verify("2024-01-03", "2024-01-04")
    assert result.returncode == 1
    assert {d: r["outcome"] for d, r in found.items()} == {"2024-01-03": "missing", "2024-01-04": "missing"}
    assert "failed" in found["2024-01-03"]["reason"]


def test_sealed_file_the_log_never_recorded_is_unrecorded(out_dir, tmp_path):
    seal_day(out_dir, "2024-01-02", tmp_path)
    result, found = verify("2024-01-02")
    assert result.returncode == 1
    assert found["2024-01-02"]["outcome"] == "unrecorded"


def test_no_data_day_needs_no_file(out_dir):
    logclient.record([{"event": "started", "date": "2024-01-02"},
                      {"event": "succeeded", "date": "2024-01-02", "record_count": 0, "expiration_count": 0,
                       "error_type": "NoData"}])
    result, found = verify("2024-01-02")
    assert result.returncode == 0
    assert found["2024-01-02"]["outcome"] == "ok"


def test_all_covers_sealed_files_and_logged_successes_but_not_failures(out_dir, tmp_path):
    for day in ("2024-01-02", "2024-01-03"):
        log_success(day, seal_day(out_dir, day, tmp_path))
    seal_day(out_dir, "2024-01-04", tmp_path)                     # unrecorded
    gone = seal_day(out_dir, "2024-01-05", tmp_path)
    log_success("2024-01-05", gone)
    os.unlink(gone["path"])                                        # missing
    log_failure("2024-01-08")                                      # never sealed: not verify's business
    result, found = verify("--all")
    assert {d: r["outcome"] for d, r in found.items()} == {
        "2024-01-02": "ok", "2024-01-03": "ok", "2024-01-04": "unrecorded", "2024-01-05": "missing"}
    assert result.returncode == 1
    no_args, found_without_args = verify()
    assert no_args.returncode == 1
    assert found_without_args.keys() == found.keys()


def test_corruption_only_verify_can_see_shows_up_in_gaps(out_dir, tmp_path):
    # A file whose SHA-256 matches its sidecar and the log, but that is not a day file of the
    # pinned schema: gap analysis alone cannot tell; after verify it lists the day as corrupt.
    final = layout.final_path(out_dir, "2024-01-02")
    final.parent.mkdir(parents=True)
    pq.write_table(pa.table({"x": [1, 2, 3]}), final)
    checksum = integrity.sha256_file(final)
    layout.sidecar_path(final).write_text(integrity.sidecar_text(final, checksum))
    log_success("2024-01-02", {"rows": 3, "file_size_bytes": final.stat().st_size, "sha256": checksum})

    def gap_categories():
        gaps = spx("spx-gaps", "--from", "2024-01-02", "--to", "2024-01-02", "--format", "ndjson")
        assert gaps.returncode == 0, gaps.stderr
        return [json.loads(line)["category"] for line in gaps.stdout.splitlines()]

    assert gap_categories() == []
    result, found = verify("2024-01-02")
    assert found["2024-01-02"]["outcome"] == "corrupt"
    assert "schema" in found["2024-01-02"]["reason"]
    assert gap_categories() == ["corrupt"]


def test_nothing_to_verify_is_not_an_error():
    result = spx("spx-data", "verify")
    assert result.returncode == 0
    assert "nothing to verify" in result.stderr


def test_malformed_date_is_bad_usage():
    result = spx("spx-data", "verify", "2024-02-30")
    assert result.returncode == 2
    assert "2024-02-30" in result.stderr


def test_table_is_the_default_format(out_dir, tmp_path):
    log_success("2024-01-02", seal_day(out_dir, "2024-01-02", tmp_path))
    result = spx("spx-data", "verify", "2024-01-02")
    assert result.stdout.split("\n")[0].split() == ["DATE", "OUTCOME", "ROWS", "REASON"]
    assert result.stdout.split("\n")[1].split()[:2] == ["2024-01-02", "ok"]
