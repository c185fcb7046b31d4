"""The rows the simulator serves for a date, as DESIGN §2 tick rows, for exact comparisons.

These are the same floats the server encodes (it prints them in shortest round-trip form), so
a client that parses any encoding must reproduce them value for value.
"""
import datetime as _dt

from .dataset import DEFAULT_DATA_START, Dataset, grid

FIELDS = ("date", "root", "expiration", "strike", "right", "ms_of_day", "bid", "ask", "delta", "theta",
          "vega", "rho", "epsilon", "lambda", "implied_vol", "iv_error", "ms_of_day2", "underlying_price")
_VALUES = FIELDS[5:]


def _day(value):
    return value if isinstance(value, _dt.date) else _dt.date.fromisoformat(str(value))


def expirations(date, seed=7, preset="full", roots=("SPXW", "SPX"), data_start=DEFAULT_DATA_START):
    """[(root, expiration)] the terminal lists for DATE."""
    dataset = Dataset(seed, preset, _day(data_start))
    day = _day(date)
    return [(root, expiration) for root in roots for expiration in dataset.expirations(root, day)]


def ticks(date, seed=7, preset="full", interval_ms=60000, roots=("SPXW", "SPX"),
          data_start=DEFAULT_DATA_START, no_data=()):
    """Yield the tick rows of DATE: roots in ROOTS order, then expiration, strike, right (C
    before P), time. NO_DATA: (root, expiration) pairs the terminal was told to refuse."""
    day = _day(date)
    dataset = Dataset(seed, preset, _day(data_start))
    refused = {(root, _day(expiration)) for root, expiration in no_data}
    for root in roots:
        for expiration in dataset.expirations(root, day):
            if (root, expiration) in refused:
                continue
            block = dataset.block(day, root, expiration, interval_ms)
            head = {"date": day.isoformat(), "root": root, "expiration": expiration.isoformat()}
            columns = block.table.to_pydict()
            for i, contract in enumerate(columns["contract"]):
                strike, right = block.contracts[contract]
                row = dict(head, strike=strike / 1000, right=right)
                row.update((name, columns[name][i]) for name in _VALUES)
                yield row


def count(date, seed=7, preset="full", interval_ms=60000, roots=("SPXW", "SPX"), data_start=DEFAULT_DATA_START):
    """{"date", "expirations", "contracts", "rows"} of DATE, without generating any rows."""
    day = _day(date)
    dataset = Dataset(seed, preset, _day(data_start))
    expirations_, contracts = 0, 0
    for root in roots:
        for expiration in dataset.expirations(root, day):
            expirations_ += 1
            contracts += 2 * len(dataset.strikes(root, expiration, day))
    rows = contracts * len(grid(day, interval_ms)) if expirations_ else 0
    return {"date": day.isoformat(), "expirations": expirations_, "contracts": contracts, "rows": rows}
