"""spx-data cleanup: real stage directories, real sealed files, real day locks."""
import json
import os

import pytest

from spx_data import layout
from spx_data.daylock import DayLock
from spx_data.ops import artifacts
from test_ops_support import flip_byte, seal_day, spx


@pytest.fixture
def dirs(spx_env):
    return spx_env["SPX_DATA_PROCESSING_TEMPDIRECTORY"], spx_env["SPX_DATA_PROCESSING_OUTPUTDIRECTORY"]


def make_stage(temp_dir, day, files):
    stage = layout.stage_dir(temp_dir, day)
    stage.mkdir(parents=True)
    for name, size in files.items():
        (stage / name).write_bytes(b"x" * size)
    return stage


def cleanup(*argv):
    result = spx("spx-data", "cleanup", "--format", "ndjson", *argv)
    assert result.returncode == 0, result.stderr
    return result, [json.loads(line) for line in result.stdout.splitlines()]


def test_temp_files_removes_stage_directories_and_reports_the_space(dirs):
    temp_dir, _ = dirs
    make_stage(temp_dir, "2024-01-02", {"expirations.ndjson": 100, "SPXW-2024-01-05.ndjson": 4000,
                                        "SPX-2024-01-19.ndjson.part": 900})
    make_stage(temp_dir, "2024-01-03", {"day.parquet": 2500})
    result, items = cleanup("--temp-files")
    assert {(i["kind"], i["date"], i["action"]) for i in items} == {
        ("stage", "2024-01-02", "removed"), ("stage", "2024-01-03", "removed")}
    assert sum(i["freed"] for i in items) == 100 + 4000 + 900 + 2500
    assert not layout.stage_dir(temp_dir, "2024-01-02").exists()
    assert not layout.stage_dir(temp_dir, "2024-01-03").exists()
    assert "removed 2 items, 7.50 KB freed" in result.stderr


def test_a_day_a_live_run_holds_is_never_touched(dirs, tmp_path):
    temp_dir, out_dir = dirs
    held = make_stage(temp_dir, "2024-01-02", {"SPXW-2024-01-05.ndjson.part": 10})
    partial = layout.final_path(out_dir, "2024-01-02").with_name(".spx-options-2024-01-02.parquet.77.part")
    partial.parent.mkdir(parents=True)
    partial.write_bytes(b"x")
    make_stage(temp_dir, "2024-01-03", {"x.part": 10})
    with DayLock(temp_dir, "2024-01-02") as lock:
        assert lock.acquire()
        result, items = cleanup()
    kept = [i for i in items if i["date"] == "2024-01-02"]
    assert {i["kind"] for i in kept} == {"stage", "partial"}
    assert all(i["action"].startswith(f"kept (pid {os.getpid()}") and i["freed"] == 0 for i in kept)
    assert held.exists() and partial.exists()
    assert not layout.stage_dir(temp_dir, "2024-01-03").exists()
    assert "kept 2 in use by a running process" in result.stderr


def test_lock_files_nobody_holds_are_removed_held_ones_are_not_listed(dirs):
    temp_dir, _ = dirs
    stale = layout.lock_path(temp_dir, "2024-01-04")
    stale.parent.mkdir(parents=True)
    stale.write_text("4242\n")  # what a kill -9 leaves behind
    with DayLock(temp_dir, "2024-01-05") as lock:
        assert lock.acquire()
        _, items = cleanup("--temp-files")
        assert lock.path.exists()
    assert [(i["kind"], i["date"], i["action"]) for i in items] == [("lock", "2024-01-04", "removed")]
    assert not stale.exists()


def test_dry_run_removes_nothing(dirs, tmp_path):
    temp_dir, out_dir = dirs
    stage = make_stage(temp_dir, "2024-01-02", {"day.parquet": 300})
    sealed = seal_day(out_dir, "2024-01-03", tmp_path)
    flip_byte(sealed["path"])
    result, items = cleanup("--dry-run")
    assert {i["action"] for i in items} == {"would remove"}
    assert {i["kind"] for i in items} == {"stage", "corrupt"}
    assert stage.exists() and os.path.exists(sealed["path"])
    assert "(dry run)" in result.stderr


def test_failed_outputs_removes_leftovers_and_corrupt_files_but_not_intact_ones(dirs, tmp_path):
    temp_dir, out_dir = dirs
    intact = seal_day(out_dir, "2024-01-02", tmp_path)
    corrupt = seal_day(out_dir, "2024-01-03", tmp_path)
    flip_byte(corrupt["path"])
    orphan_day = seal_day(out_dir, "2024-01-04", tmp_path)
    os.unlink(orphan_day["path"])                                   # its sidecar stays: an orphan
    day_dir = layout.final_path(out_dir, "2024-01-02").parent
    partial = day_dir / "spx-options-2024-01-02.parquet.sha256.tmp"
    partial.write_text("half a sidecar")
    quarantined = artifacts.quarantine(seal_day(out_dir, "2024-01-05", tmp_path)["path"])
    foreign = day_dir / "notes.txt"
    foreign.write_text("mine, not spx-data's")
    stage = make_stage(temp_dir, "2024-01-08", {"x.part": 5})

    _, items = cleanup("--failed-outputs")
    removed = {(i["kind"], os.path.basename(i["path"])) for i in items}
    assert removed == {
        ("corrupt", "spx-options-2024-01-03.parquet"), ("corrupt", "spx-options-2024-01-03.parquet.sha256"),
        ("orphan", "spx-options-2024-01-04.parquet.sha256"), ("partial", partial.name),
        *{("quarantined", new.name) for _old, new in quarantined}}
    assert os.path.exists(intact["path"]) and layout.sidecar_path(intact["path"]).exists()
    assert foreign.exists() and stage.exists()
    assert not layout.final_path(out_dir, "2024-01-03").parent.exists()   # emptied day directory pruned
    assert not partial.exists()


def test_without_a_choice_both_kinds_are_cleaned(dirs, tmp_path):
    temp_dir, out_dir = dirs
    make_stage(temp_dir, "2024-01-02", {"a.part": 1})
    leftover = layout.final_path(out_dir, "2024-01-03").with_name("spx-options-2024-01-03.parquet.part")
    leftover.parent.mkdir(parents=True)
    leftover.write_bytes(b"12")
    _, items = cleanup()
    assert {i["kind"] for i in items} == {"stage", "partial"}
    assert not leftover.exists()


def test_nothing_to_clean():
    result = spx("spx-data", "cleanup")
    assert result.returncode == 0
    assert result.stdout == ""
    assert "nothing to clean" in result.stderr


def test_unknown_format_is_bad_usage():
    result = spx("spx-data", "cleanup", "--format", "xml")
    assert result.returncode == 2
    assert "xml" in result.stderr
