"""The market model: a pure function of (seed, date, contract, time) for every number served.

- the SPX level at 09:30 drifts with the date through historical anchors, plus seeded smooth
  wiggles and a daily shock; intraday it follows a per-second random walk anchored at the open;
- implied volatility = a date-level vol * term factor * put-skewed smile, jittered per row;
- bid/ask bracket the Black-Scholes value on the real tick grid (0.05 under $3, else 0.10);
- greeks are Black-Scholes with ThetaData's units: theta per day, vega and rho per 1.00
  (the vendor says divide by 100), epsilon the dividend sensitivity, lambda the leverage;
- a contract worth less than half the minimum tick is a deep wing: zero quotes, zero greeks.
Values are rounded once, here (prices to cents, greeks to 4 decimals), so that every encoding's
shortest round-trip text parses back to exactly these floats.

Vectorised with pyarrow.compute (a declared dependency) rather than numpy (which is not).
"""
import datetime as _dt
import math
from functools import lru_cache

import pyarrow as pa
import pyarrow.compute as pc

from . import noise

DAY_MS = 86_400_000
YEAR_MS = 365 * DAY_MS
MIN_EXPIRY_MS = 3_600_000      # time to expiry never below an hour (ThetaData's "latest" 0DTE rule)
_SQRT2 = math.sqrt(2.0)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)

# (date, SPX level at the open): the broad historical shape; seeded noise adds the texture.
_LEVEL_ANCHORS = [
    (_dt.date(2000, 1, 3), 1450), (_dt.date(2002, 10, 9), 780), (_dt.date(2007, 10, 9), 1560),
    (_dt.date(2009, 3, 9), 680), (_dt.date(2013, 1, 2), 1460), (_dt.date(2016, 1, 4), 2010),
    (_dt.date(2018, 1, 2), 2700), (_dt.date(2020, 1, 2), 3250), (_dt.date(2020, 3, 23), 2240),
    (_dt.date(2021, 12, 31), 4760), (_dt.date(2022, 10, 12), 3580), (_dt.date(2024, 1, 2), 4740),
    (_dt.date(2025, 1, 2), 5870), (_dt.date(2026, 1, 2), 6450), (_dt.date(2030, 1, 2), 8000),
]
# (date, annual risk-free rate), linearly interpolated
_RATE_ANCHORS = [
    (_dt.date(2000, 1, 3), 0.055), (_dt.date(2008, 12, 16), 0.002), (_dt.date(2015, 12, 16), 0.004),
    (_dt.date(2019, 6, 1), 0.024), (_dt.date(2020, 3, 16), 0.001), (_dt.date(2022, 3, 16), 0.003),
    (_dt.date(2023, 7, 27), 0.053), (_dt.date(2024, 9, 18), 0.053), (_dt.date(2025, 1, 2), 0.043),
    (_dt.date(2030, 1, 2), 0.04),
]


def _interpolate(anchors, day, log=False):
    if day <= anchors[0][0]:
        return anchors[0][1]
    for (d0, v0), (d1, v1) in zip(anchors, anchors[1:]):
        if day <= d1:
            w = (day - d0).days / (d1 - d0).days
            if log:
                return math.exp(math.log(v0) + w * (math.log(v1) - math.log(v0)))
            return v0 + w * (v1 - v0)
    return anchors[-1][1]


def _smooth(seed, day, name, periods):
    """A smooth seeded wiggle in about [-1, 1]: sum of sines with seeded phases."""
    t = day.toordinal()
    total = sum(math.sin(2 * math.pi * (t / p + noise.uniform(seed, name, p))) for p in periods)
    return total / len(periods)


@lru_cache(maxsize=4096)
def spot_level(seed, day):
    """The SPX level at 09:30 ET on DAY."""
    base = _interpolate(_LEVEL_ANCHORS, day, log=True)
    wiggle = 0.04 * _smooth(seed, day, "level", (61, 173, 467)) + 0.006 * (noise.uniform(seed, day, "level") - 0.5)
    return round(base * math.exp(wiggle), 2)


@lru_cache(maxsize=4096)
def vol_level(seed, day):
    """The at-the-money 30-day implied volatility of DAY."""
    return min(0.6, max(0.09, 0.15 * math.exp(0.3 * _smooth(seed, day, "vol", (29, 97, 331)))))


def rate(day):
    return round(_interpolate(_RATE_ANCHORS, day), 5)


@lru_cache(maxsize=16)
def underlying_seconds(seed, day):
    """SPX at every second of DAY (86,400 values, cents), anchored at spot_level at 09:30:00."""
    per_second = vol_level(seed, day) / math.sqrt(252 * 23_400)
    keys = pc.bit_wise_xor(pa.array(range(DAY_MS // 1000), pa.uint64()),
                           pa.scalar(noise.key(seed, day, "underlying"), pa.uint64()))
    walk = pc.cumulative_sum(pc.multiply(noise.normal_array(keys, "walk"), per_second))
    walk = pc.subtract(walk, walk[9 * 3600 + 30 * 60])
    return _r(pc.multiply(pc.exp(walk), spot_level(seed, day)), 2)


def underlying_at(seed, day, times_ms):
    """(ms_of_day2, underlying_price) for each time: the last index print a few ms earlier."""
    keys = pc.bit_wise_xor(pc.cast(times_ms, pa.uint64()), pa.scalar(noise.key(seed, day, "print"), pa.uint64()))
    jitter = pc.add(pc.floor(pc.multiply(noise.uniform_array(keys, "jitter"), 12.0)), 1.0)
    ms2 = pc.max_element_wise(pc.subtract(times_ms, pc.cast(jitter, pa.int64())), 0)
    second = pc.divide(ms2, 1000)                      # integer division
    return ms2, pc.take(underlying_seconds(seed, day), second)


def _ncdf(x):
    """Standard normal CDF (Abramowitz-Stegun 7.1.26 erf, |error| < 1.5e-7)."""
    z = pc.divide(pc.abs(x), _SQRT2)
    t = pc.divide(1.0, pc.add(pc.multiply(z, 0.3275911), 1.0))
    poly = pc.multiply(t, pc.add(0.254829592, pc.multiply(t, pc.add(-0.284496736, pc.multiply(
        t, pc.add(1.421413741, pc.multiply(t, pc.add(-1.453152027, pc.multiply(t, 1.061405429)))))))))
    erf = pc.subtract(1.0, pc.multiply(poly, pc.exp(pc.negate(pc.multiply(z, z)))))
    half = pc.multiply(erf, 0.5)
    return pc.if_else(pc.greater_equal(x, 0.0), pc.add(0.5, half), pc.subtract(0.5, half))


def _r(values, digits):
    """VALUES rounded to DIGITS decimals: the nearest double to a DIGITS-decimal number (an
    integer divided by 10**DIGITS, correctly rounded), never -0.0 (no encoding prints "-0")."""
    scale = 10.0 ** digits
    return pc.add(pc.divide(pc.round(pc.multiply(values, scale)), scale), 0.0)


def _layout(contracts, times):
    """Per-row (contract index, time index, tile) for contract-major rows over TIMES."""
    n_times = len(times)
    contract = pa.concat_arrays([pa.repeat(pa.scalar(i, pa.int32()), n_times) for i in range(len(contracts))])

    def tile(per_time):
        return pa.concat_arrays([per_time] * len(contracts))
    return contract, tile(pa.array(range(n_times), pa.int32())), tile


def _implied_vol(base, spot, strike, years, sqrt_t, r, u1, u2):
    """Date-level vol * term structure * put-skewed smile in standardised moneyness, jittered
    per row by triangular noise of unit variance ((u1 + u2 - 1) * sqrt 6); 4 decimals."""
    forward = pc.multiply(spot, pc.exp(pc.multiply(years, r)))
    x = pc.divide(pc.ln(pc.divide(strike, forward)), pc.multiply(sqrt_t, base))
    x = pc.min_element_wise(pc.max_element_wise(x, -8.0), 8.0)      # the smile flattens in the far wings
    smile = pc.add(pc.subtract(1.0, pc.multiply(x, 0.1)), pc.multiply(pc.multiply(x, x), 0.025))
    term = pc.add(0.9, pc.multiply(pc.min_element_wise(sqrt_t, 1.5), 0.15))
    jitter = pc.add(1.0, pc.multiply(pc.subtract(pc.add(u1, u2), 1.0), 0.01 * math.sqrt(6)))
    iv = _r(pc.max_element_wise(pc.multiply(pc.multiply(pc.multiply(smile, term), jitter), base), 0.01), 4)
    return iv, x


def _black_scholes(spot, strike, years, sqrt_t, r, iv, call):
    """Value and first-order greeks (ThetaData units) of European calls/puts, no dividends."""
    vol_t = pc.multiply(iv, sqrt_t)
    drift = pc.multiply(pc.add(r, pc.multiply(pc.multiply(iv, iv), 0.5)), years)
    d1 = pc.divide(pc.add(pc.ln(pc.divide(spot, strike)), drift), vol_t)
    d2 = pc.subtract(d1, vol_t)
    n_d1, n_d2 = _ncdf(d1), _ncdf(d2)
    # N(d) for calls, N(d) - 1 = -N(-d) for puts
    signed_d1 = pc.if_else(call, n_d1, pc.subtract(n_d1, 1.0))
    signed_d2 = pc.if_else(call, n_d2, pc.subtract(n_d2, 1.0))
    pdf = pc.multiply(pc.exp(pc.multiply(pc.multiply(d1, d1), -0.5)), _INV_SQRT_2PI)
    k_disc = pc.multiply(strike, pc.exp(pc.multiply(years, -r)))
    value = pc.subtract(pc.multiply(spot, signed_d1), pc.multiply(k_disc, signed_d2))
    decay = pc.divide(pc.multiply(pc.multiply(spot, pdf), iv), pc.multiply(sqrt_t, 2.0))
    return {
        "value": pc.max_element_wise(value, 0.0),
        "delta": signed_d1,
        "theta": pc.divide(pc.negate(pc.add(decay, pc.multiply(pc.multiply(k_disc, r), signed_d2))), 365.0),
        "vega": pc.multiply(pc.multiply(spot, pdf), sqrt_t),
        "rho": pc.multiply(pc.multiply(k_disc, years), signed_d2),
        "epsilon": pc.negate(pc.multiply(pc.multiply(spot, years), signed_d1)),
    }


def _tick_quotes(value, u_spread):
    """(bid, ask) bracketing VALUE on the tick grid (0.05 under $3, else 0.10), in cents first
    so that the dollars are exact two-decimal numbers; the spread widens with the price."""
    half_spread = pc.add(0.025, pc.multiply(pc.multiply(value, 0.004), pc.add(1.0, u_spread)))
    tick = pc.if_else(pc.less(value, 3.0), 5.0, 10.0)
    bid = pc.multiply(pc.floor(pc.divide(pc.multiply(pc.subtract(value, half_spread), 100.0), tick)), tick)
    bid = pc.max_element_wise(bid, 0.0)
    ask = pc.multiply(pc.ceil(pc.divide(pc.multiply(pc.add(value, half_spread), 100.0), tick)), tick)
    ask = pc.max_element_wise(ask, pc.add(bid, tick))
    return pc.divide(bid, 100.0), pc.divide(ask, 100.0)


def quotes(seed, day, root, expiration, expiry_ms, strikes_tc, times_ms):
    """The rows of one (DAY, ROOT, EXPIRATION): contract-major (strike ascending, C then P),
    time ascending within a contract. EXPIRY_MS is the expiry instant in ms after DAY's midnight.

    Returns (table, contracts): an Arrow table with columns contract (index into CONTRACTS,
    the [(strike tenth-cent, right)] list), time (index into TIMES_MS), ms_of_day, bid, ask,
    delta, theta, vega, rho, epsilon, lambda, implied_vol, iv_error, ms_of_day2,
    underlying_price."""
    contracts = [(tc, right) for tc in strikes_tc for right in "CP"]
    times = pa.array(times_ms, pa.int64())
    ms2_per_time, spot_per_time = underlying_at(seed, day, times)
    contract, time, tile = _layout(contracts, times)

    def per_contract(values, typ):
        return pc.take(pa.array(values, typ), contract)
    t, ms2, spot = tile(times), tile(ms2_per_time), tile(spot_per_time)
    strike = per_contract([tc / 1000 for tc, _ in contracts], pa.float64())
    call = per_contract([right == "C" for _, right in contracts], pa.bool_())
    keys = per_contract([noise.key(seed, day, root, expiration, tc, right) for tc, right in contracts], pa.uint64())
    u_iv1, u_iv2, u_spread, u_iv_error = noise.row_uniforms(keys, t, 4)

    r = rate(day)
    years = pc.divide(pc.cast(pc.max_element_wise(pc.subtract(expiry_ms, t), MIN_EXPIRY_MS), pa.float64()), YEAR_MS)
    sqrt_t = pc.sqrt(years)
    iv, moneyness = _implied_vol(vol_level(seed, day), spot, strike, years, sqrt_t, r, u_iv1, u_iv2)
    greeks = _black_scholes(spot, strike, years, sqrt_t, r, iv, call)
    bid, ask = _tick_quotes(greeks["value"], u_spread)
    mid = pc.divide(pc.add(bid, ask), 2.0)
    greeks["lambda"] = pc.divide(pc.multiply(greeks["delta"], spot), pc.max_element_wise(mid, 0.01))
    # the solver's misfit grows away from the money
    iv_error = pc.multiply(pc.multiply(pc.multiply(moneyness, moneyness), 0.0004), u_iv_error)

    # a deep wing (worth under half a tick): nothing quoted, nothing computed
    wing = pc.less(greeks["value"], 0.025)

    def quoted(values):
        return pc.if_else(wing, pa.scalar(0.0), values)
    columns = {"contract": contract, "time": time, "ms_of_day": t, "bid": quoted(bid), "ask": quoted(ask)}
    for name in ("delta", "theta", "vega", "rho", "epsilon", "lambda"):
        columns[name] = quoted(_r(greeks[name], 4))
    columns.update(implied_vol=quoted(iv), iv_error=quoted(_r(iv_error, 4)), ms_of_day2=ms2, underlying_price=spot)
    return pa.table(columns), contracts
