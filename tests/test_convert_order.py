"""Rows that arrive in key order (as the terminals send a chain) are not sorted again; rows that
do not are, stably."""
import pyarrow as pa
import pytest

from spx_data import convert as convert_module


def table(keys):
    strikes, rights, times = zip(*keys)
    return pa.table({"strike": pa.array(strikes, pa.float64()), "right": pa.array(rights),
                     "ms_of_day": pa.array(times, pa.int32()), "n": pa.array(range(len(keys)))})


@pytest.mark.parametrize("keys,in_order", [
    ([(4700, "C", 1), (4700, "C", 2), (4700, "P", 1), (4705, "C", 0)], True),   # strike, then right, then time
    ([(4700, "P", 9), (4705, "C", 0)], True),                                   # a later field may go down
    ([(4700, "C", 1), (4700, "C", 1), (4700, "C", 2)], True),                   # repeats stay in order
    ([(4700, "C", 2), (4700, "C", 1)], False),
    ([(4700, "P", 1), (4700, "C", 2)], False),
    ([(4705, "C", 1), (4700, "P", 2)], False),
    ([(4700, "C", 1)], True),
])
def test_in_order(keys, in_order):
    assert convert_module._in_order(table(keys)) is in_order


def test_rows_out_of_order_are_sorted_stably_and_rows_in_order_kept_as_they_are():
    shuffled = table([(4705, "C", 1), (4700, "C", 1), (4700, "C", 1), (4700, "C", 0)])
    assert convert_module._sorted(shuffled)["n"].to_pylist() == [3, 1, 2, 0]
    ordered = table([(4700, "C", 0), (4700, "C", 1), (4705, "C", 1)])
    chunked = pa.concat_tables([ordered.slice(0, 1), ordered.slice(1)])
    result = convert_module._sorted(chunked)
    assert result["n"].to_pylist() == [0, 1, 2] and result["n"].num_chunks == 1
