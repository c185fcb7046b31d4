"""Per-day data quality: expected rows from the trading calendar, completeness, zero and crossed
quotes, the ATM volatility signal and the documented quality score."""
import pytest

from spx_data.convert import convert
from spx_data.quality import intervals_in_session, quality_score
from test_convert import chain, tick, write_lines

FULL_DAY = "2024-01-02"
EARLY_CLOSE = "2024-11-29"   # the day after Thanksgiving closes at 13:00


@pytest.mark.parametrize("day,interval_ms,expected", [
    (FULL_DAY, 60_000, 390),
    (EARLY_CLOSE, 60_000, 210),
    (FULL_DAY, 300_000, 78),
    (FULL_DAY, 0, None),            # tick data: no fixed number of intervals
    ("2024-01-06", 60_000, None),   # a Saturday has no session
    ("2024-12-25", 60_000, None),   # Christmas
])
def test_intervals_in_session(day, interval_ms, expected):
    assert intervals_in_session(day, interval_ms) == expected


def run(tmp_path, rows, day=FULL_DAY, **options):
    return convert([write_lines(tmp_path / "in.ndjson", rows)], tmp_path / "day.parquet", day=day, **options)


def test_completeness_counts_contracts_times_intervals(tmp_path):
    rows = chain(strikes=(4700.0, 4705.0), minutes=390)          # 4 contracts, a full day each
    rows = [r for r in rows if not (r["strike"] == 4705.0 and r["right"] == "P" and r["ms_of_day"] % 120_000)]
    summary = run(tmp_path, rows)
    assert summary["contracts"] == 4 and summary["expected_rows"] == 4 * 390
    assert summary["completeness"] == pytest.approx(len(rows) / (4 * 390), abs=1e-6)
    assert summary["completeness"] < 1


def test_an_early_close_day_is_complete_with_210_intervals(tmp_path):
    summary = run(tmp_path, chain(day=EARLY_CLOSE, expiration="2024-11-29", minutes=210), day=EARLY_CLOSE)
    assert summary["expected_rows"] == 4 * 210 and summary["completeness"] == 1.0
    assert summary["quality_score"] == 100.0


def test_contracts_and_expirations_span_roots(tmp_path):
    rows = (chain(expiration="2024-01-05", strikes=(4700.0,), minutes=2)
            + chain(expiration="2024-01-19", strikes=(4700.0, 4710.0), minutes=2)
            + chain(root="SPX", expiration="2024-01-19", strikes=(4700.0,), minutes=2))
    summary = run(tmp_path, rows)
    assert summary["expirations"] == 3 and summary["contracts"] == 2 + 4 + 2


def test_zero_and_crossed_quotes_are_counted(tmp_path):
    rows = [tick(ms_of_day=34_200_000 + i * 60_000, **values) for i, values in enumerate([
        {"bid": 0.0, "ask": 0.0},      # zero quote
        {"bid": 0.0, "ask": 0.0},      # zero quote
        {"bid": 2.0, "ask": 1.5},      # crossed
        {"bid": 2.0, "ask": 0.0},      # bid > ask but no ask: not "crossed" (bid > ask > 0)
        {"bid": 1.5, "ask": 1.5},      # locked, not crossed
        {"bid": 1.0, "ask": 1.2},
    ])]
    summary = run(tmp_path, rows)
    assert summary["zero_quote_rows"] == 2 and summary["crossed_quotes"] == 1


def test_iv_atm_mean_uses_the_strike_nearest_to_spot_and_ignores_failed_ivs(tmp_path):
    rows = [
        tick(strike=4740.0, right="C", ms_of_day=34_200_000, implied_vol=0.10, underlying_price=4742.0),
        tick(strike=4740.0, right="P", ms_of_day=34_200_000, implied_vol=0.14, underlying_price=4742.0),
        tick(strike=4740.0, right="P", ms_of_day=34_260_000, implied_vol=0.0, underlying_price=4743.0),
        tick(strike=4750.0, right="C", ms_of_day=34_200_000, implied_vol=0.50, underlying_price=4742.0),
        tick(strike=4700.0, right="C", ms_of_day=34_200_000, implied_vol=0.90, underlying_price=4742.0),
    ]
    assert run(tmp_path, rows)["iv_atm_mean"] == pytest.approx(0.12)


def test_iv_atm_mean_is_null_without_any_usable_iv(tmp_path):
    assert run(tmp_path, [tick(implied_vol=0.0)])["iv_atm_mean"] is None


def test_rejects_and_duplicates_lower_the_score(tmp_path):
    rows = chain(minutes=390)
    assert run(tmp_path, rows)["quality_score"] == 100.0
    dirty = convert([write_lines(tmp_path / "dirty.ndjson", rows + rows[:10], extra=["junk"] * 10)],
                    tmp_path / "dirty.parquet", day=FULL_DAY)
    assert dirty["duplicates"] == 10 and dirty["rejected"] == 10
    assert 0 < dirty["quality_score"] < 100


def test_score_formula():
    assert quality_score(rows=0, rejected=5, duplicates=0, crossed_quotes=0, zero_quote_rows=0,
                         completeness=None) == 0.0
    assert quality_score(1000, 0, 0, 0, 0, 1.0) == 100.0
    assert quality_score(1000, 0, 0, 0, 0, 1.2) == 100.0           # over-complete is not a bonus
    assert quality_score(1000, 0, 0, 0, 0, 0.5) == 50.0
    assert quality_score(900, 100, 0, 0, 0, 1.0) == 90.0            # 10% of the input rejected
    assert quality_score(900, 0, 100, 0, 0, 1.0) == 95.0            # duplicates weigh half
    assert quality_score(1000, 0, 0, 100, 0, 1.0) == 90.0           # 10% crossed
    assert quality_score(1000, 0, 0, 0, 100, 1.0) == 99.0           # zero quotes weigh lightly
    assert quality_score(10, 10 ** 6, 0, 10, 10, 0.0) == 0.0
    assert 0 <= quality_score(5, 3, 2, 5, 5, 0.3) <= 100
