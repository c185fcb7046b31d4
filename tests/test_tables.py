import csv
import io
import json
import subprocess

import pytest

from spx_data import tables
from spx_data.errors import SchemaValidationError, UsageError

RECORDS = [
    {"date": "2024-01-02", "category": "failed", "retry_count": 3, "priority": 12.5, "note": None},
    {"date": "2024-01-03", "category": "never_attempted", "retry_count": 0, "priority": 7.25,
     "note": "it's \"odd\" $HOME"},
]


def rendered(records, fmt, **kw):
    out = io.StringIO()
    tables.render(records, fmt, stream=out, **kw)
    return out.getvalue()


def test_table_aligns_columns_and_right_aligns_numbers():
    lines = rendered(RECORDS, "table", columns=["date", "category", "retry_count", "priority"]).splitlines()
    assert lines[0].split() == ["DATE", "CATEGORY", "RETRY_COUNT", "PRIORITY"]
    assert lines[1].split() == ["2024-01-02", "failed", "3", "12.5"]
    # every cell of a column starts (text) or ends (numbers) at the same offset
    assert len({line.index("2024") for line in lines[1:]}) == 1
    assert lines[1].index("failed") == lines[2].index("never_attempted") == lines[0].index("CATEGORY")
    assert lines[1].endswith("12.5") and lines[2].endswith("7.25") and lines[0].endswith("PRIORITY")
    assert len({len(line) for line in lines}) == 1


def test_table_shows_none_as_dash_and_empty_as_nothing():
    assert rendered(RECORDS, "table", columns=["note"]).splitlines()[1] == "-"
    assert rendered([], "table", columns=["date"]) == ""


def test_json_and_ndjson_round_trip():
    assert json.loads(rendered(RECORDS, "json")) == RECORDS
    assert [json.loads(line) for line in rendered(RECORDS, "ndjson").splitlines()] == RECORDS
    assert json.loads(rendered([], "json")) == []
    assert rendered([], "ndjson") == ""


def test_columns_select_and_order_fields():
    assert json.loads(rendered(RECORDS, "json", columns=["priority", "date"]))[0] == {
        "priority": 12.5, "date": "2024-01-02"}
    first_line = rendered(RECORDS, "ndjson", columns=["priority", "date"]).splitlines()[0]
    assert list(json.loads(first_line)) == ["priority", "date"]


def test_default_columns_are_the_union_in_first_seen_order():
    text = rendered([{"a": 1}, {"b": 2, "a": 3}], "csv")
    assert text.splitlines() == ["a,b", "1,", "3,2"]


def test_csv_quotes_and_has_header_even_when_empty():
    rows = list(csv.DictReader(io.StringIO(rendered(RECORDS, "csv"))))
    assert rows[1]["note"] == RECORDS[1]["note"]
    assert rows[0]["note"] == ""
    assert rendered([], "csv", columns=["date", "category"]) == "date,category\n"


def test_nested_values_are_compact_json_in_text_formats():
    text = rendered([{"roots": ["SPXW", "SPX"], "ok": True}], "csv")
    assert text.splitlines()[1] == '"[""SPXW"",""SPX""]",true'


def test_env_output_is_eval_safe(tmp_path):
    text = rendered(RECORDS[1:], "env", columns=["date", "retry_count", "note"])
    assert text.splitlines()[0] == "DATE=2024-01-03"
    script = text + 'printf "%s|%s|%s" "$DATE" "$RETRY_COUNT" "$NOTE"'
    out = subprocess.run(["bash", "-c", script], capture_output=True, text=True, check=True)
    assert out.stdout == f"2024-01-03|0|{RECORDS[1]['note']}"


def test_env_key_names_and_record_separation():
    text = rendered([{"thetadata.baseUrl": "x"}, {"thetadata.baseUrl": "y"}], "env")
    assert text == "THETADATA_BASEURL=x\n\nTHETADATA_BASEURL=y\n"


def test_unknown_format_is_a_usage_error():
    with pytest.raises(UsageError) as exc:
        rendered(RECORDS, "xml")
    assert str(exc.value) == "unknown format 'xml'; expected one of table, json, ndjson, csv, env"
    assert exc.value.exit_code == 2
    assert tables.check_format("text", ("text", "csv")) == "text"
    with pytest.raises(UsageError, match="expected one of text, csv"):
        tables.check_format("env", ("text", "csv"))


def test_nan_is_refused_in_json():
    with pytest.raises(SchemaValidationError):
        rendered([{"x": float("nan")}], "json")
