"""Stage files: complete under their final name or not there at all."""
import datetime as dt

from spx_data import staging

EXP = dt.date(2024, 1, 5)


def test_a_committed_part_becomes_the_final_file(tmp_path):
    part = staging.PartFile(tmp_path, "SPXW", EXP)
    assert part.path.name == "SPXW-2024-01-05.ndjson.part"
    part.file.write(b'{"a":1}\n{"a":2}\n')
    assert not staging.is_complete(tmp_path, "SPXW", EXP)
    final = part.commit()
    assert final == tmp_path / "SPXW-2024-01-05.ndjson"
    assert final.read_bytes() == b'{"a":1}\n{"a":2}\n'
    assert not part.path.exists()
    assert staging.is_complete(tmp_path, "SPXW", EXP)
    assert staging.count_rows(final) == 2


def test_an_abandoned_part_leaves_nothing(tmp_path):
    part = staging.PartFile(tmp_path, "SPX", EXP)
    part.file.write(b"half a row")
    part.abandon()
    assert list(tmp_path.iterdir()) == []
    assert not staging.is_complete(tmp_path, "SPX", EXP)


def test_a_leftover_part_starts_over(tmp_path):
    leftover = tmp_path / "SPXW-2024-01-05.ndjson.part"
    leftover.write_bytes(b"from a killed run, much longer than the new content\n")
    part = staging.PartFile(tmp_path, "SPXW", EXP)
    part.file.write(b"new\n")
    assert part.commit().read_bytes() == b"new\n"


def test_an_empty_expiration_is_an_empty_final_file(tmp_path):
    final = staging.PartFile(tmp_path, "SPXW", EXP).commit()
    assert final.read_bytes() == b"" and staging.count_rows(final) == 0
    assert staging.is_complete(tmp_path, "SPXW", EXP)
