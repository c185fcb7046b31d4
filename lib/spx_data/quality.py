"""Per-day data quality (PRD US-3.1): completeness, zero and crossed quotes, ATM volatility, a score.

DayQuality is fed one sorted, de-duplicated (root, expiration) group at a time, so it never
needs the whole day in memory; summary() adds the counts only the converter knows (rejects,
duplicates) and the expectation from the trading calendar.

Definitions
  contracts        distinct (root, expiration, strike, right) with at least one row
  intervals        session length / interval (390 one-minute intervals on a full day, 210 on an
                   early close); None for tick data (interval 0) or a day the calendar does not trade
  expected_rows    contracts x intervals
  completeness     rows / expected_rows (can exceed 1 when the terminal also sends the closing
                   minute); None when expected_rows is unknown or 0
  zero_quote_rows  bid == 0 and ask == 0 (normal in the deep wings)
  crossed_quotes   bid > ask > 0
  iv_atm_mean      mean implied_vol (> 0) over the rows of each expiration's strike nearest to
                   that expiration's mean underlying price; a volatility signal for gap priority

quality_score, in [0, 100]: 100 x product of
  min(completeness, 1)                  missing intervals are lost data (1 when unknown)
  1 - rejected / input_rows             rejected rows are lost data
  1 - 0.5 x duplicates / input_rows     duplicates cost nothing after de-duplication, but show a
                                        fetch that repeated itself
  1 - crossed_quotes / rows             a crossed quote is wrong data
  1 - 0.1 x zero_quote_rows / rows      zero quotes are mostly far wings with no market: weigh lightly
where input_rows = rows + rejected + duplicates. A day with no rows scores 0.
"""
import datetime as _dt

from .dates import parse_date

ZERO_QUOTE_WEIGHT = 0.1
DUPLICATE_WEIGHT = 0.5


def intervals_in_session(day, interval_ms):
    """Number of INTERVAL_MS intervals in DAY's regular session, or None (no session, tick data)."""
    if not interval_ms or interval_ms <= 0:
        return None
    from .calendar import session  # lazily: the calendar loads the holiday tables
    hours = session(parse_date(day))
    if hours is None:
        return None
    opens, closes = hours
    return int((closes - opens) / _dt.timedelta(milliseconds=interval_ms))


def quality_score(rows, rejected, duplicates, crossed_quotes, zero_quote_rows, completeness):
    if rows <= 0:
        return 0.0
    input_rows = rows + rejected + duplicates
    factors = (
        1.0 if completeness is None else min(completeness, 1.0),
        1.0 - rejected / input_rows,
        1.0 - DUPLICATE_WEIGHT * duplicates / input_rows,
        1.0 - crossed_quotes / rows,
        1.0 - ZERO_QUOTE_WEIGHT * zero_quote_rows / rows,
    )
    score = 100.0
    for factor in factors:
        score *= factor
    return round(min(max(score, 0.0), 100.0), 2)


class DayQuality:
    def __init__(self):
        self.rows = 0
        self.expirations = 0
        self.contracts = 0
        self.zero_quote_rows = 0
        self.crossed_quotes = 0
        self._iv_atm_sum = 0.0
        self._iv_atm_count = 0

    def add(self, group):
        """Count one (root, expiration) group: an Arrow table with the tick columns, no duplicate keys."""
        import pyarrow.compute as pc
        if group.num_rows == 0:
            return
        self.rows += group.num_rows
        self.expirations += 1
        self.contracts += group.group_by(["strike", "right"]).aggregate([]).num_rows
        bid, ask = group.column("bid"), group.column("ask")
        self.zero_quote_rows += _count(pc.and_(pc.equal(bid, 0.0), pc.equal(ask, 0.0)))
        self.crossed_quotes += _count(pc.and_(pc.greater(bid, ask), pc.greater(ask, 0.0)))
        self._add_atm_iv(group)

    def _add_atm_iv(self, group):
        import pyarrow.compute as pc
        underlying = group.column("underlying_price")
        spot = pc.mean(pc.filter(underlying, pc.greater(underlying, 0.0))).as_py()
        if spot is None:
            return
        strikes = pc.unique(group.column("strike"))
        distance = pc.abs(pc.subtract(strikes, spot))
        nearest = strikes[pc.index(distance, pc.min(distance)).as_py()]
        iv = group.column("implied_vol")
        atm = pc.filter(iv, pc.and_(pc.equal(group.column("strike"), nearest), pc.greater(iv, 0.0)))
        if len(atm):
            self._iv_atm_sum += pc.sum(atm).as_py()
            self._iv_atm_count += len(atm)

    def summary(self, day, interval_ms, rejected, duplicates):
        intervals = intervals_in_session(day, interval_ms)
        expected = None if intervals is None else self.contracts * intervals
        completeness = round(self.rows / expected, 6) if expected else None
        iv_atm = round(self._iv_atm_sum / self._iv_atm_count, 6) if self._iv_atm_count else None
        return {
            "expirations": self.expirations,
            "contracts": self.contracts,
            "expected_rows": expected,
            "completeness": completeness,
            "zero_quote_rows": self.zero_quote_rows,
            "crossed_quotes": self.crossed_quotes,
            "quality_score": quality_score(self.rows, rejected, duplicates, self.crossed_quotes,
                                           self.zero_quote_rows, completeness),
            "iv_atm_mean": iv_atm,
        }


def _count(mask):
    import pyarrow.compute as pc
    return int(pc.sum(mask.cast("int64")).as_py() or 0)
