"""The NDJSON text of tick rows: values that repeat (strikes, times, the underlying, two-decimal
prices) are formatted once per distinct value, with exactly the text of formatting every row."""
import datetime as dt

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest
import ujson

from spx_data.errors import ApiResponseInvalidError
from spx_data.thetadata import rows

DAY, EXP = dt.date(2024, 1, 2), dt.date(2024, 1, 5)


def chain(n=6000, seed=3):
    """N rows: a few strikes and times (repeating), greeks all different, integral values too."""
    rng = np.random.default_rng(seed)
    columns = {"strike": np.repeat(np.arange(4000.0, 4000.0 + 5 * (n // 390 + 1), 5.0), 390)[:n],
               "right": pa.array(np.where(np.arange(n) % 2, "P", "C")),
               "ms_of_day": 34_200_000 + (np.arange(n) % 390) * 60_000}
    for name in rows.GREEKS:
        columns[name] = rng.standard_normal(n) * 10.0 ** rng.integers(-6, 4, n)
    columns["bid"] = np.round(rng.random(n) * 40, 1)          # two-decimal prices, many integral
    columns["ms_of_day2"] = columns["ms_of_day"] - 3
    columns["underlying_price"] = 4700 + (np.arange(n) % 390) / 100
    return pa.table(columns).cast(rows.TICK_SCHEMA)


def test_repeating_columns_are_formatted_per_distinct_value(monkeypatch):
    encoded = []
    original = pc.dictionary_encode
    monkeypatch.setattr(pc, "dictionary_encode", lambda column: encoded.append(len(column)) or original(column))
    text = rows.encode(chain(), DAY, "SPXW", EXP)
    assert len(encoded) >= 5                                   # strike, times, bid, the underlying ...
    assert len(encoded) < len(rows.TICK_SCHEMA.names) - 1      # ... but not the greeks that never repeat
    monkeypatch.setattr(pc, "dictionary_encode", original)
    assert text == rows.encode(chain(), DAY, "SPXW", EXP)


def test_the_text_is_every_value_exactly_with_floats_as_floats():
    table = chain()
    records = [ujson.loads(line) for line in rows.encode(table, DAY, "SPXW", EXP).splitlines()]
    assert len(records) == table.num_rows
    for name in rows.TICK_SCHEMA.names:
        assert [r[name] for r in records] == table[name].to_pylist(), name
    assert all(type(r["strike"]) is float and type(r["bid"]) is float and type(r["ms_of_day"]) is int
               for r in records)


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), None])
def test_a_non_finite_or_missing_value_in_a_repeating_column_is_refused(bad):
    table = chain()
    values = table["underlying_price"].to_pylist()
    values[100] = bad
    table = table.set_column(table.schema.get_field_index("underlying_price"), "underlying_price",
                             pa.array(values, pa.float64()))
    with pytest.raises(ApiResponseInvalidError, match="non-finite underlying_price"):
        rows.encode(table, DAY, "SPXW", EXP)
