"""The simulated chain: which SPXW/SPX expirations and strikes exist on a date."""
import datetime as dt

import pytest

from spx_data import calendar
from spx_data.sim import chain

D = dt.date


def listed(root, day, preset="full"):
    return chain.listed_expirations(root, day, preset)


def third_friday(year, month):
    first = D(year, month, 1)
    return first + dt.timedelta(days=(4 - first.weekday()) % 7 + 14)


def test_spxw_lists_every_weekday_daily_since_2022_05_16_including_0dte():
    day = D(2024, 1, 2)
    expirations = listed("SPXW", day)
    assert expirations[0] == day                                   # 0DTE
    next_four_weeks = calendar.trading_days(day, day + dt.timedelta(days=28))
    assert set(next_four_weeks) <= set(expirations)
    assert {e.weekday() for e in next_four_weeks} == {0, 1, 2, 3, 4}


def test_spxw_dailies_before_2022_05_16_are_monday_wednesday_friday_only():
    tuesday = D(2021, 3, 2)
    expirations = listed("SPXW", tuesday)
    assert tuesday not in expirations                             # no Tuesday 0DTE then
    near = [e for e in expirations if e <= tuesday + dt.timedelta(days=28)]
    # a Tuesday/Thursday expiration then is a month-end (2021-03-31 is a Wednesday) or nothing
    assert {e.weekday() for e in near} <= {0, 2, 4}
    assert len(near) >= 10


def test_spxw_friday_on_a_holiday_moves_to_thursday():
    # Good Friday 2021-04-02: that week's SPXW expires Thursday 2021-04-01, before Tue/Thu dailies existed
    assert D(2021, 4, 1) in listed("SPXW", D(2021, 3, 22))
    assert D(2021, 4, 2) not in listed("SPXW", D(2021, 3, 22))


def test_spxw_has_weeklies_month_ends_quarterlies_and_monthlies_further_out():
    day = D(2024, 1, 2)
    expirations = listed("SPXW", day)
    assert 30 <= len(expirations) <= 80
    far = [e for e in expirations if e > day + dt.timedelta(days=45)]
    assert any(e.weekday() == 4 for e in far)                      # weekly Fridays
    assert D(2024, 4, 30) in far and D(2024, 5, 31) in far         # month-ends
    assert D(2024, 9, 30) in far                                   # a quarter-end months away
    assert third_friday(2024, 11) in far                           # a PM monthly


def test_spx_lists_third_friday_monthlies_and_december_leaps():
    day = D(2024, 1, 2)
    expirations = listed("SPX", day)
    monthlies = [third_friday(y, m) for y, m in [(2024, m) for m in range(1, 13)]]
    assert set(monthlies) <= set(expirations)
    assert all(e.weekday() == 4 for e in expirations)
    assert D(2025, 12, 19) in expirations and D(2026, 12, 18) in expirations   # LEAPS
    assert all(e.month == 12 for e in expirations if e > D(2025, 1, 31))


def test_spx_monthly_is_not_quoted_on_its_own_expiry_day():
    assert D(2024, 1, 19) in listed("SPX", D(2024, 1, 18))
    assert D(2024, 1, 19) not in listed("SPX", D(2024, 1, 19))
    assert D(2024, 1, 19) in listed("SPXW", D(2024, 1, 19))        # the PM one is 0DTE that day
    assert chain.last_quote_day("SPX", D(2024, 1, 19)) == D(2024, 1, 18)


def test_spx_monthly_on_good_friday_expires_thursday():
    # 2025-04-18 is the third Friday of April and Good Friday
    assert D(2025, 4, 17) in listed("SPX", D(2025, 4, 16))
    assert D(2025, 4, 18) not in listed("SPX", D(2025, 4, 16))
    assert D(2025, 4, 17) not in listed("SPX", D(2025, 4, 17))


def test_no_expirations_on_weekends_holidays_or_for_unknown_roots():
    assert listed("SPXW", D(2024, 1, 6)) == []
    assert listed("SPXW", D(2024, 12, 25)) == []
    assert listed("AAPL", D(2024, 1, 2)) == []


@pytest.mark.parametrize("preset,spxw,spx", [("tiny", 3, 2), ("small", 7, 3)])
def test_presets_keep_the_nearest_expirations(preset, spxw, spx):
    day = D(2024, 1, 2)
    assert listed("SPXW", day, preset) == listed("SPXW", day)[:spxw]
    assert listed("SPX", day, preset) == listed("SPX", day)[:spx]


def test_full_ladder_is_five_points_near_the_money_and_wider_further_out():
    spot = 4770.0
    ladder = chain.full_ladder(spot, 30)
    near = [k for k in ladder if abs(k - spot) <= 100]
    assert all(b - a == 5 for a, b in zip(near, near[1:]))
    far = [k for k in ladder if abs(k - spot) > 0.25 * spot]
    assert far and all(k % 25 == 0 for k in far)
    gaps = [b - a for a, b in zip(ladder, ladder[1:])]
    assert max(gaps) == 100
    assert spot - ladder[0] > ladder[-1] - spot                   # puts reach further down
    assert chain.full_ladder(spot, 365)[0] < chain.full_ladder(spot, 30)[0] < chain.full_ladder(spot, 0)[0]
    assert 50 <= len(chain.full_ladder(spot, 0)) <= 150


@pytest.mark.parametrize("preset,count", [("tiny", 4), ("small", 12)])
def test_preset_strikes_are_the_nearest_plus_one_deep_wing_each_side(preset, count):
    spot = 4771.2
    full = chain.full_ladder(spot, 3)
    strikes = chain.strikes(spot, 3, preset)
    assert len(strikes) == count
    assert strikes[0] == full[0] * 1000 and strikes[-1] == full[-1] * 1000
    assert 4770000 in strikes and all(isinstance(k, int) for k in strikes)
