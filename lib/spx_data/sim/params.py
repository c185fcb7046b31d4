"""Query parameters of both API versions, validated the way the terminal does: 473 on bad input."""
import datetime as _dt
import re

from .replies import invalid

V3_INTERVALS_MS = {"10ms": 10, "100ms": 100, "500ms": 500, "1s": 1000, "5s": 5000, "10s": 10_000,
                   "15s": 15_000, "30s": 30_000, "1m": 60_000, "5m": 300_000, "10m": 600_000,
                   "15m": 900_000, "30m": 1_800_000, "1h": 3_600_000}
_CLOCK = re.compile(r"(\d{1,2}):(\d{2}):(\d{2})(?:\.(\d{1,3}))?")


def required(query, name, example):
    value = query.get(name, "").strip()
    if not value:
        raise invalid(f"missing required parameter {name} (e.g. {name}={example})")
    return value


def _date(text, name, pattern, example):
    try:
        return _dt.datetime.strptime(text, pattern).date()
    except ValueError:
        raise invalid(f"invalid {name} {text!r}: expected a real date like {example}") from None


def yyyymmdd(text, name):
    if not re.fullmatch(r"\d{8}", text):
        raise invalid(f"invalid {name} {text!r}: expected YYYYMMDD, e.g. 20240102")
    return _date(text, name, "%Y%m%d", "20240102")


def v3_date(text, name):
    """YYYYMMDD or YYYY-MM-DD."""
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        return _date(text, name, "%Y-%m-%d", "2024-01-02")
    return yyyymmdd(text, name)


def boolean(query, name, default):
    value = query.get(name, "").strip().lower()
    if not value:
        return default
    if value not in ("true", "false"):
        raise invalid(f"invalid {name} {value!r}: expected true or false")
    return value == "true"


def milliseconds(query, name, default):
    """A non-negative integer of milliseconds (v2 ivl, start_time, end_time)."""
    value = query.get(name, "").strip()
    if not value:
        return default
    if not value.isdigit():
        raise invalid(f"invalid {name} {value!r}: expected milliseconds as an integer, e.g. 60000")
    return int(value)


def v3_interval(query):
    value = query.get("interval", "1s").strip()
    if value == "tick":
        raise invalid("interval=tick is not simulated; use an interval such as 1m")
    if value not in V3_INTERVALS_MS:
        raise invalid(f"invalid interval {value!r}: expected one of {', '.join(V3_INTERVALS_MS)}")
    return V3_INTERVALS_MS[value]


def clock(query, name, default):
    """HH:MM:SS(.SSS) ET as milliseconds after midnight."""
    value = query.get(name, "").strip() or default
    match = _CLOCK.fullmatch(value)
    if not match or int(match[1]) > 23 or int(match[2]) > 59 or int(match[3]) > 59:
        raise invalid(f"invalid {name} {value!r}: expected HH:MM:SS or HH:MM:SS.SSS, e.g. 09:30:00")
    millis = int((match[4] or "0").ljust(3, "0"))
    return ((int(match[1]) * 60 + int(match[2])) * 60 + int(match[3])) * 1000 + millis


def roots(query, name, known):
    """A comma-separated root list; all KNOWN roots when absent or '*'."""
    value = query.get(name, "").strip()
    if value in ("", "*"):
        return list(known)
    return [r.strip().upper() for r in value.split(",") if r.strip()]
