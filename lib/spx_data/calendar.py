"""The one NYSE trading calendar of the project: which days trade, and when they open and close.

Full closures come from `holidays.financial_holidays("NYSE")`, which also carries the special
closures 2001-09-11..14, 2004-06-11, 2007-01-02, 2012-10-29..30, 2018-12-05 and 2025-01-09
(pinned by tests/test_calendar.py, so a package upgrade that drops one fails loudly).

Early closes (13:00 ET) are not in `holidays`; these are NYSE's rules, checked against its
published calendars for 2000-2030:
  - the day after Thanksgiving;
  - Christmas Eve when it falls Monday-Thursday (a Friday Dec 24 is the observed Christmas);
  - July 3 when it is a Monday, Tuesday or Thursday (the day before Independence Day);
  - July 3 when it is a Wednesday, from 2013 on; before 2013 NYSE closed early on the Friday
    July 5 after a Thursday Independence Day instead (2002-07-05; in 2013 it moved to 07-03);
  - one-off: 2003-12-26, the Friday after Christmas.
  No early close on a July 2 before a Friday July 3 holiday (2009, 2015, 2020, 2026), nor on the
  Friday before a Monday holiday.
Late opens: 2002-09-11 (the first anniversary of the attacks) opened at 12:00. Moments of
silence that delayed the first trade by a minute or two did not change the session and are ignored.
"""
import datetime as _dt
from zoneinfo import ZoneInfo

from .dates import parse_date, today_et
from .errors import DateValidationError

ET = ZoneInfo("America/New_York")
REGULAR_OPEN = _dt.time(9, 30)
REGULAR_CLOSE = _dt.time(16, 0)
EARLY_CLOSE = _dt.time(13, 0)
# Data for a session is complete at the terminal a little after the bell, not at the bell.
SETTLE_MARGIN = _dt.timedelta(minutes=15)

_EARLY_CLOSE_ONE_OFFS = {
    _dt.date(2003, 12, 26): "day after Christmas",
}
_LATE_OPENS = {
    _dt.date(2002, 9, 11): _dt.time(12, 0),
}
_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")

_nyse_holidays = None


def _closures():
    # Imported lazily: `holidays` costs ~40 ms, and expands one year at a time on lookup.
    global _nyse_holidays
    if _nyse_holidays is None:
        import holidays
        _nyse_holidays = holidays.financial_holidays("NYSE")
    return _nyse_holidays


def _day(d):
    # Accept date objects and ISO strings alike.
    return parse_date(d)


def holiday_name(d):
    """The name of the NYSE closure on weekday D, or None (weekends are not holidays)."""
    d = _day(d)
    if d.weekday() >= 5:
        return None
    return _closures().get(d)


def is_trading_day(d):
    d = _day(d)
    return d.weekday() < 5 and d not in _closures()


def _thanksgiving(year):
    november_first = _dt.date(year, 11, 1)
    first_thursday = november_first + _dt.timedelta(days=(3 - november_first.weekday()) % 7)
    return first_thursday + _dt.timedelta(weeks=3)


def _early_close_reason(d):
    if d in _EARLY_CLOSE_ONE_OFFS:
        return _EARLY_CLOSE_ONE_OFFS[d]
    weekday = d.weekday()
    if d == _thanksgiving(d.year) + _dt.timedelta(days=1):
        return "day after Thanksgiving"
    if (d.month, d.day) == (12, 24) and weekday <= 3:
        return "Christmas Eve"
    if (d.month, d.day) == (7, 3) and (weekday in (0, 1, 3) or (weekday == 2 and d.year >= 2013)):
        return "day before Independence Day"
    if (d.month, d.day) == (7, 5) and weekday == 4 and d.year < 2013:
        return "day after Independence Day"
    return None


def is_early_close(d):
    """True when D is a trading day that closes at 13:00 ET."""
    d = _day(d)
    return is_trading_day(d) and _early_close_reason(d) is not None


def session(d):
    """(open, close) of D as aware America/New_York datetimes, or None when D does not trade."""
    d = _day(d)
    if not is_trading_day(d):
        return None
    opens = _LATE_OPENS.get(d, REGULAR_OPEN)
    closes = EARLY_CLOSE if _early_close_reason(d) else REGULAR_CLOSE
    return _dt.datetime.combine(d, opens, ET), _dt.datetime.combine(d, closes, ET)


def trading_days(start, end):
    """Every trading day from START to END inclusive, oldest first."""
    day, end = _day(start), _day(end)
    days = []
    while day <= end:
        if is_trading_day(day):
            days.append(day)
        day += _dt.timedelta(days=1)
    return days


def session_settled(d, now=None):
    """True when D's session is over and its data had SETTLE_MARGIN to arrive."""
    hours = session(d)
    now = now or _dt.datetime.now(ET)
    return hours is not None and now >= hours[1] + SETTLE_MARGIN


def last_completed_session(now=None):
    """The latest trading day whose close + SETTLE_MARGIN is not after NOW (default: now)."""
    now = now or _dt.datetime.now(ET)
    day = today_et(now)
    while not session_settled(day, now):
        day -= _dt.timedelta(days=1)
    return day


def check_processable(d, start_date=None, now=None):
    """D as a date when it is a finished trading session on or after START_DATE.

    DateValidationError otherwise, with a message that says why (weekend, holiday, future,
    session not finished yet, before the configured start date)."""
    d = _day(d)
    iso = d.isoformat()
    if start_date is not None and d < _day(start_date):
        raise DateValidationError(
            f"{iso} is before processing.startDate {_day(start_date).isoformat()}; "
            "pass a later date or change processing.startDate")
    if d.weekday() >= 5:
        raise DateValidationError(f"{iso} is a {_WEEKDAYS[d.weekday()]}, not a trading day")
    name = holiday_name(d)
    if name:
        raise DateValidationError(f"{iso} is an NYSE holiday ({name}), not a trading day")
    now = now or _dt.datetime.now(ET)
    if d > today_et(now):
        raise DateValidationError(
            f"{iso} is in the future; the last completed session is {last_completed_session(now).isoformat()}")
    if not session_settled(d, now):
        close = session(d)[1] + SETTLE_MARGIN
        raise DateValidationError(
            f"the {iso} session has not finished yet; data is complete after {close:%H:%M} ET")
    return d
