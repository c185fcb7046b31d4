"""The simulated terminal's data: what is listed on a date and the rows of one expiration.

A Dataset is (seed, preset, first data date) plus a byte-bounded cache of generated blocks.
A date is served when it is a trading day between the first data date and the last completed
session; any other date has no data (the terminal answers 472).
"""
import datetime as _dt

import pyarrow as pa

from . import chain, market
from .cache import ByteLRU

DEFAULT_DATA_START = _dt.date(2017, 1, 3)
OPEN_AM_SETTLEMENT_MS = (9 * 60 + 30) * 60_000


class Block:
    """The rows of one (day, root, expiration) at one interval, and text derived from them.

    table: market.quotes columns; contracts: [(strike tenth-cent, "C"|"P")] indexed by
    table.contract; key: (day, root, expiration, interval_ms, rth), what the block is a pure
    function of (with the seed). Values that depend only on the time (timestamps, the
    underlying) are formatted once per grid time and gathered per row by table.time."""

    def __init__(self, day, root, expiration, table, contracts, key):
        self.day, self.root, self.expiration, self.key = day, root, expiration, key
        self.table, self.contracts = table, contracts
        self._texts = {}

    def per_time(self, name, render):
        """RENDER(rows of the first contract, one per grid time) -> a string array, cached."""
        if name not in self._texts:
            self._texts[name] = render(self.table.slice(0, self.table.num_rows // len(self.contracts)))
        return self._texts[name]

    def per_contract(self, name, render):
        """[RENDER(strike, right) for each contract] as a string array, cached."""
        if name not in self._texts:
            self._texts[name] = pa.array([render(strike, right) for strike, right in self.contracts], pa.string())
        return self._texts[name]


def session_ms(day):
    """(open, close) of trading DAY in ms after midnight ET."""
    from .. import calendar
    opens, closes = calendar.session(day)
    to_ms = lambda moment: (moment.hour * 3600 + moment.minute * 60 + moment.second) * 1000  # noqa: E731
    return to_ms(opens), to_ms(closes)


def grid(day, interval_ms, rth=True):
    """Interval timestamps of DAY: the session [open, close) when RTH, else [00:00, 24:00)."""
    start, end = session_ms(day) if rth else (0, market.DAY_MS)
    return list(range(start, end, interval_ms))


def expiry_ms(root, day, expiration):
    """The expiry instant of EXPIRATION in ms after DAY's midnight: SPX at the 09:30 open
    (AM settlement), SPXW at the close of its expiry day."""
    days = (expiration - day).days * market.DAY_MS
    if root == "SPX":
        return days + OPEN_AM_SETTLEMENT_MS
    return days + session_ms(expiration)[1]


class Dataset:
    def __init__(self, seed=7, preset="full", data_start=DEFAULT_DATA_START, cache_bytes=256 << 20):
        if preset not in chain.PRESETS:
            raise ValueError(f"unknown preset {preset!r}")
        self.seed = seed
        self.preset = preset
        self.data_start = data_start
        self._blocks = ByteLRU(cache_bytes)
        self._all_expirations = {}

    def last_day(self):
        from .. import calendar
        return calendar.last_completed_session()

    def served(self, day):
        return chain.is_trading_day(day) and self.data_start <= day <= self.last_day()

    def served_days(self, first=None, last=None):
        from .. import calendar
        first = max(first or self.data_start, self.data_start)
        last = min(last or self.last_day(), self.last_day())
        return calendar.trading_days(first, last) if first <= last else []

    def expirations(self, root, day):
        """Expirations of ROOT quoted on DAY (empty when DAY is not served)."""
        return chain.listed_expirations(root, day, self.preset) if self.served(day) else []

    def strikes(self, root, expiration, day):
        """Strikes (tenths of a cent) of ROOT EXPIRATION as listed on DAY."""
        return chain.strikes(market.spot_level(self.seed, day), (expiration - day).days, self.preset)

    def contracts(self, root, day):
        """[(expiration, strike tenth-cent, right)] quoted on DAY."""
        return [(expiration, strike, right)
                for expiration in self.expirations(root, day)
                for strike in self.strikes(root, expiration, day)
                for right in "CP"]

    def all_expirations(self, root):
        """Every expiration of ROOT quoted on some served day, oldest first."""
        if root not in self._all_expirations:
            found = set()
            for day in self.served_days():
                found.update(chain.listed_expirations(root, day, self.preset))
            self._all_expirations[root] = sorted(found)
        return self._all_expirations[root]

    def quote_dates(self, root, expiration=None):
        """Served days on which ROOT (EXPIRATION, when given) was quoted."""
        if root not in chain.ROOTS:
            return []
        if expiration is None:
            return [d for d in self.served_days() if chain.listed_expirations(root, d, self.preset)]
        first = expiration - _dt.timedelta(days=chain.MAX_HORIZON_DAYS)
        days = self.served_days(first, chain.last_quote_day(root, expiration))
        return [d for d in days if expiration in chain.listed_expirations(root, d, self.preset)]

    def block(self, day, root, expiration, interval_ms, rth=True):
        """The rows of ROOT EXPIRATION on DAY at INTERVAL_MS (cached)."""
        key = (day, root, expiration, interval_ms, rth)

        def generate():
            strikes = self.strikes(root, expiration, day)
            table, contracts = market.quotes(self.seed, day, root, expiration, expiry_ms(root, day, expiration),
                                             strikes, grid(day, interval_ms, rth))
            return Block(day, root, expiration, table, contracts, key)
        return self._blocks.get(key, generate, lambda b: b.table.nbytes)
