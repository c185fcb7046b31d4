"""spx-seal TMP FINAL and spx-seal --check: verify, checksum, sidecar, permissions, atomic rename."""
import errno
import hashlib
import json
import os
import stat
import subprocess

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from spx_data import layout, schema
from spx_data import seal as seal_module
from spx_data.convert import convert
from spx_data.errors import FileCorruptionError, InsufficientDiskSpaceError, UsageError
from spx_data.seal import check, seal, verify
from test_convert import DAY, chain, write_lines


def day_file(tmp_path, name="day.parquet", rows=None, day=DAY):
    rows = chain(day=day, expiration="2024-01-05") if rows is None else rows
    path = tmp_path / "stage" / name
    convert([write_lines(tmp_path / f"{name}.ndjson", rows)], path, day=day)
    return path


@pytest.fixture
def final(tmp_path):
    return layout.final_path(tmp_path / "out", DAY)


def run_seal(*args):
    return subprocess.run(["spx-seal", *map(str, args)], capture_output=True, text=True)


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def flip_byte_in_data(path):
    """Corrupt one byte inside the first data page of column `bid`, leaving the footer intact."""
    chunk = pq.read_metadata(path).row_group(0).column(schema.NAMES.index("bid"))
    offset = chunk.data_page_offset + chunk.total_compressed_size // 2
    data = bytearray(path.read_bytes())
    data[offset] ^= 0xFF
    path.write_bytes(bytes(data))


def test_seal_places_the_file_with_sidecar_permissions_and_record(tmp_path, final):
    tmp = day_file(tmp_path)
    content = tmp.read_bytes()

    result = run_seal(tmp, final)

    assert result.returncode == 0, result.stderr
    record = json.loads(result.stdout)
    assert record == {"event": "sealed", "date": DAY, "path": str(final),
                      "sha256": hashlib.sha256(content).hexdigest(), "file_size_bytes": len(content),
                      "rows": len(chain())}
    assert final.read_bytes() == content and not tmp.exists()
    assert mode(final) == 0o600 and mode(layout.sidecar_path(final)) == 0o600
    for directory in (final.parent, final.parent.parent, final.parent.parent.parent, tmp_path / "out"):
        assert mode(directory) == 0o700
    checked = subprocess.run(["sha256sum", "-c", layout.sidecar_path(final).name], cwd=final.parent,
                             capture_output=True, text=True)
    assert checked.returncode == 0 and checked.stdout.strip() == f"{final.name}: OK"
    assert not list(final.parent.glob("*.tmp")) and not list(final.parent.glob(".*"))


def test_sealing_again_replaces_the_day_and_its_sidecar(tmp_path, final):
    seal(day_file(tmp_path, "first.parquet"), final)
    second = day_file(tmp_path, "second.parquet", rows=chain(minutes=5))
    content = second.read_bytes()

    record = seal(second, final)

    assert final.read_bytes() == content and record["rows"] == len(chain(minutes=5))
    assert check(final)["outcome"] == "ok"


@pytest.mark.parametrize("damage", ["flip", "truncate", "garbage", "foreign schema", "row count", "digest"])
def test_a_file_that_fails_verification_is_refused_and_final_untouched(tmp_path, final, damage):
    seal(day_file(tmp_path, "good.parquet"), final)
    previous = final.read_bytes()
    tmp = day_file(tmp_path)
    if damage == "flip":
        flip_byte_in_data(tmp)
    elif damage == "truncate":
        tmp.write_bytes(tmp.read_bytes()[:-100])
    elif damage == "garbage":
        tmp.write_bytes(b"not parquet at all")
    elif damage == "foreign schema":
        pq.write_table(pa.table({"date": ["2024-01-02"]}, metadata={b"spx_data.date": b"2024-01-02"}), tmp)
    else:
        table = pq.read_table(tmp)
        metadata = dict(table.schema.metadata or {})
        metadata.update({b"spx_data.row_count": b"999"} if damage == "row count"
                        else {b"spx_data.content_sha256": b"0" * 64})
        pq.write_table(table.replace_schema_metadata(metadata), tmp)
    damaged = tmp.read_bytes()

    result = run_seal(tmp, final)

    assert result.returncode == 1 and result.stdout == ""
    assert "failed verification" in result.stderr and "Traceback" not in result.stderr
    assert final.read_bytes() == previous and tmp.read_bytes() == damaged
    assert check(final)["outcome"] == "ok"


@pytest.mark.parametrize("bad", [
    "out/2024/01/02/day.parquet",
    "out/2024/01/02/spx-options-2024-01-03.parquet",
    "out/2024/1/02/spx-options-2024-01-02.parquet",
    "out/2024/01/spx-options-2024-01-02.parquet",
    "out/2024/02/30/spx-options-2024-02-30.parquet",
    "spx-options-2024-01-02.parquet",
])
def test_a_final_path_of_the_wrong_shape_is_a_usage_error(tmp_path, bad):
    tmp = day_file(tmp_path)
    result = run_seal(tmp, tmp_path / bad)
    assert result.returncode == 2 and "YYYY/MM/DD/spx-options-YYYY-MM-DD.parquet" in result.stderr
    assert tmp.exists() and not (tmp_path / "out").exists()


def test_a_file_of_another_day_is_refused(tmp_path):
    tmp = day_file(tmp_path)
    with pytest.raises(UsageError, match="holds 2024-01-02"):
        seal(tmp, layout.final_path(tmp_path / "out", "2024-01-03"))
    assert tmp.exists()


def test_a_missing_tmp_is_a_usage_error(tmp_path, final):
    assert run_seal(tmp_path / "nope.parquet", final).returncode == 2


def test_an_empty_day_seals(tmp_path, final):
    record = seal(day_file(tmp_path, rows=[]), final)
    assert record["rows"] == 0 and check(final)["outcome"] == "ok"


def test_seal_across_file_systems_copies_then_renames(tmp_path, final, monkeypatch):
    tmp = day_file(tmp_path)
    content = tmp.read_bytes()
    real_replace = os.replace

    def cross_device(src, dst):
        if str(src) == str(tmp):
            raise OSError(errno.EXDEV, "Invalid cross-device link")
        return real_replace(src, dst)

    monkeypatch.setattr(seal_module.os, "replace", cross_device)
    seal(tmp, final)
    assert final.read_bytes() == content and not tmp.exists() and mode(final) == 0o600
    assert sorted(p.name for p in final.parent.iterdir()) == [final.name, final.name + ".sha256"]


def test_a_full_disk_is_exit_5_and_final_untouched(tmp_path, final, monkeypatch):
    tmp = day_file(tmp_path)

    def full(*_args):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(seal_module, "_write_sidecar", full)
    with pytest.raises(InsufficientDiskSpaceError) as raised:
        seal(tmp, final)
    assert raised.value.exit_code == 5
    assert not final.exists() and tmp.exists()


# -- verify and --check ------------------------------------------------------------------------------
def test_verify_reports_rows_date_and_sha(tmp_path):
    tmp = day_file(tmp_path)
    result = verify(tmp)
    assert result == {"path": str(tmp), "date": DAY, "outcome": "ok", "reason": None,
                      "sha256": hashlib.sha256(tmp.read_bytes()).hexdigest(), "rows": len(chain())}


def test_verify_finds_a_flipped_byte_without_a_checksum_to_compare(tmp_path):
    tmp = day_file(tmp_path)
    flip_byte_in_data(tmp)
    result = verify(tmp)
    assert result["outcome"] == "corrupt" and result["reason"]


def test_verify_compares_an_expected_sha256(tmp_path):
    tmp = day_file(tmp_path)
    result = verify(tmp, expected_sha256="ab" * 32)
    assert result["outcome"] == "corrupt" and "differs from the expected" in result["reason"]


def test_verify_catches_a_file_renamed_to_another_day(tmp_path):
    sealed = layout.final_path(tmp_path / "out", DAY)
    seal(day_file(tmp_path), sealed)
    other = layout.final_path(tmp_path / "out", "2024-01-03")
    other.parent.mkdir(parents=True)
    os.rename(sealed, other)
    result = verify(other)
    assert result["outcome"] == "corrupt" and "does not match the file name" in result["reason"]


def test_check_reports_every_file_and_fails_if_any_is_not_ok(tmp_path):
    good = layout.final_path(tmp_path / "out", DAY)
    seal(day_file(tmp_path, "a.parquet"), good)
    flipped = layout.final_path(tmp_path / "out", "2024-01-03")
    seal(day_file(tmp_path, "b.parquet", rows=chain(day="2024-01-03"), day="2024-01-03"), flipped)
    flip_byte_in_data(flipped)
    no_sidecar = layout.final_path(tmp_path / "out", "2024-01-04")
    seal(day_file(tmp_path, "c.parquet", rows=chain(day="2024-01-04"), day="2024-01-04"), no_sidecar)
    layout.sidecar_path(no_sidecar).unlink()
    missing = layout.final_path(tmp_path / "out", "2024-01-05")

    result = run_seal("--check", good, flipped, no_sidecar, missing)

    assert result.returncode == 1
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(r["path"], r["date"], r["outcome"]) for r in records] == [
        (str(good), DAY, "ok"), (str(flipped), "2024-01-03", "corrupt"),
        (str(no_sidecar), "2024-01-04", "corrupt"), (str(missing), "2024-01-05", "missing")]
    assert records[0]["rows"] == len(chain()) and records[0]["reason"] is None
    assert "sha256" in records[1]["reason"] and "sidecar" in records[2]["reason"]
    assert all(set(r) == {"path", "date", "outcome", "reason", "sha256", "rows"} for r in records)


def test_check_all_ok_exits_0(tmp_path, final):
    seal(day_file(tmp_path), final)
    result = run_seal("--check", final)
    assert result.returncode == 0 and json.loads(result.stdout)["outcome"] == "ok"


def test_seal_refuses_corrupt_tmp_through_the_library_too(tmp_path, final):
    tmp = day_file(tmp_path)
    flip_byte_in_data(tmp)
    with pytest.raises(FileCorruptionError):
        seal(tmp, final)
    assert not final.exists() and not layout.sidecar_path(final).exists()
