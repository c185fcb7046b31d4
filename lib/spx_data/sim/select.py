"""Narrowing one expiration's rows to what a request asked for: a time window, some contracts."""
import pyarrow as pa
import pyarrow.compute as pc


def between(table, start_ms, end_ms):
    """Rows with START_MS <= ms_of_day <= END_MS (both inclusive, as the terminal documents)."""
    times = table.column("ms_of_day")
    if table.num_rows == 0 or (pc.min(times).as_py() >= start_ms and pc.max(times).as_py() <= end_ms):
        return table
    return table.filter(pc.and_(pc.greater_equal(times, start_ms), pc.less_equal(times, end_ms)))


def contracts(table, block, keep):
    """Rows of the contracts (strike tenth-cent, right) for which KEEP is true."""
    wanted = [i for i, contract in enumerate(block.contracts) if keep(*contract)]
    if len(wanted) == len(block.contracts):
        return table
    return table.filter(pc.is_in(table.column("contract"), value_set=pa.array(wanted, pa.int32())))
