"""Which expirations and strikes are listed on a date: the shape of the real SPX/SPXW chain.

SPXW (PM-settled, quoted on its expiry day, 0DTE included):
  dailies going out ~5 weeks (Mon/Wed/Fri only before 2022-05-16, every weekday since),
  weekly Fridays ~10 weeks, month-ends ~6 months, quarter-ends ~13 months, third-Friday
  monthlies ~12 months.
SPX (AM-settled monthlies, NOT quoted on their own expiry day): third Fridays ~12 months out,
  December LEAPS ~3 years out.
An expiration that falls on a market holiday moves to the previous trading day.

Strike ladders centre on the day's spot: 5-point near the money, then 25, 50 and 100 further
out, reaching wider for longer-dated expirations and further down (puts) than up.
Presets keep the shape but fewer of everything: `tiny` for unit tests, `small`, `full` (real).
"""
import bisect
import datetime as _dt
import math
from collections import namedtuple
from functools import lru_cache

DAILIES_EVERY_WEEKDAY = _dt.date(2022, 5, 16)
ROOTS = ("SPXW", "SPX")
_HORIZON_DAYS = {"daily": 35, "weekly": 70, "month_end": 190, "quarterly": 400, "monthly": 370, "leaps": 1100}
MAX_HORIZON_DAYS = max(_HORIZON_DAYS.values())
_ONE_DAY = _dt.timedelta(days=1)

# expirations: nearest N per root (None = all); near: N strikes closest to spot plus the two
# extreme strikes of the full ladder (a deep wing each side), None = the full ladder
Preset = namedtuple("Preset", "expirations near")
PRESETS = {
    "tiny": Preset({"SPXW": 3, "SPX": 2}, 2),
    "small": Preset({"SPXW": 7, "SPX": 3}, 10),
    "full": Preset({"SPXW": None, "SPX": None}, None),
}


@lru_cache(maxsize=None)
def is_trading_day(day):
    from .. import calendar
    return calendar.is_trading_day(day)


def _on_or_before_trading_day(day):
    while not is_trading_day(day):
        day -= _ONE_DAY
    return day


def _third_friday(year, month):
    first = _dt.date(year, month, 1)
    return first + _dt.timedelta(days=(4 - first.weekday()) % 7 + 14)


def _last_day_of_month(year, month):
    return _dt.date(year + month // 12, month % 12 + 1, 1) - _ONE_DAY


def _months(start, end):
    year, month = start.year, start.month
    while (year, month) <= (end.year, end.month):
        yield year, month
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)


def _candidates(root, start, end):
    """{expiration: horizon in days} of every ROOT expiration in [START, END]."""
    found = {}

    def add(expiration, kind):
        if start <= expiration <= end:
            found[expiration] = max(found.get(expiration, 0), _HORIZON_DAYS[kind])

    if root == "SPXW":
        day = start
        while day <= end:
            if is_trading_day(day) and (day >= DAILIES_EVERY_WEEKDAY or day.weekday() in (0, 2, 4)):
                add(day, "daily")
            if day.weekday() == 4:
                add(_on_or_before_trading_day(day), "weekly")
            day += _ONE_DAY
    for year, month in _months(start - _dt.timedelta(days=31), end + _dt.timedelta(days=31)):
        third_friday = _on_or_before_trading_day(_third_friday(year, month))
        if root == "SPXW":
            month_end = _on_or_before_trading_day(_last_day_of_month(year, month))
            add(month_end, "month_end")
            if month % 3 == 0:
                add(month_end, "quarterly")
            add(third_friday, "monthly")
        else:
            add(third_friday, "leaps" if month == 12 else "monthly")
    return found


@lru_cache(maxsize=8)
def _timeline(root, start, end):
    """Sorted (expirations, horizons) of ROOT between START and END + the longest horizon."""
    found = _candidates(root, start, end + _dt.timedelta(days=MAX_HORIZON_DAYS))
    expirations = sorted(found)
    return expirations, [found[e] for e in expirations]


def listed_expirations(root, day, preset):
    """Expirations of ROOT quoted on trading DAY, nearest first, as PRESET keeps them."""
    if root not in ROOTS or not is_trading_day(day):
        return []
    # one timeline per calendar year keeps repeated calls cheap
    expirations, horizons = _timeline(root, _dt.date(day.year, 1, 1), _dt.date(day.year, 12, 31))
    listed = []
    for i in range(bisect.bisect_left(expirations, day), len(expirations)):
        expiration = expirations[i]
        if (expiration - day).days > MAX_HORIZON_DAYS:
            break
        if (expiration - day).days <= horizons[i] and not (root == "SPX" and expiration == day):
            listed.append(expiration)
    keep = PRESETS[preset].expirations[root]
    return listed if keep is None else listed[:keep]


def last_quote_day(root, expiration):
    """The last trading day on which EXPIRATION of ROOT is quoted (SPX: the day before)."""
    if root == "SPX":
        return _on_or_before_trading_day(expiration - _ONE_DAY)
    return expiration


def full_ladder(spot, days_to_expiry):
    """Strikes in whole dollars for an expiration DAYS_TO_EXPIRY away, around SPOT."""
    reach = math.sqrt(max(days_to_expiry, 1) / 365)
    zones = ((5, 0.02 + 0.05 * min(reach, 0.5)), (25, 0.05 + 0.22 * reach),
             (50, 0.08 + 0.4 * reach), (100, 0.12 + 0.7 * reach))
    strikes = set()
    for step, width in zones:
        low = max(step, spot * (1 - min(0.9, 1.6 * width)))
        high = spot * (1 + width)
        first = math.ceil(low / step) * step
        strikes.update(range(first, int(high) + 1, step))
    return sorted(strikes)


def strikes(spot, days_to_expiry, preset):
    """Strikes in tenths of a cent listed for the expiration, as PRESET keeps them."""
    ladder = full_ladder(spot, days_to_expiry)
    near = PRESETS[preset].near
    if near is not None:
        closest = sorted(ladder, key=lambda k: (abs(k - spot), k))[:near]
        ladder = sorted({ladder[0], ladder[-1], *closest})
    return [k * 1000 for k in ladder]
