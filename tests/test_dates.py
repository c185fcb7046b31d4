import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from spx_data import dates
from spx_data.errors import DateValidationError

D = dt.date.fromisoformat


def test_parse_date_iso():
    assert dates.parse_date("2024-02-29") == dt.date(2024, 2, 29)
    assert dates.parse_date(" 2024-01-02 ") == dt.date(2024, 1, 2)
    assert dates.parse_date(dt.date(2024, 1, 2)) == dt.date(2024, 1, 2)
    assert dates.parse_date(dt.datetime(2024, 1, 2, 15, 0)) == dt.date(2024, 1, 2)


@pytest.mark.parametrize("text,reason", [
    ("2024-02-30", "day is out of range for month"),
    ("2023-02-29", "day is out of range for month"),
    ("2024-13-01", "month must be in 1..12"),
    ("20240102", "expected YYYY-MM-DD"),
    ("2024-1-2", "expected YYYY-MM-DD"),
    ("2024-01-02T00:00", "expected YYYY-MM-DD"),
    ("yesterday", "expected YYYY-MM-DD"),
    ("", "expected YYYY-MM-DD"),
])
def test_parse_date_rejects(text, reason):
    with pytest.raises(DateValidationError) as exc:
        dates.parse_date(text, "--from")
    message = str(exc.value)
    assert message.startswith(f"invalid --from {text!r}")
    assert reason in message and "YYYY-MM-DD" in message
    assert exc.value.exit_code == 2


TODAY = D("2024-03-31")


@pytest.mark.parametrize("expr,expected", [
    ("today", "2024-03-31"),
    ("yesterday", "2024-03-30"),
    ("30 days ago", "2024-03-01"),
    ("1 day ago", "2024-03-30"),
    ("30d", "2024-03-01"),
    ("last 30 days", "2024-03-01"),
    ("2w", "2024-03-17"),
    ("2 weeks ago", "2024-03-17"),
    ("1m", "2024-02-29"),            # clamped to the end of February
    ("6 months ago", "2023-09-30"),
    ("13m", "2023-02-28"),
    ("1y", "2023-03-31"),
    ("2 Years Ago", "2022-03-31"),
    ("2024-01-02", "2024-01-02"),
])
def test_parse_since(expr, expected):
    assert dates.parse_since(expr, today=TODAY) == D(expected)


@pytest.mark.parametrize("expr", ["30", "30x", "a week ago", "-3d", "2024-02-30", "30 days from now"])
def test_parse_since_rejects(expr):
    with pytest.raises(DateValidationError) as exc:
        dates.parse_since(expr, today=TODAY)
    assert "--since" in str(exc.value)


def test_parse_since_counts_from_today_in_new_york():
    # 02:00 UTC on the 1st is still the evening of the 31st in New York.
    now = dt.datetime(2024, 4, 1, 2, 0, tzinfo=dt.timezone.utc)
    assert dates.today_et(now) == D("2024-03-31")
    assert dates.parse_since("today", today=dates.today_et(now)) == D("2024-03-31")
    assert dates.today_et() == dt.datetime.now(ZoneInfo("America/New_York")).date()
