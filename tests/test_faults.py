"""Faults injected into real runs — the real simulator, real processes, real files — and the end
state each must leave: the final Parquet absent or complete and verifiable, nothing partial in the
output tree, a log that tells the truth, and a re-run that converges to a clean run's content.
The heavy variants are in test_faults_heavy.py (make test-faults)."""
import errno
import os
import shutil
import signal
import subprocess
from collections import Counter
from pathlib import Path

import pytest

from fixtures.faults import (TERMINAL_ERRORS, World, assert_converges, assert_end_state, assert_same_content, fill,
                             grow, hooked_bin, kill_at, marked_env, partial_files, sim_requests, wait_for,
                             wait_for_descendants)
from spx_data import daylock, layout
from spx_data.seal import check

DAY = "2024-01-03"


def process(world, *args):
    return world.run("spx-data", "process", "--quiet", *args)


# -- 1. the terminal dies mid-day ------------------------------------------------------------
def test_terminal_dies_mid_day_then_retry_resumes_from_the_last_completed_expiration(tmp_path, sim_factory,
                                                                                   reference):
    sim = sim_factory(die_after=3)  # the listing and 2 expirations, then the terminal is gone
    world = World(tmp_path / "w", sim.base_url, thetadata_maxRetries=1, thetadata_maxConcurrentRequests=1)
    failed = process(world, DAY)
    assert failed.returncode == 1
    row = assert_end_state(world, DAY, reference(DAY))
    assert row["status"] == "failed" and row["error_type"] in TERMINAL_ERRORS
    assert not world.final(DAY).exists()
    staged = world.staged_expirations(DAY)
    assert len(staged) == 2

    sim.restart()
    sim.reset_stats()
    retried = world.run("spx-data", "retry", DAY, "--quiet")
    assert retried.returncode == 0, retried.stderr
    greeks = sum(sim_requests(sim, "greeks").values())
    assert greeks == reference(DAY).expirations - len(staged)       # only what was missing
    assert_same_content(world.final(DAY), reference(DAY))
    assert world.processing(DAY)["status"] == "success"
    assert all(e["resolved_at"] for e in world.errors(DAY))        # the failure is marked resolved
    assert_converges(world, DAY, reference(DAY))


# -- 2. 429/474/571 at 30 % ------------------------------------------------------------------
def test_thirty_percent_busy_disconnected_and_starting_replies_are_retried_and_logged(tmp_path, sim_factory,
                                                                                     reference):
    # One request at a time: the simulator draws its faults by request number, so this run meets
    # the same faults every time. (Four processes at once: tests/bats/faults.bats.)
    sim = sim_factory(p429=0.1, p474=0.1, p571=0.1, preset="small")
    world = World(tmp_path / "w", sim.base_url, thetadata_maxConcurrentRequests=1)
    result = process(world, DAY)
    assert result.returncode == 0, result.stderr
    stats = sim.stats()
    assert set(stats["faults"]) == {"429", "474", "571"}, "a fault kind was never injected: the test proves less"
    logged = world.errors(DAY)
    assert len(logged) == sum(stats["faults"].values())             # every retry is an error_log row
    assert {e["error_type"] for e in logged} == {"ApiRateLimit", "ApiConnection"}
    assert stats["max_in_flight"] == 1
    assert_end_state(world, DAY, reference(DAY, "small"))
    assert world.processing(DAY)["status"] == "success"


def test_thirty_percent_faults_on_paged_replies_do_not_fail_the_day(tmp_path, sim_factory, reference):
    sim = sim_factory(p429=0.3, tick_limit=500)
    world = World(tmp_path / "w", sim.base_url, thetadata_apiVersion="v2", thetadata_maxConcurrentRequests=1)
    result = process(world, DAY)
    assert result.returncode == 0, result.stderr
    assert_end_state(world, DAY, reference(DAY))


# -- 3. truncated bodies and connection resets -----------------------------------------------
def test_truncated_and_reset_replies_are_never_written_as_data(tmp_path, sim_factory, reference):
    sim = sim_factory(truncate=0.25, reset=0.15, preset="small")   # one request at a time: the same faults each run
    world = World(tmp_path / "w", sim.base_url, thetadata_maxConcurrentRequests=1)
    result = process(world, DAY)
    assert result.returncode == 0, result.stderr
    faults = sim.stats()["faults"]
    assert faults.get("truncate") and faults.get("reset")
    assert len([e for e in world.errors(DAY) if e["error_type"] == "ApiConnection"]) == sum(faults.values())
    assert_end_state(world, DAY, reference(DAY, "small"))           # identical to a clean run: no cut-off row
    assert world.final(DAY).exists()


@pytest.mark.parametrize("fault", ["truncate", "reset"])
def test_a_persistent_wire_fault_fails_the_date_cleanly(tmp_path, sim_factory, reference, fault):
    sim = sim_factory()
    world = World(tmp_path / "w", sim.base_url, thetadata_maxRetries=2)
    # The listing is staged while the terminal is healthy, so the fault hits the greeks only.
    world.stage(DAY).mkdir(parents=True)
    listing = world.run("spx-expirations", DAY)
    assert listing.returncode == 0, listing.stderr
    layout.expirations_file(world.stage(DAY)).write_text(listing.stdout)
    sim.restart(**{fault: 1.0})
    failed = process(world, DAY)
    assert failed.returncode == 1
    assert failed.stderr.startswith("spx-fetch: ")
    assert f"{DAY}: FAILED ApiConnection: spx-fetch: " in failed.stderr   # --quiet still says why
    assert "spx-ndjson2parquet" not in failed.stderr     # the converter stopped alongside says nothing
    row = assert_end_state(world, DAY, reference(DAY))
    assert (row["status"], row["error_type"]) == ("failed", "ApiConnection")
    assert world.staged_expirations(DAY) == []                      # no expiration file from a cut reply
    assert partial_files(world.stage(DAY)) == []
    sim.restart()
    assert_converges(world, DAY, reference(DAY))


# -- 4. 570 LARGE_REQUEST --------------------------------------------------------------------
def test_a_too_large_expiration_is_split_and_complete(tmp_path, sim_factory, reference):
    table = reference(DAY).table
    biggest = max(Counter(zip(table["root"].to_pylist(), table["expiration"].to_pylist())).values())
    sim = sim_factory(large_over=biggest - 1)
    world = World(tmp_path / "w", sim.base_url)
    result = process(world, DAY)
    assert result.returncode == 0, result.stderr
    too_large = sim_requests(sim, "greeks").get("570", 0)
    assert too_large >= 1
    splits = [e for e in world.errors(DAY) if e["error_type"] == "ApiLargeRequest"]
    assert len(splits) == too_large
    assert all("split into 2 requests" in e["context_data"]["action"] for e in splits)
    assert_end_state(world, DAY, reference(DAY))
    assert world.final(DAY).exists()


# -- 5. kill -9 of the process group (twenty random moments: test_faults_heavy.py) ----------
def test_kill_9_mid_run_leaves_nothing_partial_and_a_rerun_completes(tmp_path, sim, reference):
    world = World(tmp_path / "w", sim.base_url)
    kill_at(world, DAY, 0.5 * reference(DAY).seconds, str(tmp_path))  # twenty random moments: the heavy suite
    assert_end_state(world, DAY, reference(DAY))
    assert_converges(world, DAY, reference(DAY))


@pytest.mark.parametrize("step", ["expirations", "fetch", "ndjson2parquet", "seal"])
def test_kill_9_right_after_each_step_leaves_a_truthful_state_and_a_rerun_completes(tmp_path, sim, reference,
                                                                                   step):
    world = World(tmp_path / "w", sim.base_url)
    flag = tmp_path / "step-done"
    marker = f"{tmp_path}-{step}"
    run = subprocess.Popen([str(hooked_bin(tmp_path / "bin", step, flag)), "process", "--quiet", DAY],
                           env=marked_env(world, marker), cwd=world.root, start_new_session=True,
                           stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for(flag.exists, timeout=120, what=f"spx-{step} to finish")
    os.killpg(run.pid, signal.SIGKILL)
    run.wait()
    wait_for_descendants(marker)
    row = assert_end_state(world, DAY, reference(DAY))
    assert row["status"] == "processing"                           # what the run logged before it died…
    assert DAY in world.status()["stale"]                          # …is reported as a dead run
    assert world.final(DAY).exists() == (step == "seal")
    assert_converges(world, DAY, reference(DAY))


# -- 6. a full disk ---------------------------------------------------------------------------
FIVE_MINUTES = 300_000


def test_a_full_output_disk_is_refused_up_front_and_the_previous_file_stays(tmp_path, sim, reference,
                                                                            small_disk):
    world = World(tmp_path / "w", sim.base_url)
    assert process(world, DAY).returncode == 0                      # the previous file, and its size in the log
    disk = small_disk(tmp_path / "small", "2m")
    shutil.copytree(world.out, disk / "parquet")
    world.use(out=disk / "parquet")
    previous = world.final(DAY).read_bytes()
    fill(disk, leave_bytes=len(previous) // 2)
    sim.reset_stats()
    refused = process(world, "--force", DAY)
    assert refused.returncode == 1
    assert "free" in refused.stderr and "needed" in refused.stderr
    assert sim.stats()["data_requests"] == 0                        # refused before anything was fetched
    assert world.final(DAY).read_bytes() == previous and check(world.final(DAY))["outcome"] == "ok"
    assert partial_files(world.out) == []
    assert world.processing(DAY)["error_type"] == "InsufficientDiskSpace"
    grow(disk)
    assert_converges(world, DAY, reference(DAY), "--force")


def test_a_disk_that_fills_while_sealing_fails_cleanly_and_keeps_the_previous_file(tmp_path, sim, reference,
                                                                                   small_disk):
    # The previous file is a 5-minute day: small enough that the precheck lets the 1-minute
    # rebuild start, which then runs out of space while placing its file.
    world = World(tmp_path / "w", sim.base_url, processing_intervalMs=FIVE_MINUTES)
    assert process(world, DAY).returncode == 0
    disk = small_disk(tmp_path / "small", "1m")
    shutil.copytree(world.out, disk / "parquet")
    world.use(out=disk / "parquet")
    previous = world.final(DAY).read_bytes()
    fill(disk, leave_bytes=2 * len(previous))
    world.set(processing_intervalMs=60_000)
    failed = process(world, "--force", DAY)
    assert failed.returncode == 1
    assert "No space left on device" in failed.stderr
    assert world.final(DAY).read_bytes() == previous
    assert check(world.final(DAY))["outcome"] == "ok"                # its sidecar is still its own
    assert partial_files(world.out) == []
    row = world.processing(DAY)
    assert (row["status"], row["error_type"]) == ("failed", "InsufficientDiskSpace")
    assert len(world.staged_expirations(DAY)) == reference(DAY).expirations   # kept for the re-run
    grow(disk)
    assert_converges(world, DAY, reference(DAY), "--force")


def test_a_stage_disk_that_fills_fails_cleanly_and_the_rerun_resumes(tmp_path, sim, reference, small_disk):
    world = World(tmp_path / "w", sim.base_url, processing_intervalMs=FIVE_MINUTES)
    assert process(world, "2024-01-02").returncode == 0            # a history of small days
    world.use(temp=small_disk(tmp_path / "small", "2500k"))
    world.set(processing_intervalMs=60_000)
    failed = process(world, DAY)
    assert failed.returncode == 1
    assert "No space left on device" in failed.stderr
    row = assert_end_state(world, DAY, reference(DAY))
    assert row["status"] == "failed" and not world.final(DAY).exists()
    staged = world.staged_expirations(DAY)
    assert 0 < len(staged) < reference(DAY).expirations
    per_expiration = reference(DAY).rows // reference(DAY).expirations
    for name in staged:                                             # every staged expiration is whole
        assert (world.stage(DAY) / name).read_text().count("\n") == per_expiration
    grow(world.temp)
    sim.reset_stats()
    assert_converges(world, DAY, reference(DAY))
    assert sum(sim_requests(sim, "greeks").values()) == reference(DAY).expirations - len(staged)


def test_a_full_disk_while_copying_across_file_systems_keeps_the_previous_file_and_its_sidecar(
        tmp_path, reference, monkeypatch):
    """The same fault without root: seal's copy onto the output's file system fails half-way."""
    from spx_data import seal
    from spx_data.errors import InsufficientDiskSpaceError
    final = layout.final_path(tmp_path / "out", DAY)
    final.parent.mkdir(parents=True)
    for source, target in ((reference(DAY).path, final), (layout.sidecar_path(reference(DAY).path),
                                                           layout.sidecar_path(final))):
        shutil.copy(source, target)
    newer = tmp_path / "day.parquet"
    shutil.copy(reference(DAY, "small").path, newer)                 # another, bigger version of the day

    def half_then_enospc(source, target):
        Path(target).write_bytes(Path(source).read_bytes()[:1000])
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(seal, "_same_file_system", lambda *_: False)
    monkeypatch.setattr(seal.shutil, "copyfile", half_then_enospc)
    with pytest.raises(InsufficientDiskSpaceError):
        seal.seal(newer, final)
    assert check(final)["outcome"] == "ok"                          # its sidecar is still its own
    assert final.read_bytes() == reference(DAY).path.read_bytes()
    assert partial_files(tmp_path / "out") == [] and newer.exists()


def test_a_full_stage_disk_is_insufficient_disk_space_and_leaves_no_part_file(tmp_path, sim, small_disk):
    world = World(tmp_path / "w", sim.base_url)
    stage = small_disk(tmp_path / "small", "500k")
    listing = world.run("spx-expirations", DAY)
    fetched = world.run("spx-fetch", "--stage", str(stage), input=listing.stdout)
    assert fetched.returncode == 5
    assert fetched.stderr.startswith("spx-fetch: ") and "internal error" not in fetched.stderr
    assert partial_files(stage) == []


# -- 7. two runs of the same date at once ----------------------------------------------------
def test_two_runs_of_one_date_at_once_one_works_the_other_refuses(tmp_path, sim_factory, reference):
    sim = sim_factory(latency_ms=300)  # the first run holds the day for seconds
    world = World(tmp_path / "w", sim.base_url)
    first = world.popen("spx-data", "process", "--quiet", DAY, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                        text=True)
    lock = layout.lock_path(world.temp, DAY)
    wait_for(lambda: daylock.holder(lock) == first.pid, what="the first run to take the day")
    second = process(world, DAY)
    _, first_err = first.communicate(timeout=300)
    assert first.returncode == 0, first_err
    assert second.returncode == 1
    assert second.stderr.strip() == (f"spx-data process: {DAY} is already being processed (pid {first.pid}); "
                                     "not started")
    row = assert_end_state(world, DAY, reference(DAY))
    assert (row["status"], row["retry_count"]) == ("success", 0)   # the refused run logged nothing


# -- 8. a flipped byte -----------------------------------------------------------------------
def flip_byte(path, offset):
    with open(path, "r+b") as handle:
        handle.seek(offset)
        byte = handle.read(1)
        handle.seek(offset)
        handle.write(bytes([byte[0] ^ 0x01]))


def test_a_flipped_byte_is_reported_corrupt_and_retry_force_repairs_it(tmp_path, sim, reference):
    world = World(tmp_path / "w", sim.base_url)
    assert process(world, DAY).returncode == 0
    final = world.final(DAY)
    flip_byte(final, final.stat().st_size // 2)

    verified = world.run("spx-data", "verify", DAY, "--format", "ndjson")
    assert verified.returncode == 1
    assert '"outcome":"corrupt"' in verified.stdout
    assert world.gap_categories(DAY) == ["corrupt"]
    assert world.run("spx-seal", "--check", str(final)).returncode == 1

    repaired = world.run("spx-data", "retry", DAY, "--force", "--quiet")
    assert repaired.returncode == 0, repaired.stderr
    assert "quarantined" in repaired.stderr
    assert check(final)["outcome"] == "ok"
    assert_same_content(final, reference(DAY))
    assert world.run("spx-data", "verify", DAY).returncode == 0
    assert world.gap_categories(DAY) == []
    cleaned = world.run("spx-data", "cleanup", "--failed-outputs")  # the quarantined evidence goes last
    assert cleaned.returncode == 0, cleaned.stderr
    assert sorted(p.name for p in final.parent.iterdir()) == [final.name, final.name + ".sha256"]
    assert_end_state(world, DAY, reference(DAY))


# -- 10. Ctrl-C during process-range ---------------------------------------------------------
def test_ctrl_c_during_process_range_keeps_done_days_and_resumes_the_rest(tmp_path, sim_factory, reference):
    days = ["2024-01-02", "2024-01-03", "2024-01-04"]
    sim = sim_factory(latency_ms=150)
    world = World(tmp_path / "w", sim.base_url, thetadata_maxConcurrentRequests=1)
    marker = f"{tmp_path}-range"
    batch = subprocess.Popen(["spx-data", "process-range", days[0], days[-1], "--parallel", "1", "--quiet"],
                             env=marked_env(world, marker), cwd=world.root, start_new_session=True,
                             stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    # Wait until the first day is sealed and the second has staged an expiration, then Ctrl-C.
    wait_for(lambda: world.staged_expirations(days[1]), timeout=120, what="the second day to stage an expiration")
    os.killpg(batch.pid, signal.SIGINT)
    _, stderr = batch.communicate(timeout=120)
    wait_for_descendants(marker)
    assert batch.returncode == 130, stderr
    assert "interrupted" in stderr

    done, interrupted, untouched = days
    assert check(world.final(done))["outcome"] == "ok"
    assert world.processing(done)["status"] == "success"
    row = assert_end_state(world, interrupted, reference(interrupted))
    assert (row["status"], row["error_type"]) == ("failed", "Interrupted")
    staged = world.staged_expirations(interrupted)
    assert staged and partial_files(world.stage(interrupted)) == []
    assert world.processing(untouched) is None and not world.final(untouched).exists()

    sim.restart()  # the rest, at full speed
    sim.reset_stats()
    resumed = world.run("spx-data", "process-range", days[0], days[-1], "--quiet")
    assert resumed.returncode == 0, resumed.stderr
    assert "1 skipped" in resumed.stderr and "2 succeeded" in resumed.stderr
    greeks = sum(sim_requests(sim, "greeks").values())
    assert greeks == reference(interrupted).expirations - len(staged) + reference(untouched).expirations
    for day in days:
        assert_end_state(world, day, reference(day))
        assert world.processing(day)["status"] == "success"
