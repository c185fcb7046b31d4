"""spx-gaps / spx-data gaps: range resolution, output formats and bad input, as a user runs them."""
import datetime as dt
import json
import subprocess
from zoneinfo import ZoneInfo

import pytest

from spx_data.commands.gaps import resolve_range
from spx_data.errors import DateValidationError, UsageError

ET = ZoneInfo("America/New_York")
D = dt.date.fromisoformat
NOW = dt.datetime(2024, 7, 3, 12, 0, tzinfo=ET)  # before the 13:00 early close of 2024-07-03


def args(**options):
    base = {"--from": None, "--since": None, "--last": None, "--to": None}
    base.update({f"--{k}": v for k, v in options.items()})
    return base


@pytest.mark.parametrize("options,start_date,expected", [
    ({}, "2024-01-02", ("2024-01-02", "2024-07-02")),
    ({"from": "2024-03-01", "to": "2024-03-31"}, None, ("2024-03-01", "2024-03-31")),
    ({"since": "30 days ago"}, None, ("2024-06-03", "2024-07-02")),
    ({"last": "2w"}, "2024-01-02", ("2024-06-19", "2024-07-02")),
    ({"to": "2024-07-03"}, "2024-01-02", ("2024-01-02", "2024-07-02")),  # unfinished session left out
])
def test_resolve_range(options, start_date, expected):
    start, end = resolve_range(args(**options), D(start_date) if start_date else None, now=NOW)
    assert (start.isoformat(), end.isoformat()) == expected


@pytest.mark.parametrize("options,start_date,error,message", [
    ({}, None, UsageError, "set processing.startDate (spx-data config set processing.startDate 2024-01-02) "
                           "or pass --from"),
    ({"from": "2024-03-31", "to": "2024-03-01"}, None, DateValidationError,
     "the range starts 2024-03-31, after its end 2024-03-01"),
    ({"from": "2023-12-29"}, "2024-01-02", DateValidationError,
     "the range starts 2023-12-29, before processing.startDate 2024-01-02"),
    ({"since": "1y"}, "2024-01-02", DateValidationError, "before processing.startDate"),
    ({"to": "2024-07-05"}, "2024-01-02", DateValidationError,
     "--to 2024-07-05 is in the future; the last completed session is 2024-07-02"),
    ({"from": "2024-02-30"}, None, DateValidationError, "invalid --from '2024-02-30': day is out of range"),
    ({"last": "30"}, "2024-01-02", DateValidationError, "invalid --last '30'"),
    ({"last": "30 days ago"}, "2024-01-02", DateValidationError, "invalid --last"),
])
def test_resolve_range_refuses(options, start_date, error, message):
    with pytest.raises(error) as exc:
        resolve_range(args(**options), D(start_date) if start_date else None, now=NOW)
    assert message in str(exc.value)
    assert exc.value.exit_code == 2


def run(*argv):
    return subprocess.run(list(argv), capture_output=True, text=True)


def test_text_output_is_bare_dates_ready_for_xargs():
    result = run("spx-gaps", "--from", "2024-01-04", "--to", "2024-01-09")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "2024-01-04\n2024-01-05\n2024-01-08\n2024-01-09\n"


def test_spx_data_gaps_is_a_table_by_default_and_says_no_gaps():
    table = run("spx-data", "gaps", "--from", "2024-01-04", "--to", "2024-01-05")
    assert table.returncode == 0, table.stderr
    assert table.stdout.splitlines()[0].split() == ["DATE", "CATEGORY", "RETRY_COUNT", "ERROR_TYPE",
                                                    "PRIORITY", "DETAIL"]
    assert [line.split()[:2] for line in table.stdout.splitlines()[1:]] == [
        ["2024-01-04", "never_attempted"], ["2024-01-05", "never_attempted"]]
    empty = run("spx-data", "gaps", "--from", "2024-01-06", "--to", "2024-01-07")
    assert (empty.returncode, empty.stdout) == (0, "")
    assert empty.stderr.strip() == "spx-data gaps: no gaps from 2024-01-06 to 2024-01-07"


@pytest.mark.parametrize("fmt", ["json", "ndjson", "csv"])
def test_machine_formats_carry_the_columns(fmt):
    result = run("spx-gaps", "--from", "2024-01-04", "--to", "2024-01-05", "--format", fmt, "--by-priority")
    assert result.returncode == 0, result.stderr
    if fmt == "json":
        rows = json.loads(result.stdout)
    elif fmt == "ndjson":
        rows = [json.loads(line) for line in result.stdout.splitlines()]
    else:
        import csv
        import io
        rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [r["date"] for r in rows] == ["2024-01-05", "2024-01-04"]  # by priority: the more recent first
    assert list(rows[0]) == ["date", "category", "retry_count", "error_type", "priority", "detail"]


def test_start_date_from_the_configuration(monkeypatch):
    monkeypatch.setenv("SPX_DATA_PROCESSING_STARTDATE", "2024-01-10")
    result = run("spx-gaps", "--to", "2024-01-12")
    assert result.stdout.split() == ["2024-01-10", "2024-01-11", "2024-01-12"]
    early = run("spx-gaps", "--from", "2024-01-09", "--to", "2024-01-12")
    assert early.returncode == 2 and early.stdout == ""
    assert "before processing.startDate 2024-01-10" in early.stderr


@pytest.mark.parametrize("argv,message", [
    (["--from", "2024-02-30"], "spx-gaps: invalid --from '2024-02-30': day is out of range for month; "
                               "expected YYYY-MM-DD, e.g. 2024-01-02"),
    (["--from", "2024-03-02", "--to", "2024-03-01"], "spx-gaps: the range starts 2024-03-02, after its end"),
    (["--from", "2024-01-02", "--format", "xml"], "spx-gaps: unknown format 'xml'; expected one of text, table, "
                                                  "ndjson, json, csv"),
    (["--from", "2024-01-02", "--category", "lost"], "spx-gaps: unknown category lost; expected one or more of"),
    ([], "spx-gaps: set processing.startDate"),
    (["--from", "2024-01-02", "--since", "2d"], "spx-gaps: invalid usage (see --help)\nUsage:"),
])
def test_bad_input_is_one_line_and_exit_2(argv, message):
    result = run("spx-gaps", *argv)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.startswith(message)
    assert "Traceback" not in result.stderr
