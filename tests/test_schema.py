"""The pinned schema and the content digest that is independent of chunking."""
import datetime as dt
import random

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from spx_data import schema

ROOT_RIGHT = pa.dictionary(pa.int8(), pa.string())
PINNED = [  # the contract of DESIGN §3 / the brief, written out independently of schema.py
    ("date", pa.date32()), ("root", ROOT_RIGHT), ("expiration", pa.date32()), ("strike", pa.float64()),
    ("right", ROOT_RIGHT), ("ms_of_day", pa.int32()), ("timestamp", pa.timestamp("ms", tz="America/New_York")),
    ("bid", pa.float64()), ("ask", pa.float64()), ("delta", pa.float64()), ("theta", pa.float64()),
    ("vega", pa.float64()), ("rho", pa.float64()), ("epsilon", pa.float64()), ("lambda", pa.float64()),
    ("implied_vol", pa.float64()), ("iv_error", pa.float64()), ("ms_of_day2", pa.int32()),
    ("underlying_price", pa.float64()),
]


def test_the_schema_is_pinned_column_by_column():
    pinned = schema.arrow_schema()
    assert [(f.name, f.type) for f in pinned] == PINNED
    assert not any(f.nullable for f in pinned)
    assert pinned.metadata is None


def test_tick_fields_are_the_columns_without_the_derived_timestamp():
    assert schema.TICK_FIELDS == tuple(name for name, _type in PINNED if name != "timestamp")
    assert set(schema.KEY) <= set(schema.NAMES)


def sample_table(rows=200, seed=0):
    rng = random.Random(seed)
    columns = {}
    for field in schema.arrow_schema():
        if field.name in ("root", "right"):
            values = pa.array([rng.choice(["SPX", "SPXW"] if field.name == "root" else ["C", "P"])
                               for _ in range(rows)]).dictionary_encode()
            columns[field.name] = values.cast(field.type)
        elif field.name in ("date", "expiration"):
            columns[field.name] = pa.array([dt.date(2024, 1, 2) + dt.timedelta(days=rng.randint(0, 30))
                                            for _ in range(rows)], field.type)
        elif pa.types.is_floating(field.type):
            columns[field.name] = pa.array([rng.uniform(-100, 100) for _ in range(rows)], field.type)
        else:
            columns[field.name] = pa.array([rng.randint(0, 86_399_999) for _ in range(rows)], pa.int64()) \
                .cast(field.type)
    return pa.Table.from_pydict(columns, schema=schema.arrow_schema())


def digest(*tables):
    content = schema.ContentDigest()
    for table in tables:
        content.update(table)
    return content.hexdigest()


def test_digest_does_not_depend_on_chunking():
    table = sample_table()
    whole = digest(table)
    assert digest(table.slice(0, 7), table.slice(7, 100), table.slice(107)) == whole
    assert digest(*table.to_batches(max_chunksize=13)) == whole
    rechunked = pa.Table.from_batches(table.to_batches(max_chunksize=31))
    assert digest(rechunked) == whole
    # dictionaries that differ but decode to the same values give the same digest
    roots = table.column("root").cast(pa.string())
    reordered = pa.DictionaryArray.from_arrays(
        pc.index_in(roots, value_set=pa.array(["SPXW", "SPX"])).cast(pa.int8()), pa.array(["SPXW", "SPX"]))
    assert digest(table.set_column(1, "root", reordered)) == whole


def test_digest_changes_with_any_value_order_or_string_boundary():
    table = sample_table()
    whole = digest(table)
    changed = table.set_column(7, "bid", pa.array([table.column("bid")[0].as_py() + 1e-12]
                                                  + table.column("bid").to_pylist()[1:], pa.float64()))
    assert digest(changed) != whole
    assert digest(table.slice(1), table.slice(0, 1)) != whole
    # "SPX","SPXW" and "SPXS","PXW" concatenate to the same bytes; the lengths keep them apart
    two = sample_table(rows=2)
    first = two.set_column(1, "root", pa.array(["SPX", "SPXW"]).dictionary_encode().cast(ROOT_RIGHT))
    second = two.set_column(1, "root", pa.array(["SPXS", "PXW"]).dictionary_encode().cast(ROOT_RIGHT))
    assert digest(first) != digest(second)


def test_digest_is_the_same_after_a_parquet_round_trip(tmp_path):
    table = sample_table()
    pq.write_table(table, tmp_path / "t.parquet", row_group_size=17)
    parquet = pq.ParquetFile(tmp_path / "t.parquet")
    assert digest(*(parquet.read_row_group(i) for i in range(parquet.num_row_groups))) == digest(table)


@pytest.mark.parametrize("metadata,expected", [
    ({b"spx_data.date": b"2024-01-02", b"ARROW:schema": b"x", b"other": b"y"}, {"date": "2024-01-02"}),
    (None, {}),
])
def test_footer_keeps_only_spx_data_keys(metadata, expected):
    assert schema.footer(metadata) == expected
