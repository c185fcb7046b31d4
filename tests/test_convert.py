"""spx-ndjson2parquet / spx_data.convert: NDJSON tick rows in, one pinned, sorted, de-duplicated
Parquet file out, with rejects reported and never silently dropped.

The tick helpers at the top are shared by test_quality.py and test_seal.py."""
import datetime as dt
import json
import random
import subprocess
import sys
from pathlib import Path
from zoneinfo import ZoneInfo

import pyarrow.parquet as pq
import pytest

from spx_data import convert as convert_module
from spx_data import schema
from spx_data.convert import convert
from spx_data.errors import Interrupted, UsageError

DAY = "2024-01-02"
NEW_YORK = ZoneInfo("America/New_York")
OPEN_MS = 34_200_000   # 09:30


def tick(**overrides):
    """One valid tick row (DESIGN §2) of DAY; OVERRIDES replace fields."""
    row = {"date": DAY, "root": "SPXW", "expiration": "2024-01-05", "strike": 4700.0, "right": "C",
           "ms_of_day": OPEN_MS, "bid": 31.2, "ask": 31.6, "delta": 0.52, "theta": -2.1, "vega": 1.9,
           "rho": 0.12, "epsilon": -0.1, "lambda": 78.3, "implied_vol": 0.118, "iv_error": 0.0,
           "ms_of_day2": OPEN_MS - 2, "underlying_price": 4742.17}
    row.update(overrides)
    return row


def chain(day=DAY, root="SPXW", expiration="2024-01-05", strikes=(4700.0, 4705.0), rights="CP", minutes=3,
          interval_ms=60_000, seed=0):
    """Tick rows of every (strike, right) for MINUTES intervals from the open, with varied values."""
    rng = random.Random(f"{seed}{root}{expiration}")
    rows = []
    for strike in strikes:
        for right in rights:
            for minute in range(minutes):
                ms = OPEN_MS + minute * interval_ms
                bid = round(rng.uniform(0.05, 60), 2)
                rows.append(tick(date=day, root=root, expiration=expiration, strike=strike, right=right,
                                 ms_of_day=ms, bid=bid, ask=round(bid + rng.uniform(0.05, 1), 2),
                                 delta=rng.uniform(-1, 1), theta=-rng.random(), vega=rng.random(),
                                 rho=rng.random(), epsilon=-rng.random(), implied_vol=rng.uniform(0.05, 0.4),
                                 ms_of_day2=ms - rng.randint(0, 5), underlying_price=4742.17 + minute))
    return rows


def write_lines(path, rows, extra=()):
    """Write ROWS as NDJSON to PATH (dicts are dumped, str/bytes written as they are)."""
    with open(path, "wb") as handle:
        for row in list(rows) + list(extra):
            if isinstance(row, dict):
                row = json.dumps(row)
            handle.write(row if isinstance(row, bytes) else row.encode())
            handle.write(b"\n")
    return str(path)


def key(row):
    return (row["root"], str(row["expiration"]), row["strike"], row["right"], row["ms_of_day"])


def read_rows(path):
    return pq.read_table(path).to_pylist()


def run_cli(*args, stdin=None):
    return subprocess.run(["spx-ndjson2parquet", *map(str, args)], input=stdin, capture_output=True, text=True)


@pytest.fixture
def out(tmp_path):
    return tmp_path / "stage" / "day.parquet"


# -- the happy path ------------------------------------------------------------------------------
def test_valid_rows_land_exactly_sorted_with_dates_as_dates(tmp_path, out):
    rows = chain(expiration="2024-01-05") + chain(expiration="2024-01-03") + chain(root="SPX", expiration="2024-01-19")
    shuffled = rows[:]
    random.Random(1).shuffle(shuffled)
    first = write_lines(tmp_path / "a.ndjson", shuffled[:20])
    second = write_lines(tmp_path / "b.ndjson", shuffled[20:])

    summary = convert([first, second], out, day=DAY)

    written = read_rows(out)
    assert summary["rows"] == len(rows) == len(written)
    assert [key(r) for r in written] == sorted(key(r) for r in rows)
    by_key = {key(r): r for r in rows}
    for got in written:
        sent = by_key[key(got)]
        assert got["date"] == dt.date(2024, 1, 2) and got["expiration"] == dt.date.fromisoformat(sent["expiration"])
        for name in schema.TICK_FIELDS:
            if name not in ("date", "expiration"):
                assert got[name] == sent[name], name   # passed through exactly, no rounding


def test_file_has_the_pinned_schema_and_layout(tmp_path, out):
    rows = chain(expiration="2024-01-05") + chain(root="SPX", expiration="2024-01-19")
    convert([write_lines(tmp_path / "in.ndjson", rows)], out, day=DAY)

    parquet = pq.ParquetFile(out)
    assert parquet.schema_arrow.remove_metadata().equals(schema.arrow_schema())
    metadata = parquet.metadata
    assert metadata.row_group(0).column(0).compression == "ZSTD"
    # one (root, expiration) per row group, with statistics so readers can prune by them
    expirations = []
    for index in range(metadata.num_row_groups):
        stats = metadata.row_group(index).column(schema.NAMES.index("expiration")).statistics
        assert stats.has_min_max and stats.min == stats.max
        expirations.append(stats.min)
    assert expirations == [dt.date(2024, 1, 19), dt.date(2024, 1, 5)]   # SPX sorts before SPXW
    assert [c.column_index for c in metadata.row_group(0).sorting_columns] == \
        [schema.NAMES.index(name) for name in schema.KEY]


def test_pandas_reads_the_types(tmp_path, out):
    convert([write_lines(tmp_path / "in.ndjson", chain())], out, day=DAY)
    frame = pq.read_table(out).to_pandas()
    assert str(frame["root"].dtype) == "category" and str(frame["right"].dtype) == "category"
    assert str(frame["timestamp"].dtype) == "datetime64[ms, America/New_York]"
    assert str(frame["ms_of_day"].dtype) == "int32" and str(frame["strike"].dtype) == "float64"
    assert frame["date"].iloc[0] == dt.date(2024, 1, 2)
    assert frame["timestamp"].iloc[0].strftime("%Y-%m-%d %H:%M %Z") == "2024-01-02 09:30 EST"


@pytest.mark.parametrize("day", ["2024-03-08", "2024-03-11", "2024-11-01", "2024-11-04"])
def test_timestamp_is_right_on_both_sides_of_a_dst_change(tmp_path, out, day):
    ms = 34_260_000   # 09:31:00 New York
    convert([write_lines(tmp_path / "in.ndjson", [tick(date=day, expiration="2024-12-20", ms_of_day=ms)])], out)

    expected = dt.datetime.combine(dt.date.fromisoformat(day), dt.time(9, 31), NEW_YORK)
    instant = pq.read_table(out).column("timestamp")[0].as_py()
    assert instant == expected and instant.utcoffset() == expected.utcoffset()
    frame = pq.read_table(out).to_pandas()
    assert frame["timestamp"].iloc[0].tz_convert("UTC") == expected.astimezone(dt.timezone.utc)
    assert frame["timestamp"].iloc[0].strftime("%H:%M") == "09:31"


def test_footer_metadata(tmp_path, out):
    rows = chain()
    summary = convert([write_lines(tmp_path / "in.ndjson", rows + [rows[0]], extra=["garbage"])], out,
                      day=DAY, interval_ms=60_000, meta=["source.api_version=v3", "source.endpoint=/v3/x",
                                                         "run=abc"])
    footer = schema.footer(pq.read_metadata(out).metadata)
    assert footer["schema_version"] == schema.SCHEMA_VERSION
    assert footer["date"] == DAY
    assert footer["row_count"] == str(len(rows)) == str(summary["rows"])
    assert footer["rejected"] == "1" and footer["duplicates"] == "1"
    assert json.loads(footer["source"]) == {"api_version": "v3", "endpoint": "/v3/x", "interval_ms": 60000}
    assert footer["run"] == "abc"
    assert footer["content_sha256"] == summary["content_sha256"]
    from spx_data import __version__
    assert footer["tool_version"] == __version__


@pytest.mark.parametrize("pair", ["noequals", "=v", "row_count=5", "bad key=1"])
def test_bad_meta_is_a_usage_error(tmp_path, out, pair):
    with pytest.raises(UsageError):
        convert([write_lines(tmp_path / "in.ndjson", chain())], out, meta=[pair])


# -- validation and rejects ------------------------------------------------------------------------
INVALID = [
    ("not json at all", "not valid JSON"),
    ("[1, 2]", "expected a JSON object"),
    (json.dumps(tick()).replace("31.2", "NaN"), "NaN"),
    (json.dumps(tick()).replace("31.2", "1e999"), "not valid JSON"),
    (json.dumps(tick()).replace("4700.0", "1" + "0" * 400), "strike is out of range"),
    (json.dumps({k: v for k, v in tick().items() if k != "vega"}), "missing field 'vega'"),
    (json.dumps(tick(bid="31.2")), "bid must be a number"),
    (json.dumps(tick(bid=True)), "bid must be a number"),
    (json.dumps(tick(strike=None)), "strike must be a number"),
    (json.dumps(tick(ms_of_day=34_200_000.5)), "ms_of_day must be an integer"),
    (json.dumps(tick(ms_of_day=34_200_000.0)), "ms_of_day must be an integer"),
    (json.dumps(tick(root=5)), "root must be a string"),
    (json.dumps(tick(bid=-0.05)), "bid must be >= 0"),
    (json.dumps(tick(ask=-1)), "ask must be >= 0"),
    (json.dumps(tick(right="CALL")), "right must be C or P"),
    (json.dumps(tick(ms_of_day=86_400_000)), "ms_of_day must be in [0, 86400000)"),
    (json.dumps(tick(ms_of_day=-1)), "ms_of_day must be in [0, 86400000)"),
    (json.dumps(tick(ms_of_day2=2 ** 31)), "ms_of_day2 must fit in 32 bits"),
    (json.dumps(tick(strike=0)), "strike must be > 0"),
    (json.dumps(tick(date="2024-01-03")), "is not the day being converted (2024-01-02)"),
    (json.dumps(tick(expiration="2024-01-01")), "expiration 2024-01-01 is before the date 2024-01-02"),
    (json.dumps(tick(expiration="2024-02-30")), "expiration '2024-02-30' is not a valid date"),
    (json.dumps(tick(expiration="20240105")), "expiration '20240105' is not a valid date"),
    (json.dumps(tick(root="")), "root is empty"),
    (b'{"root": "SP\xff"}', "not valid UTF-8"),
]


@pytest.mark.parametrize("line,reason", INVALID, ids=[reason for _line, reason in INVALID])
def test_an_invalid_row_is_rejected_with_line_and_reason_and_valid_rows_still_land(tmp_path, out, line, reason):
    source = write_lines(tmp_path / "in.ndjson", [tick(strike=4700.0), line, tick(strike=4705.0)])
    rejects = tmp_path / "rejects.ndjson"

    summary = convert([source], out, day=DAY, rejects_path=rejects)

    assert summary["rows"] == 2 and summary["rejected"] == 1
    assert [r["strike"] for r in read_rows(out)] == [4700.0, 4705.0]
    [reject] = [json.loads(x) for x in rejects.read_text().splitlines()]
    assert reject["file"] == source and reject["line"] == 2
    assert reason in reject["reason"]
    raw = line if isinstance(line, str) else line.decode("utf-8", "replace")
    assert reject["raw"] == raw
    assert summary["rejects"] == str(rejects)


@pytest.mark.parametrize("block_bytes", [2048, convert_module.BLOCK_BYTES])
def test_line_numbers_are_exact_across_blocks_and_files_with_blank_lines(tmp_path, out, block_bytes):
    rows = chain(minutes=390)                    # 1560 lines: a failing block is halved several times
    lines = [json.dumps(r) for r in rows]
    lines[7] = "oops"
    lines.insert(1000, "")                       # a blank line still counts as a line
    lines[1300] = json.dumps(tick(right="X"))
    first = write_lines(tmp_path / "a.ndjson", lines)
    second = write_lines(tmp_path / "b.ndjson", [json.dumps(tick(bid=-1))])
    rejects = tmp_path / "rejects.ndjson"

    summary = convert([first, second], out, day=DAY, rejects_path=rejects, block_bytes=block_bytes)

    got = [(r["file"], r["line"]) for r in map(json.loads, rejects.read_text().splitlines())]
    assert got == [(first, 8), (first, 1301), (second, 1)]
    assert summary["rejected"] == 3 and summary["rows"] == len(rows) - 2
    assert [key(r) for r in read_rows(out)] == sorted(key(r) for i, r in enumerate(rows) if i not in (7, 1299))


def test_raw_is_truncated_to_1000_characters(tmp_path, out):
    rejects = tmp_path / "rejects.ndjson"
    convert([write_lines(tmp_path / "in.ndjson", ["x" * 5000])], out, day=DAY, rejects_path=rejects)
    assert json.loads(rejects.read_text())["raw"] == "x" * 1000


def test_only_garbage_still_writes_an_empty_valid_file(tmp_path, out):
    summary = convert([write_lines(tmp_path / "in.ndjson", ["garbage", "{}", "[]"])], out, day=DAY)
    assert summary["rows"] == 0 and summary["rejected"] == 3
    table = pq.read_table(out)
    assert table.num_rows == 0 and table.schema.remove_metadata().equals(schema.arrow_schema())


def test_empty_input_writes_an_empty_file_with_the_same_schema(tmp_path, out):
    summary = convert([write_lines(tmp_path / "in.ndjson", [])], out, day=DAY)
    assert summary["rows"] == 0 and summary["rejected"] == 0 and summary["rejects"] is None
    assert pq.read_schema(out).remove_metadata().equals(schema.arrow_schema())


def test_the_day_defaults_to_the_first_valid_date_and_other_days_are_rejects(tmp_path, out):
    rows = ["junk", json.dumps(tick(date="2024-01-03", expiration="2024-01-05")), json.dumps(tick()),
            json.dumps(tick(strike=4705.0, date="2024-01-03", expiration="2024-01-05"))]
    summary = convert([write_lines(tmp_path / "in.ndjson", rows)], out)
    assert summary["date"] == "2024-01-03"
    assert summary["rows"] == 2 and summary["rejected"] == 2
    assert schema.footer(pq.read_metadata(out).metadata)["date"] == "2024-01-03"


def test_no_way_to_tell_the_day_is_a_usage_error_and_leaves_no_file(tmp_path, out):
    out.parent.mkdir(parents=True)
    out.write_bytes(b"stale output of an earlier run")
    with pytest.raises(UsageError, match="--date"):
        convert([write_lines(tmp_path / "in.ndjson", ["junk"])], out)
    assert not out.exists()


def test_stale_rejects_file_is_removed_when_nothing_is_rejected(tmp_path, out):
    rejects = tmp_path / "rejects.ndjson"
    rejects.write_text('{"old": true}\n')
    convert([write_lines(tmp_path / "in.ndjson", chain())], out, day=DAY, rejects_path=rejects)
    assert not rejects.exists()


# -- de-duplication --------------------------------------------------------------------------------
def test_duplicate_keys_collapse_to_the_first_occurrence_and_conflicts_are_counted(tmp_path, out):
    first = tick(bid=1.0)
    repeat = tick(bid=1.0)
    conflicting = tick(bid=2.0)
    other = tick(strike=4705.0)
    files = [write_lines(tmp_path / "a.ndjson", [first, other, repeat]),
             write_lines(tmp_path / "b.ndjson", [conflicting, other])]

    summary = convert(files, out, day=DAY)

    written = read_rows(out)
    assert [(r["strike"], r["bid"]) for r in written] == [(4700.0, 1.0), (4705.0, other["bid"])]
    assert summary["duplicates"] == 3 and summary["conflicting_duplicates"] == 1
    assert summary["rows"] == 2


# -- the same content whatever the input's shape ---------------------------------------------------
def test_content_digest_and_rows_do_not_depend_on_chunking_order_or_path(tmp_path, out):
    rows = (chain(expiration="2024-01-05", minutes=20) + chain(expiration="2024-01-03", minutes=20)
            + chain(root="SPX", expiration="2024-01-19", minutes=20))
    clean = convert([write_lines(tmp_path / "all.ndjson", rows)], out, day=DAY)
    expected = pq.read_table(out)

    shuffled = rows[:]
    random.Random(7).shuffle(shuffled)
    pieces = [write_lines(tmp_path / f"p{i}.ndjson", shuffled[i::3]) for i in range(3)]
    other = tmp_path / "other.parquet"
    chunked = convert(pieces, other, day=DAY, block_bytes=1500, row_group_rows=50)
    assert chunked["content_sha256"] == clean["content_sha256"]
    assert pq.read_table(other).equals(expected)
    assert pq.ParquetFile(other).metadata.num_row_groups > 3

    # one garbage line sends its block down the line-by-line path: the valid rows must not change
    slow = convert([write_lines(tmp_path / "slow.ndjson", rows, extra=["garbage"])], other, day=DAY)
    assert slow["content_sha256"] == clean["content_sha256"] and slow["rejected"] == 1
    assert pq.read_table(other).equals(expected)

    changed = rows[:]
    changed[5] = dict(changed[5], vega=changed[5]["vega"] + 1e-9)
    assert convert([write_lines(tmp_path / "changed.ndjson", changed)], other, day=DAY)["content_sha256"] \
        != clean["content_sha256"]


def test_stdin_with_interleaved_expirations(tmp_path, out):
    rows = chain(expiration="2024-01-05") + chain(expiration="2024-01-03")
    random.Random(3).shuffle(rows)
    result = run_cli("-o", out, "--date", DAY, "-", stdin="".join(json.dumps(r) + "\n" for r in rows))
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["rows"] == len(rows) and summary["expirations"] == 2
    assert [key(r) for r in read_rows(out)] == sorted(key(r) for r in rows)
    assert sorted(p.name for p in out.parent.iterdir()) == ["day.parquet"]   # no spill or .part left


# -- interruption ----------------------------------------------------------------------------------
def test_an_interrupted_write_leaves_no_output_part_or_spill(tmp_path, out, monkeypatch):
    rows = chain(expiration="2024-01-05") + chain(expiration="2024-01-03")
    source = write_lines(tmp_path / "in.ndjson", rows)
    writes = []

    def interrupted_after_one(self, table, row_group_size=None):
        writes.append(table.num_rows)
        if len(writes) > 1:
            raise Interrupted(15)
        return original(self, table, row_group_size=row_group_size)

    original = pq.ParquetWriter.write_table
    monkeypatch.setattr(pq.ParquetWriter, "write_table", interrupted_after_one)
    with pytest.raises(Interrupted):
        convert([source], out, day=DAY)
    assert len(writes) == 2
    assert list(out.parent.iterdir()) == []


# -- the command -----------------------------------------------------------------------------------
def test_cli_prints_one_summary_record(tmp_path, out):
    rejects = tmp_path / "rej.ndjson"
    source = write_lines(tmp_path / "in.ndjson", chain(), extra=["junk"])
    result = run_cli(source, "-o", out, "--date", DAY, "--rejects", rejects, "--meta", "source.api_version=v2")
    assert result.returncode == 0, result.stderr
    [line] = result.stdout.splitlines()
    summary = json.loads(line)
    assert summary["event"] == "converted" and summary["date"] == DAY and summary["path"] == str(out)
    assert summary["rows"] == len(chain()) and summary["rejected"] == 1 and summary["rejects"] == str(rejects)
    for field in ("duplicates", "expirations", "contracts", "expected_rows", "completeness", "zero_quote_rows",
                  "crossed_quotes", "quality_score", "iv_atm_mean"):
        assert field in summary


@pytest.mark.parametrize("args", [
    ["-o", "{out}", "--date", "2024-02-30", "{src}"],
    ["-o", "{out}", "--interval-ms", "soon", "{src}"],
    ["-o", "{out}", "--interval-ms", "-5", "{src}"],
    ["-o", "{out}", "{tmp}/missing.ndjson"],
    ["-o", "{out}", "--meta", "nonsense", "{src}"],
    ["{src}"],
])
def test_cli_bad_usage_exits_2_with_one_line(tmp_path, out, args):
    src = write_lines(tmp_path / "in.ndjson", chain())
    result = run_cli(*[a.format(out=out, src=src, tmp=tmp_path) for a in args])
    assert result.returncode == 2
    assert result.stdout == "" and "Traceback" not in result.stderr
    assert not out.exists()


def test_command_import_does_not_load_pyarrow():
    code = ("import sys; sys.path.insert(0, 'lib'); import spx_data.commands.ndjson2parquet, "
            "spx_data.commands.seal, spx_data.schema, spx_data.quality; print('pyarrow' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            cwd=Path(__file__).resolve().parents[1])
    assert result.stdout.strip() == "False", result.stderr


def test_the_simulators_day_lands_exactly_from_stage_files(tmp_path, out):
    from spx_data import layout
    from spx_data.sim import oracle
    rows = list(oracle.ticks(DAY, seed=7, preset="tiny"))
    stage = layout.stage_dir(tmp_path / "temp", DAY)
    stage.mkdir(parents=True)
    by_file = {}
    for row in rows:
        by_file.setdefault(layout.expiration_file(stage, row["root"], row["expiration"]), []).append(row)
    for path, file_rows in by_file.items():
        write_lines(path, file_rows)

    result = run_cli(*sorted(stage.glob("*-????-??-??.ndjson")), "-o", out, "--date", DAY,
                     "--meta", "source.api_version=v3")

    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    expected = oracle.count(DAY, seed=7, preset="tiny")
    assert (summary["rows"], summary["expirations"], summary["contracts"], summary["expected_rows"]) == \
        (expected["rows"], expected["expirations"], expected["contracts"], expected["rows"])
    assert summary["completeness"] == 1.0 and summary["rejected"] == 0 and summary["duplicates"] == 0
    written = read_rows(out)
    assert [key(r) for r in written] == sorted(key(r) for r in rows)
    by_key = {key(r): r for r in rows}
    assert all(got[name] == by_key[key(got)][name] for got in written for name in schema.FLOAT_COLUMNS)
