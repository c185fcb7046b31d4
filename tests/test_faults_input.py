"""9. Malformed input: seeded random malformed NDJSON lines on stdin and random argv, for every
command. Never a traceback; exit 1 or 2 with a one-line message; nothing written — no file under
the data directories changes and the database's content stays the same. A quick sample here;
all 200 lines one by one, and eight argv per command, under `make test-faults`."""
import json
import random

import pyarrow.parquet as pq
import pytest

from fixtures.faults import (COMMANDS, VALID_RECORDS, World, assert_refused, malformed_lines, random_argv,
                             snapshot)

DEAD_TERMINAL = "http://127.0.0.1:9"  # nothing listens: a command that got past its checks would fail with 4
DAY = "2024-01-03"
LINES = 200
# The commands that read records on stdin, by the kind of record they read.
READERS = {
    "expiration": ("spx-fetch", "--stage", "data/temp/stage/2024-01-03"),
    "event": ("spx-log", "record"),
    "date": ("spx-data", "process", "-"),
}

# Lines the full sweep once caught a command crashing on (kept in the quick sample for good).
FOUND_BY_THE_SWEEP = {"event": ['{"event": {"a": 1}, "date": "2024-01-03"}',
                                '{"event": ["failed"], "date": "2024-01-03"}']}


@pytest.fixture
def world(tmp_path):
    world = World(tmp_path / "w", DEAD_TERMINAL)
    history = [{"event": "started", "date": "2024-01-02"},
               {"event": "failed", "date": "2024-01-02", "error_type": "ApiConnection", "error_message": "reset"}]
    recorded = world.run("spx-log", "record", input="".join(json.dumps(e) + "\n" for e in history))
    assert recorded.returncode == 0, recorded.stderr   # a database with content, so "unchanged" means something
    world.out.mkdir(parents=True)
    world.temp.mkdir(parents=True)
    return world


def feed_each(world, kind, lines):
    """Each line alone on the stdin of KIND's reader: refused with exit 2, nothing written."""
    before = snapshot(world)
    for number, line in enumerate(lines, 1):
        result = world.run(*READERS[kind], input=line + "\n", timeout=60)
        assert_refused(result, f"{kind} line {number}: {line[:200]!r}")
        assert result.returncode == 2, f"{kind} line {number}: {line[:200]!r}: {result.stderr}"
    assert snapshot(world) == before


def argv_sweep(world, seed, per_command):
    before = snapshot(world)
    stdin = "".join(line + "\n" for line in malformed_lines("date", random.Random(seed)))
    rng = random.Random(seed)
    for command in COMMANDS:
        for _ in range(per_command):
            argv = [*command, *random_argv(rng)]
            assert_refused(world.run(*argv, input=stdin, timeout=60), argv)
    assert snapshot(world) == before


@pytest.mark.parametrize("kind", READERS)
def test_malformed_lines_on_stdin_are_refused_and_nothing_is_written(world, kind):
    lines = malformed_lines(kind, random.Random(f"stdin-{kind}"), LINES)
    before = snapshot(world)
    everything = world.run(*READERS[kind], input="".join(line + "\n" for line in lines), timeout=60)
    assert_refused(everything, f"{kind}: {LINES} malformed lines")
    assert everything.returncode == 2
    if kind != "date":
        assert everything.stderr.startswith(f"{READERS[kind][0]}: -:1: ")    # the first bad line, named
    assert snapshot(world) == before
    feed_each(world, kind, random.Random(kind).sample(lines, 4) + FOUND_BY_THE_SWEEP.get(kind, []))


def test_the_converter_rejects_every_malformed_row_and_keeps_only_the_valid_ones(world):
    lines = malformed_lines("tick", random.Random("stdin-tick"), LINES)
    valid = [dict(VALID_RECORDS["tick"], ms_of_day=34_200_000 + 60_000 * i) for i in range(10)]
    numbered = lines[:]
    for offset, row in enumerate(valid):  # spread the valid rows among the bad ones
        numbered.insert(offset * 20, json.dumps(row))
    out = world.root / "day.parquet"
    result = world.run("spx-ndjson2parquet", "-o", str(out), "--date", DAY,
                       input="".join(line + "\n" for line in numbered), timeout=120)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert pq.read_table(out).num_rows == len(valid)
    rejects = [json.loads(line) for line in open(f"{out}.rejects.ndjson", encoding="utf-8")]
    bad_numbers = [n for n, line in enumerate(numbered, 1) if line in lines]
    assert [r["line"] for r in rejects] == bad_numbers                # every bad row reported, none kept


def test_random_argv_is_refused_by_every_command(world):
    argv_sweep(world, "argv-quick", per_command=1)


@pytest.mark.faults_heavy
@pytest.mark.parametrize("kind", READERS)
def test_every_one_of_200_malformed_lines_alone_is_refused(world, kind):
    feed_each(world, kind, malformed_lines(kind, random.Random(f"stdin-{kind}"), LINES))


@pytest.mark.faults_heavy
def test_eight_random_argv_per_command_are_refused(world):
    argv_sweep(world, "argv-heavy", per_command=8)
