"""spx-ndjson2parquet --follow / convert(follow=...): stage files converted as spx-fetch's events
announce them, each expiration written as soon as every one before it is in, with the same file
as a conversion after the fetch."""
import io
import json

import pyarrow.parquet as pq
import pytest

from spx_data import layout
from spx_data.convert import convert
from spx_data.errors import IncompleteInputError, UsageError
from test_convert import DAY, chain, run_cli, write_lines

KEYS = [("SPX", "2024-01-19"), ("SPXW", "2024-01-03"), ("SPXW", "2024-01-05")]


def stage_files(stage):
    """One stage file per key of KEYS, as spx-fetch names them; {key: path}."""
    stage.mkdir(parents=True, exist_ok=True)
    return {k: write_lines(layout.expiration_file(stage, *k), chain(root=k[0], expiration=k[1], minutes=30))
            for k in KEYS}


def done(root, expiration, **extra):
    return json.dumps({"event": "expiration_done", "date": DAY, "root": root, "expiration": expiration,
                       "rows": 1, **extra}) + "\n"


def test_out_of_order_announcements_give_the_file_of_a_plain_conversion(tmp_path):
    files = stage_files(tmp_path / "stage")
    plain = convert(sorted(files.values()), tmp_path / "plain.parquet", day=DAY)
    events = io.StringIO(done("SPXW", "2024-01-05") + '{"event":"error","error_type":"ApiRateLimit"}\n'
                         + done("SPX", "2024-01-19") + done("SPXW", "2024-01-03") + done("SPXW", "2024-01-03"))
    followed = convert(list(files.values()), tmp_path / "followed.parquet", day=DAY, follow=events)
    assert followed["content_sha256"] == plain["content_sha256"] and followed["rows"] == plain["rows"]
    assert pq.read_table(tmp_path / "followed.parquet").equals(pq.read_table(tmp_path / "plain.parquet"))


def test_each_expiration_is_written_once_every_one_before_it_is_in(tmp_path):
    files = stage_files(tmp_path / "stage")
    out = tmp_path / "day.parquet"
    part = out.with_name(out.name + ".part")
    seen = []

    def events():
        # What the file holds when each announcement is read: nothing can be written while the
        # first expiration (SPX) is missing; once it is in, the two before the last are.
        yield done("SPXW", "2024-01-03")
        seen.append(part.stat().st_size)
        yield done("SPX", "2024-01-19")
        seen.append(part.stat().st_size)
        yield done("SPXW", "2024-01-05")

    convert(list(files.values()), out, day=DAY, follow=events())
    header_only, two_written = seen
    assert two_written > header_only + 10_000


def test_rows_of_an_expiration_already_written_are_bad_input_and_nothing_is_written(tmp_path):
    files = stage_files(tmp_path / "stage")
    write_lines(files[("SPXW", "2024-01-05")], chain(root="SPX", expiration="2024-01-19", minutes=30, seed=1))
    events = io.StringIO("".join(done(*k) for k in KEYS))
    out = tmp_path / "out" / "day.parquet"
    with pytest.raises(UsageError, match="SPXW-2024-01-05.ndjson holds rows of SPX 2024-01-19, which are already"):
        convert(list(files.values()), out, day=DAY, follow=events)
    assert list(out.parent.iterdir()) == []


def test_events_that_end_early_fail_and_write_nothing(tmp_path):
    files = stage_files(tmp_path / "stage")
    out = tmp_path / "out" / "day.parquet"
    with pytest.raises(IncompleteInputError, match="before 2 of 3 stage files were complete"):
        convert(list(files.values()), out, day=DAY, follow=io.StringIO(done("SPX", "2024-01-19")))
    assert list(out.parent.iterdir()) == []


def test_cli_follows_events_on_stdin(tmp_path):
    files = stage_files(tmp_path / "stage")
    out = tmp_path / "day.parquet"
    result = run_cli("--follow", "-o", out, "--date", DAY, *files.values(),
                     stdin="".join(done(*k) for k in reversed(KEYS)))
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["rows"] == pq.read_metadata(out).num_rows == 3 * 120


@pytest.mark.parametrize("args, message", [
    (["--follow", "-o", "{out}", "{tmp}/day-rows.ndjson"], "named ROOT-YYYY-MM-DD.ndjson"),
    (["--follow", "-o", "{out}"], "Usage:"),
])
def test_cli_follow_needs_stage_files(tmp_path, args, message):
    out = tmp_path / "day.parquet"
    result = run_cli(*[a.format(out=out, tmp=tmp_path) for a in args], stdin="")
    assert result.returncode == 2 and message in result.stderr and not out.exists()
