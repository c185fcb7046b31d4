"""The one NDJSON reader/writer of the project.

Writing: ujson, forward slashes unescaped, non-ASCII kept, NaN/Infinity refused, keys in the
order the record was built (records are built in one fixed order, so output is stable).
Reading: one JSON object per line; blank lines skipped; anything else is a SchemaValidationError
that names the source and line number.
"""
import math
import sys

import ujson

from .errors import SchemaValidationError, UsageError


def dumps(record):
    try:
        return ujson.dumps(record, ensure_ascii=False, escape_forward_slashes=False, allow_nan=False)
    except OverflowError as exc:  # ujson's word for NaN/Infinity
        raise SchemaValidationError(f"cannot write NaN or Infinity as JSON: {exc}") from None


def write(stream, record):
    # One write per line: an interruption between two writes must not glue two records together.
    stream.write(dumps(record) + "\n")


def _finite(value):
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, dict):
        return all(_finite(v) for v in value.values())
    if isinstance(value, list):
        return all(_finite(v) for v in value)
    return True


def parse_line(line, lineno=1, source="-"):
    try:
        record = ujson.loads(line)
    except (ValueError, OverflowError) as exc:
        raise SchemaValidationError(f"{source}:{lineno}: not valid JSON ({exc})") from None
    if not isinstance(record, dict):
        raise SchemaValidationError(f"{source}:{lineno}: expected a JSON object, got {type(record).__name__}")
    if not _finite(record):
        raise SchemaValidationError(f"{source}:{lineno}: NaN or Infinity is not valid JSON")
    return record


def read(stream, source="-"):
    """Yield (line number, record) for every non-blank line of a text stream."""
    for lineno, line in enumerate(stream, 1):
        if line.strip():
            yield lineno, parse_line(line, lineno, source)


def open_input(path):
    """A text stream for PATH; "-" is stdin."""
    if path in (None, "-"):
        return sys.stdin
    try:
        return open(path, encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror}") from None
