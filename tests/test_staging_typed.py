"""The typed copy of a stage file: kept by spx-fetch beside the NDJSON, used by
spx-ndjson2parquet instead of parsing the text only while it belongs to the file as it is."""
import datetime as dt
import os

import pyarrow.parquet as pq
import pytest

from spx_data import convert as convert_module
from spx_data import staging
from spx_data.convert import convert
from spx_data.thetadata import rows
from spx_data.thetadata.v3 import V3Api
from test_thetadata_parse import DAY, EXP, expected_rows, reply, v3_csv


def table():
    return V3Api("csv").parse_greeks(reply(v3_csv(expected_rows())), DAY, "SPXW", EXP)[0]


def staged(stage, cut=False):
    """A stage file written the way spx-fetch writes one; CUT: an attempt cut off and redone."""
    part = staging.PartFile(stage, "SPXW", EXP, DAY)
    rows.write(part.file, table(), DAY, "SPXW", EXP)
    part.add_typed(table())
    if cut:
        part.file.seek(0)
        part.file.truncate()
        rows.write(part.file, table(), DAY, "SPXW", EXP)
        part.add_typed(table())
    return part.commit()


def test_a_stage_file_gets_a_typed_copy_with_the_same_rows(tmp_path):
    final = staged(tmp_path)
    assert oct(staging.typed_path(final).stat().st_mode & 0o777) == "0o600"
    typed, meta = staging.load_typed(final)
    assert meta == {"date": "2024-01-02", "root": "SPXW", "expiration": "2024-01-05"}
    assert rows.encode(typed, DAY, "SPXW", EXP) == final.read_bytes()


@pytest.mark.parametrize("edit", ["same size", "appended", "emptied"])
def test_the_typed_copy_is_ignored_once_the_ndjson_changed(tmp_path, edit):
    final = staged(tmp_path)
    text = final.read_bytes()
    changed = {"same size": text.replace(b'"bid":31.2', b'"bid":31.3', 1), "appended": text + text[:200],
               "emptied": b""}[edit]
    stat = os.stat(final)
    final.write_bytes(changed)
    os.utime(final, ns=(stat.st_atime_ns, stat.st_mtime_ns))   # even with the old modification time
    assert staging.load_typed(final) is None


def test_an_attempt_cut_off_again_keeps_no_typed_copy(tmp_path):
    final = staged(tmp_path, cut=True)
    assert final.read_bytes() == rows.encode(table(), DAY, "SPXW", EXP)
    assert not staging.typed_path(final).exists() and staging.load_typed(final) is None


def test_an_abandoned_part_leaves_no_typed_copy_either(tmp_path):
    part = staging.PartFile(tmp_path, "SPXW", EXP, DAY)
    rows.write(part.file, table(), DAY, "SPXW", EXP)
    part.add_typed(table())
    part.abandon()
    assert list(tmp_path.iterdir()) == []


def test_a_damaged_typed_copy_is_ignored(tmp_path):
    final = staged(tmp_path)
    typed = staging.typed_path(final)
    typed.write_bytes(typed.read_bytes()[:100])
    assert staging.load_typed(final) is None


def test_the_converter_takes_the_typed_copy_and_writes_the_same_file(tmp_path, monkeypatch):
    final = staged(tmp_path / "stage")
    aside = staging.typed_path(final).rename(tmp_path / "aside.arrow")
    from_text = convert([str(final)], tmp_path / "text.parquet", day="2024-01-02")
    aside.rename(staging.typed_path(final))

    def no_parsing(*args):
        raise AssertionError("the NDJSON text was parsed")
    monkeypatch.setattr(convert_module.Converter, "read", no_parsing)
    from_typed = convert([str(final)], tmp_path / "typed.parquet", day="2024-01-02")
    assert from_typed["rows"] == from_text["rows"] == len(expected_rows())
    assert from_typed["content_sha256"] == from_text["content_sha256"]
    assert pq.read_table(tmp_path / "typed.parquet").equals(pq.read_table(tmp_path / "text.parquet"))


def test_invalid_rows_in_the_typed_copy_are_rejected_from_the_text_with_line_numbers(tmp_path):
    bad = table().set_column(3, "bid", rows.pa.array([-1.0] + [1.0] * (len(expected_rows()) - 1)))
    part = staging.PartFile(tmp_path, "SPXW", EXP, DAY)
    rows.write(part.file, bad, DAY, "SPXW", EXP)
    part.add_typed(bad)
    final = part.commit()
    summary = convert([str(final)], tmp_path / "day.parquet", day="2024-01-02")
    assert summary["rows"] == len(expected_rows()) - 1 and summary["rejected"] == 1
    reject = (tmp_path / "day.parquet.rejects.ndjson").read_text()
    assert '"line":1,' in reject and "bid must be >= 0" in reject


def test_a_copy_of_another_day_is_not_taken_for_this_one(tmp_path):
    final = staged(tmp_path)
    summary = convert([str(final)], tmp_path / "day.parquet", day="2024-01-03")
    assert summary["rows"] == 0 and summary["rejected"] == len(expected_rows())   # as from the text


def run_fetch(sim, lines, *args):
    import subprocess
    return subprocess.run(["spx-fetch", "--base-url", sim.base_url, *args], input=lines, capture_output=True,
                          text=True)


def test_spx_fetch_keeps_typed_copies_only_when_asked(sim, tmp_path):
    import json
    lines = "".join(json.dumps({"date": "2024-01-02", "root": "SPXW", "expiration": e}) + "\n"
                    for e in ("2024-01-02", "2024-01-03"))
    assert run_fetch(sim, lines, "--stage", str(tmp_path / "plain")).returncode == 0
    assert sorted(p.suffix for p in (tmp_path / "plain").iterdir()) == [".ndjson", ".ndjson"]
    assert run_fetch(sim, lines, "--stage", str(tmp_path / "typed"), "--typed-copy").returncode == 0
    for ndjson in sorted((tmp_path / "typed").glob("*.ndjson")):
        typed, meta = staging.load_typed(ndjson)
        day, expiration = (dt.date.fromisoformat(meta[k]) for k in ("date", "expiration"))
        assert rows.encode(typed, day, meta["root"], expiration) == ndjson.read_bytes()
    assert (tmp_path / "plain" / "SPXW-2024-01-02.ndjson").read_bytes() == \
        (tmp_path / "typed" / "SPXW-2024-01-02.ndjson").read_bytes()


def test_a_typed_copy_needs_a_stage(sim):
    result = run_fetch(sim, "", "--typed-copy")
    assert result.returncode == 2 and "--typed-copy goes with --stage" in result.stderr
