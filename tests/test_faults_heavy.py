"""The heavy fault cases (`make test-faults`, pytest -m faults_heavy): kill -9 at 20 seeded random
moments, each terminal fault alone at 30 % under xargs -P4, the terminal dying at several points,
deep 570 splits, 20 random flipped bytes, overlapping process-range runs. Same end-state promises
as tests/test_faults.py."""
import json
import random
import subprocess

import pytest

from fixtures.faults import (TERMINAL_ERRORS, World, assert_converges, assert_end_state, assert_same_content, kill_at,
                             partial_files, sim_requests)
from spx_data.seal import check

pytestmark = pytest.mark.faults_heavy

DAY = "2024-01-03"
DAYS = ["2024-01-02", "2024-01-03", "2024-01-04", "2024-01-05"]
KILL_SEED = 20240103


def process(world, *args):
    return world.run("spx-data", "process", "--quiet", *args)


# -- 5. kill -9 of the whole process group at 20 seeded random moments ----------------------
def test_kill_9_at_twenty_random_moments(tmp_path, sim, reference):
    """Even moments hit a first run of the day (a fresh data directory each time); odd ones a
    --force rebuild over a sealed file, again and again in one data directory, resuming its stage."""
    rng = random.Random(KILL_SEED)
    typical = reference(DAY).seconds
    rebuilt = World(tmp_path / "rebuilt", sim.base_url)
    assert process(rebuilt, DAY).returncode == 0
    for number in range(20):
        moment = rng.uniform(0.02, 0.98) * typical
        fresh = number % 2 == 0
        world = World(tmp_path / f"fresh-{number}", sim.base_url) if fresh else rebuilt
        note = f"kill {number} at {moment:.2f} s ({'first run' if fresh else '--force'}; seed {KILL_SEED})"
        kill_at(world, DAY, moment, f"{tmp_path}-{number}", *([] if fresh else ["--force"]))
        try:
            assert_end_state(world, DAY, reference(DAY))
            if not fresh:
                assert world.final(DAY).exists()                   # the previous file stays until replaced
            assert_converges(world, DAY, reference(DAY))
        except AssertionError as failure:
            raise AssertionError(f"{note}: {failure}") from None


# -- 2./3. each terminal fault alone at 30 %, four dates under xargs -P4 ----------------------
@pytest.mark.parametrize("fault", ["p429", "p474", "p571", "truncate", "reset"])
def test_each_fault_at_30_percent_under_xargs_p4(tmp_path, sim_factory, reference, fault):
    sim = sim_factory(**{fault: 0.3}, latency_ms=20)
    world = World(tmp_path / "w", sim.base_url, thetadata_maxConcurrentRequests=2, thetadata_maxRetries=10)
    result = world.run("bash", "-c", 'printf "%s\\n" "$@" | xargs -n1 -P4 spx-data process --quiet', "_", *DAYS)
    assert result.returncode == 0, result.stderr
    stats = sim.stats()
    assert stats["max_in_flight"] <= 2
    injected = sum(stats["faults"].values())
    assert injected >= 1
    assert sum(len(world.errors(day)) for day in DAYS) == injected
    for day in DAYS:
        assert_end_state(world, day, reference(day))
        assert world.processing(day)["status"] == "success"


# -- 1. the terminal dies at several points ---------------------------------------------------
@pytest.mark.parametrize("survives", [0, 1, 4])
def test_the_terminal_dies_after_n_requests_and_retry_converges(tmp_path, sim_factory, reference, survives):
    sim = sim_factory(die_after=str(survives))  # a string: sim_factory drops a flag whose value == False, as 0 is
    world = World(tmp_path / "w", sim.base_url, thetadata_maxRetries=1, thetadata_maxConcurrentRequests=1)
    assert process(world, DAY).returncode == 1
    row = assert_end_state(world, DAY, reference(DAY))
    assert row["status"] == "failed" and row["error_type"] in TERMINAL_ERRORS
    staged = world.staged_expirations(DAY)
    assert len(staged) == max(0, survives - 1)                     # the listing, then one expiration per request
    down = world.run("spx-data", "retry", DAY)                     # the terminal is still down: nothing retried
    assert down.returncode == 4 and "unreachable" in down.stderr
    assert world.processing(DAY)["retry_count"] == row["retry_count"]
    sim.restart()
    sim.reset_stats()
    assert world.run("spx-data", "retry", DAY, "--quiet").returncode == 0
    assert sum(sim_requests(sim, "greeks").values()) == reference(DAY).expirations - len(staged)
    assert_converges(world, DAY, reference(DAY))


def test_a_terminal_that_stays_disconnected_fails_the_date_cleanly(tmp_path, sim_factory, reference):
    sim = sim_factory(p474=1.0)
    world = World(tmp_path / "w", sim.base_url, thetadata_maxRetries=2)
    assert process(world, DAY).returncode == 1
    row = assert_end_state(world, DAY, reference(DAY))
    assert (row["status"], row["error_type"]) == ("failed", "ApiConnection")
    assert len(world.errors(DAY)) == 3                              # two retries and the failure
    sim.restart()
    assert_converges(world, DAY, reference(DAY))


def test_a_terminal_still_starting_is_waited_for(tmp_path, sim_factory, reference):
    sim = sim_factory(starting_seconds=1.5)
    world = World(tmp_path / "w", sim.base_url, thetadata_retryBaseSeconds=0.2, thetadata_maxRetries=8)
    result = process(world, DAY)
    assert result.returncode == 0, result.stderr
    assert_end_state(world, DAY, reference(DAY))


# -- 4. 570 down to small windows -------------------------------------------------------------
def test_570_splits_down_to_small_windows_and_the_data_is_complete(tmp_path, sim_factory, reference):
    sim = sim_factory(large_over=400)
    world = World(tmp_path / "w", sim.base_url)
    result = process(world, DAY)
    assert result.returncode == 0, result.stderr
    too_large = sim_requests(sim, "greeks").get("570", 0)
    assert too_large > reference(DAY).expirations                   # split again and again
    assert len([e for e in world.errors(DAY) if e["error_type"] == "ApiLargeRequest"]) == too_large
    assert_end_state(world, DAY, reference(DAY))
    assert world.final(DAY).exists()


# -- 8. twenty flipped bytes --------------------------------------------------------------------
def test_every_one_of_twenty_random_flipped_bytes_is_found_and_repaired(tmp_path, sim, reference):
    world = World(tmp_path / "w", sim.base_url)
    assert process(world, DAY).returncode == 0
    final = world.final(DAY)
    pristine = final.read_bytes()
    rng = random.Random("flips")
    for offset in sorted(rng.sample(range(len(pristine)), 20)):
        damaged = bytearray(pristine)
        damaged[offset] ^= 1 << rng.randrange(8)
        final.write_bytes(bytes(damaged))
        assert check(final)["outcome"] == "corrupt", offset
        verified = world.run("spx-data", "verify", DAY, "--format", "ndjson")
        assert verified.returncode == 1 and json.loads(verified.stdout)["outcome"] == "corrupt", offset
        assert world.gap_categories(DAY) == ["corrupt"], offset
    repaired = world.run("spx-data", "retry", DAY, "--force", "--quiet")
    assert repaired.returncode == 0, repaired.stderr
    assert_same_content(final, reference(DAY))
    assert world.run("spx-data", "verify", DAY).returncode == 0
    assert world.run("spx-data", "cleanup", "--failed-outputs").returncode == 0
    assert_end_state(world, DAY, reference(DAY))


# -- 7. overlapping batches -----------------------------------------------------------------------
def test_two_process_ranges_over_the_same_days_at_once(tmp_path, sim_factory, reference):
    sim = sim_factory(latency_ms=30)
    world = World(tmp_path / "w", sim.base_url)
    batch = ["spx-data", "process-range", DAYS[0], DAYS[-1], "--parallel", "2", "--quiet"]
    runs = [subprocess.Popen(batch, env=world.env, cwd=world.root, stdin=subprocess.DEVNULL,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outcomes = [(run.wait(timeout=600), run.stderr.read()) for run in runs]
    assert all(code in (0, 1) for code, _ in outcomes), outcomes
    for day in DAYS:
        assert_end_state(world, day, reference(day))
    missing = [day for day in DAYS if not world.final(day).exists()]
    if missing:  # a day one batch found locked by the other is simply processed again
        assert process(world, *missing).returncode == 0
    for day in DAYS:
        assert world.processing(day)["status"] == "success"
    expirations = sum(reference(day).expirations for day in DAYS)
    assert sum(sim_requests(sim, "greeks").values()) == expirations  # no day was fetched twice
    assert partial_files(world.out) == []
