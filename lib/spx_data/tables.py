"""Records (dicts) rendered as table | json | ndjson | csv | env — the one output renderer of the commands.

    render(records, "table", columns=["date", "category"])

table:  aligned columns under an upper-case header, numbers right-aligned, None as "-";
        no rows prints nothing (the command says "no ..." on stderr).
json:   one pretty JSON array.   ndjson: one object per line (spx_data.ndjson).
csv:    a header row, then one row per record; None as an empty cell.
env:    KEY=value lines, shell-quoted, for `eval "$(spx-... --format env)"`; keys upper-cased
        with non-alphanumerics as "_"; a blank line between records.
Nested lists/dicts are written as compact JSON in table, csv and env.
"""
import re
import sys

from . import ndjson
from .errors import SchemaValidationError, UsageError

FORMATS = ("table", "json", "ndjson", "csv", "env")


def check_format(fmt, allowed=FORMATS):
    """FMT when it is one of ALLOWED; UsageError (exit 2) naming the valid ones otherwise."""
    if fmt not in allowed:
        raise UsageError(f"unknown format {fmt!r}; expected one of {', '.join(allowed)}")
    return fmt


def render(records, fmt, columns=None, stream=None):
    """Write RECORDS to STREAM (default stdout) in FMT; COLUMNS picks and orders the fields
    (default: every key, in first-seen order)."""
    check_format(fmt)
    stream = stream or sys.stdout
    records = list(records)
    columns = list(columns) if columns else _columns(records)
    rows = [{c: record.get(c) for c in columns} for record in records]
    _RENDERERS[fmt](rows, columns, stream)


def _columns(records):
    seen = {}
    for record in records:
        seen.update(dict.fromkeys(record))
    return list(seen)


def _text(value, none=""):
    if value is None:
        return none
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, dict)):
        return ndjson.dumps(value)
    return str(value)


def _table(rows, columns, stream):
    if not rows:
        return
    cells = [[_text(row[c], "-") for c in columns] for row in rows]
    header = [c.upper() for c in columns]
    widths = [max(len(v) for v in column) for column in zip(header, *cells)]
    numeric = [all(isinstance(row[c], (int, float)) and not isinstance(row[c], bool)
                   for row in rows if row[c] is not None) for c in columns]
    for line in [header, *cells]:
        parts = [v.rjust(w) if num else v.ljust(w) for v, w, num in zip(line, widths, numeric)]
        stream.write("  ".join(parts).rstrip() + "\n")


def _json(rows, _columns, stream):
    import ujson
    try:
        text = ujson.dumps(rows, indent=2, ensure_ascii=False, escape_forward_slashes=False, allow_nan=False)
    except OverflowError as exc:  # ujson's word for NaN/Infinity, refused as in spx_data.ndjson
        raise SchemaValidationError(f"cannot write NaN or Infinity as JSON: {exc}") from None
    stream.write(text + "\n")


def _ndjson(rows, _columns, stream):
    for row in rows:
        ndjson.write(stream, row)


def _csv(rows, columns, stream):
    import csv
    writer = csv.writer(stream, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_text(row[c]) for c in columns])


def _env(rows, columns, stream):
    import shlex
    names = [re.sub(r"[^A-Za-z0-9]+", "_", c).strip("_").upper() for c in columns]
    for index, row in enumerate(rows):
        if index:
            stream.write("\n")
        for name, column in zip(names, columns):
            stream.write(f"{name}={shlex.quote(_text(row[column]))}\n")


_RENDERERS = {"table": _table, "json": _json, "ndjson": _ndjson, "csv": _csv, "env": _env}
