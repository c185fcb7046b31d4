"""The NYSE calendar against NYSE's published sessions, closures and early closes, 2000-2030."""
import datetime as dt
import subprocess
import sys
from zoneinfo import ZoneInfo

import pytest

from spx_data import calendar
from spx_data.errors import DateValidationError

ET = ZoneInfo("America/New_York")
D = dt.date.fromisoformat

# Every 13:00 early close NYSE announced for 2000-2030 (its holiday & hours pages and the
# historical closings list). Irregular ones: 2002-07-05 (Friday after a Thursday July 4, a rule
# that ended in 2012), 2003-12-26 (one-off), 2013-07-03 (first Wednesday July 3 half day).
EARLY_CLOSES = """
2000-07-03 2000-11-24 2001-07-03 2001-11-23 2001-12-24 2002-07-05 2002-11-29 2002-12-24
2003-07-03 2003-11-28 2003-12-24 2003-12-26 2004-11-26 2005-11-25 2006-07-03 2006-11-24
2007-07-03 2007-11-23 2007-12-24 2008-07-03 2008-11-28 2008-12-24 2009-11-27 2009-12-24
2010-11-26 2011-11-25 2012-07-03 2012-11-23 2012-12-24 2013-07-03 2013-11-29 2013-12-24
2014-07-03 2014-11-28 2014-12-24 2015-11-27 2015-12-24 2016-11-25 2017-07-03 2017-11-24
2018-07-03 2018-11-23 2018-12-24 2019-07-03 2019-11-29 2019-12-24 2020-11-27 2020-12-24
2021-11-26 2022-11-25 2023-07-03 2023-11-24 2024-07-03 2024-11-29 2024-12-24 2025-07-03
2025-11-28 2025-12-24 2026-11-27 2026-12-24 2027-11-26 2028-07-03 2028-11-24 2029-07-03
2029-11-23 2029-12-24 2030-07-03 2030-11-29 2030-12-24
""".split()

SPECIAL_CLOSURES = {
    "2001-09-11": "World Trade Center", "2001-09-12": "World Trade Center",
    "2001-09-13": "World Trade Center", "2001-09-14": "World Trade Center",
    "2004-06-11": "Reagan", "2007-01-02": "Ford", "2012-10-29": "Sandy", "2012-10-30": "Sandy",
    "2018-12-05": "Bush", "2025-01-09": "Carter",
}

# Regular holidays with their observance quirks: Saturday holidays move to Friday except New
# Year's Day; Sunday ones to Monday; Juneteenth only from 2022.
REGULAR_CLOSURES = """
2000-01-17 2004-12-24 2006-01-02 2009-07-03 2010-12-24 2015-07-03 2020-04-10 2021-07-05
2021-12-24 2022-06-20 2022-12-26 2023-01-02 2023-06-19 2024-01-01 2024-03-29 2024-11-28
2027-06-18 2027-12-24 2030-06-19
""".split()

# Weekdays that look like holidays but traded a full day.
FULL_SESSIONS = """
2001-09-17 2002-07-03 2004-07-02 2004-12-31 2009-07-02 2010-12-31 2013-07-05 2015-07-02
2019-07-05 2020-07-02 2021-06-18 2021-12-31 2022-12-23 2024-12-26 2026-07-02
2027-12-31 2003-08-15 2001-06-19 2014-12-26
""".split()

# Trading days per calendar year as published (2001: four days of 9/11; 2025: Carter).
SESSIONS_PER_YEAR = {2000: 252, 2001: 248, 2008: 253, 2012: 250, 2018: 251, 2020: 253,
                     2021: 252, 2022: 251, 2023: 250, 2024: 252, 2025: 250}


def test_every_early_close_2000_2030_and_no_other():
    found = [d.isoformat() for d in calendar.trading_days("2000-01-01", "2030-12-31")
             if calendar.is_early_close(d)]
    assert found == EARLY_CLOSES


@pytest.mark.parametrize("day,fragment", sorted(SPECIAL_CLOSURES.items()))
def test_special_closures(day, fragment):
    assert not calendar.is_trading_day(day)
    assert calendar.session(day) is None
    assert fragment in calendar.holiday_name(day)


@pytest.mark.parametrize("day", REGULAR_CLOSURES)
def test_regular_closures(day):
    assert not calendar.is_trading_day(D(day))
    assert calendar.holiday_name(day)


@pytest.mark.parametrize("day", FULL_SESSIONS)
def test_full_sessions(day):
    opens, closes = calendar.session(day)
    assert (opens.time(), closes.time()) == (dt.time(9, 30), dt.time(16, 0))
    assert not calendar.is_early_close(day)


@pytest.mark.parametrize("year,count", sorted(SESSIONS_PER_YEAR.items()))
def test_sessions_per_year(year, count):
    assert len(calendar.trading_days(f"{year}-01-01", f"{year}-12-31")) == count


def test_early_close_session_is_aware_and_closes_at_one():
    opens, closes = calendar.session("2024-11-29")
    assert opens == dt.datetime(2024, 11, 29, 9, 30, tzinfo=ET)
    assert closes == dt.datetime(2024, 11, 29, 13, 0, tzinfo=ET)
    assert closes.utcoffset() == dt.timedelta(hours=-5)


def test_summer_session_is_in_daylight_time():
    opens, _ = calendar.session(D("2024-07-03"))
    assert opens.astimezone(dt.timezone.utc).hour == 13  # 09:30 EDT


def test_late_open_on_first_anniversary_of_september_11():
    opens, closes = calendar.session("2002-09-11")
    assert opens.time() == dt.time(12, 0) and closes.time() == dt.time(16, 0)


def test_weekends_do_not_trade_and_are_not_holidays():
    assert calendar.session("2024-01-06") is None
    assert calendar.holiday_name("2024-01-06") is None
    assert not calendar.is_early_close("2024-12-21")


def test_trading_days_inclusive_and_ordered():
    days = calendar.trading_days("2024-12-20", "2025-01-03")
    assert [d.isoformat() for d in days] == [
        "2024-12-20", "2024-12-23", "2024-12-24", "2024-12-26", "2024-12-27", "2024-12-30",
        "2024-12-31", "2025-01-02", "2025-01-03"]
    assert calendar.trading_days("2025-01-03", "2025-01-02") == []


@pytest.mark.parametrize("now,expected", [
    (dt.datetime(2024, 1, 2, 16, 14, tzinfo=ET), "2023-12-29"),   # settle margin not over yet
    (dt.datetime(2024, 1, 2, 16, 15, tzinfo=ET), "2024-01-02"),
    (dt.datetime(2024, 1, 6, 12, 0, tzinfo=ET), "2024-01-05"),    # Saturday
    (dt.datetime(2024, 1, 16, 9, 0, tzinfo=ET), "2024-01-12"),    # Tuesday morning after MLK day
    (dt.datetime(2024, 11, 29, 13, 15, tzinfo=ET), "2024-11-29"),  # early close settles at 13:15
    (dt.datetime(2024, 11, 29, 13, 14, tzinfo=ET), "2024-11-27"),
    (dt.datetime(2024, 1, 2, 21, 14, tzinfo=dt.timezone.utc), "2023-12-29"),  # any timezone
])
def test_last_completed_session(now, expected):
    assert calendar.last_completed_session(now).isoformat() == expected


def test_last_completed_session_defaults_to_now():
    last = calendar.last_completed_session()
    assert calendar.is_trading_day(last)
    assert calendar.session(last)[1] + calendar.SETTLE_MARGIN <= dt.datetime.now(ET)


NOW = dt.datetime(2024, 7, 3, 12, 0, tzinfo=ET)


@pytest.mark.parametrize("day,message", [
    ("2024-01-06", "2024-01-06 is a Saturday, not a trading day"),
    ("2024-01-07", "is a Sunday"),
    ("2024-03-29", "NYSE holiday (Good Friday)"),
    ("2025-01-09", "Jimmy Carter"),
    ("2024-07-05", "2024-07-05 is in the future; the last completed session is 2024-07-02"),
    ("2024-07-03", "the 2024-07-03 session has not finished yet; data is complete after 13:15 ET"),
    ("2023-12-29", "before processing.startDate 2024-01-02"),
    ("2024-02-30", "expected YYYY-MM-DD"),
])
def test_check_processable_refuses_with_a_reason(day, message):
    with pytest.raises(DateValidationError) as exc:
        calendar.check_processable(day, start_date="2024-01-02", now=NOW)
    assert message in str(exc.value)
    assert exc.value.exit_code == 2


def test_check_processable_accepts_a_finished_session():
    assert calendar.check_processable("2024-07-02", start_date=D("2024-01-02"), now=NOW) == D("2024-07-02")
    assert calendar.check_processable("2024-07-03", now=NOW.replace(hour=13, minute=15)) == D("2024-07-03")


def test_calendar_import_is_cheap():
    # gaps/status must start fast: importing the calendar must not import `holidays` yet.
    code = "import sys; import spx_data.calendar; print('holidays' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={"PYTHONPATH": str(calendar.__file__).rsplit("/spx_data/", 1)[0]})
    assert out.stdout.strip() == "False", out.stderr
