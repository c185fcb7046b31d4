"""Strict date parsing for command lines and records.

parse_date accepts exactly ISO `YYYY-MM-DD` (no `20240102`, no times) and rejects impossible
days such as 2024-02-30. parse_since turns a relative expression into the first day of a range:
"30 days ago", "2 weeks ago", "last 6 months", "30d", "2w", "6m" (months), "1y", "today",
"yesterday" or an ISO date — relative to today in America/New_York, the market's day.
"""
import datetime as _dt
import re
from zoneinfo import ZoneInfo

from .errors import DateValidationError

ET = ZoneInfo("America/New_York")
ISO_HINT = "expected YYYY-MM-DD, e.g. 2024-01-02"
SINCE_HINT = 'expected e.g. "30 days ago", "30d", "2w", "6m", "1y", "today", "yesterday" or YYYY-MM-DD'

_ISO = re.compile(r"\d{4}-\d{2}-\d{2}")
_RELATIVE = re.compile(
    r"(?:last\s+)?(?P<n>\d+)\s*(?P<unit>d|days?|w|weeks?|m|months?|y|years?)(?:\s+ago)?")


def parse_date(text, what="date"):
    """The datetime.date of an ISO YYYY-MM-DD string; DateValidationError otherwise.

    WHAT names the value in the message (e.g. "--from")."""
    if isinstance(text, _dt.datetime):
        return text.date()
    if isinstance(text, _dt.date):
        return text
    raw = str(text).strip()
    if not _ISO.fullmatch(raw):
        raise DateValidationError(f"invalid {what} {text!r}: {ISO_HINT}")
    try:
        return _dt.date.fromisoformat(raw)
    except ValueError as exc:
        raise DateValidationError(f"invalid {what} {text!r}: {exc}; {ISO_HINT}") from None


def today_et(now=None):
    """Today's date in New York (NOW: an aware datetime, default the current time)."""
    now = now or _dt.datetime.now(ET)
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    return now.astimezone(ET).date()


def parse_since(expr, today=None, what="--since"):
    """The date EXPR points back to, counted from TODAY (default: today in New York)."""
    today = today or today_et()
    raw = " ".join(str(expr).lower().split())
    if raw == "today":
        return today
    if raw == "yesterday":
        return today - _dt.timedelta(days=1)
    if _ISO.fullmatch(raw):
        return parse_date(raw, what)
    match = _RELATIVE.fullmatch(raw)
    if not match:
        raise DateValidationError(f"invalid {what} {expr!r}: {SINCE_HINT}")
    n, unit = int(match["n"]), match["unit"][0]
    if unit == "d":
        return today - _dt.timedelta(days=n)
    if unit == "w":
        return today - _dt.timedelta(weeks=n)
    months = n if unit == "m" else 12 * n
    return _months_before(today, months)


def _months_before(day, months):
    # Calendar months; the day of month is clamped (2024-03-31 minus 1 month = 2024-02-29).
    index = day.year * 12 + (day.month - 1) - months
    year, month = divmod(index, 12)
    if year < _dt.MINYEAR:
        raise DateValidationError(f"{months} months before {day} is before year {_dt.MINYEAR}")
    month += 1
    next_month = _dt.date(year + month // 12, month % 12 + 1, 1)
    last_day = (next_month - _dt.timedelta(days=1)).day
    return _dt.date(year, month, min(day.day, last_day))
