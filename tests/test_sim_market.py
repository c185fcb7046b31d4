"""The simulated market data: deterministic, realistic, and exactly representable as text."""
import datetime as dt

import pyarrow.compute as pc
import pytest

from spx_data.sim import dataset, market, oracle

D = dt.date
DAY = D(2024, 1, 2)


@pytest.fixture(scope="module")
def tiny():
    return dataset.Dataset(seed=7, preset="tiny")


def rows_of(block):
    """Rows as dicts, without the grid position (which depends on the interval asked for)."""
    columns = block.table.drop_columns(["time"]).to_pydict()
    return [{name: columns[name][i] for name in columns} for i in range(block.table.num_rows)]


def test_same_seed_same_rows_other_seed_other_rows():
    first = list(oracle.ticks(DAY, seed=7, preset="tiny"))
    assert first == list(oracle.ticks(DAY, seed=7, preset="tiny"))
    assert first != list(oracle.ticks(DAY, seed=8, preset="tiny"))


def test_a_contract_has_the_same_rows_whatever_the_preset():
    small = dataset.Dataset(7, "small").block(DAY, "SPXW", DAY, 60000)
    tiny = dataset.Dataset(7, "tiny").block(DAY, "SPXW", DAY, 60000)
    shared = set(tiny.contracts) & set(small.contracts)
    assert len(shared) == len(tiny.contracts)

    def by_contract(block):
        return {block.contracts[r.pop("contract")] + (r["ms_of_day"],): r for r in rows_of(block)}
    small_rows, tiny_rows = by_contract(small), by_contract(tiny)
    assert all(small_rows[key] == row for key, row in tiny_rows.items())


def test_coarser_intervals_sample_the_one_minute_rows(tiny):
    minute = {(r["contract"], r["ms_of_day"]): r for r in rows_of(tiny.block(DAY, "SPX", D(2024, 1, 19), 60000))}
    five = rows_of(tiny.block(DAY, "SPX", D(2024, 1, 19), 300000))
    assert len(five) == len(minute) // 5
    assert all(minute[(r["contract"], r["ms_of_day"])] == r for r in five)


@pytest.mark.parametrize("day,per_contract,first,last", [
    (D(2024, 1, 2), 390, 34_200_000, 57_540_000),      # 09:30:00 .. 15:59:00
    (D(2024, 11, 29), 210, 34_200_000, 46_740_000),    # early close: 09:30 .. 12:59
])
def test_one_row_per_minute_of_the_session(tiny, day, per_contract, first, last):
    expiration = tiny.expirations("SPXW", day)[0]
    block = tiny.block(day, "SPXW", expiration, 60000)
    assert block.table.num_rows == per_contract * len(block.contracts)
    times = block.table.column("ms_of_day").to_pylist()[:per_contract]
    assert (times[0], times[-1]) == (first, last)
    assert all(b - a == 60000 for a, b in zip(times, times[1:]))


def test_full_day_outside_regular_hours_when_asked(tiny):
    block = tiny.block(DAY, "SPXW", DAY, 60000, rth=False)
    assert block.table.num_rows == 1440 * len(block.contracts)


def test_quotes_and_greeks_are_plausible(tiny):
    for root, expiration in oracle.expirations(DAY, preset="tiny"):
        table = tiny.block(DAY, root, expiration, 60000).table
        rows = rows_of(tiny.block(DAY, root, expiration, 60000))
        assert pc.all(pc.less_equal(table["bid"], table["ask"])).as_py()
        assert pc.min(table["bid"]).as_py() >= 0
        lag = pc.subtract(table["ms_of_day"], table["ms_of_day2"])
        assert 1 <= pc.min(lag).as_py() and pc.max(lag).as_py() <= 20
        block = tiny.block(DAY, root, expiration, 60000)
        for row in rows:
            right = block.contracts[row["contract"]][1]
            if row["ask"] == 0:                     # a deep wing: nothing quoted, nothing computed
                assert all(row[k] == 0 for k in ("bid", "delta", "theta", "vega", "rho", "implied_vol"))
                continue
            assert 0 <= row["delta"] <= 1 if right == "C" else -1 <= row["delta"] <= 0
            assert row["vega"] >= 0 and (row["theta"] <= 0 or right == "P")   # deep ITM puts may gain
            assert 0.03 < row["implied_vol"] < 3
            assert 0 <= row["iv_error"] < 0.05


def test_deep_wings_have_zero_quotes_and_near_the_money_is_quoted(tiny):
    block = tiny.block(DAY, "SPXW", DAY, 60000)
    highest_call = block.contracts.index((max(k for k, _ in block.contracts), "C"))
    rows = [r for r in rows_of(block) if r["contract"] == highest_call]
    assert all(r["bid"] == r["ask"] == r["delta"] == r["implied_vol"] == 0 for r in rows)
    spot = market.spot_level(7, DAY)
    atm = min({k for k, _ in block.contracts}, key=lambda k: abs(k / 1000 - spot))
    atm_rows = [r for r in rows_of(block) if block.contracts[r["contract"]] == (atm, "C")]
    opening = atm_rows[0]                      # later the 0DTE call may well end worthless
    assert opening["ask"] > opening["bid"] > 0 and 0.3 < opening["delta"] < 0.7 and opening["iv_error"] < 0.001


def test_all_contracts_of_a_minute_share_the_underlying(tiny):
    rows = rows_of(tiny.block(DAY, "SPXW", DAY, 60000))
    seen = {}
    for row in rows:
        assert seen.setdefault(row["ms_of_day"], (row["underlying_price"], row["ms_of_day2"])) == \
            (row["underlying_price"], row["ms_of_day2"])
    prices = [price for price, _ in seen.values()]
    assert len(set(prices)) > 300                               # it moves during the day
    assert max(prices) / min(prices) < 1.05


def test_prices_sit_on_the_tick_grid_and_values_have_few_decimals(tiny):
    for row in oracle.ticks(DAY, seed=7, preset="tiny"):
        for name in ("bid", "ask"):
            cents = round(row[name] * 100)
            assert cents % 5 == 0 and repr(row[name]) == repr(cents / 100)
        for name in ("delta", "theta", "vega", "rho", "epsilon", "lambda", "implied_vol", "iv_error"):
            assert len(repr(row[name]).split(".")[1]) <= 4 and repr(row[name]) != "-0.0"


@pytest.mark.parametrize("day,level", [
    (D(2000, 6, 1), 1400), (D(2020, 1, 15), 3200), (D(2024, 1, 2), 4700), (D(2025, 6, 2), 6000),
])
def test_spot_level_drifts_with_the_date(day, level):
    assert abs(market.spot_level(7, day) / level - 1) < 0.15


def test_spot_level_is_smooth_from_day_to_day():
    days = [D(2023, 1, 3) + dt.timedelta(days=i) for i in range(120)]
    levels = [market.spot_level(7, d) for d in days]
    assert max(abs(b / a - 1) for a, b in zip(levels, levels[1:])) < 0.02
    assert len(set(levels)) > 100


def test_dates_outside_the_data_are_not_served():
    data = dataset.Dataset(7, "tiny", data_start=D(2020, 1, 2))
    assert data.expirations("SPXW", D(2019, 12, 31)) == []
    assert data.expirations("SPXW", D(2020, 1, 2))
    future = data.last_day() + dt.timedelta(days=7)
    assert data.expirations("SPXW", future) == []


def test_count_matches_the_oracle():
    counted = oracle.count(DAY, preset="tiny")
    rows = list(oracle.ticks(DAY, preset="tiny"))
    assert counted["rows"] == len(rows)
    assert counted["contracts"] == len({(r["root"], r["expiration"], r["strike"], r["right"]) for r in rows})
    assert counted["expirations"] == len({(r["root"], r["expiration"]) for r in rows}) == 5


def test_full_preset_is_a_realistic_day_of_millions_of_rows():
    counted = oracle.count(DAY, preset="full")
    assert counted["expirations"] >= 40
    assert counted["rows"] >= 2_000_000
