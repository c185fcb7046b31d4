"""Theta Terminal v3 encodings: csv (the default; header row, CRLF), ndjson (one flat object
per row) and json ({"response": [{"contract": {...}, "data": [{...}]}]}).

Strikes in dollars with three decimals, rights CALL/PUT, ET timestamps YYYY-MM-DDTHH:MM:SS.mmm;
bid/ask/underlying_price with two decimals, greeks in shortest round-trip form.
"""
import json

import pyarrow as pa
import pyarrow.compute as pc

from . import text

COLUMNS = ["symbol", "expiration", "strike", "right", "timestamp", "bid", "ask", "delta", "theta", "vega",
           "rho", "epsilon", "lambda", "implied_vol", "iv_error", "underlying_timestamp", "underlying_price"]
CONTENT_TYPES = {"csv": "text/csv", "ndjson": "application/x-ndjson", "json": "application/json"}
RIGHTS = {"C": "CALL", "P": "PUT"}
_CENTS = ("bid", "ask")
_PER_ROW = COLUMNS[5:15]            # bid .. iv_error vary by contract; the rest only by time


class Number(str):
    """A list value written unquoted in JSON (e.g. a strike "4700.000")."""


def strike_text(strike_tc):
    return f"{strike_tc // 1000}.{strike_tc % 1000:03d}"


def _per_row_text(table):
    return [text.fixed(text.column(table, name), 2) if name in _CENTS else text.number(text.column(table, name))
            for name in _PER_ROW]


def _time_texts(block, table, fmt):
    """(head, tail) per row: the time-only fields before and after the per-row ones."""
    def stamp(rows, column):
        return text.join([f"{block.day.isoformat()}T", text.clock(rows.column(column))])

    def head(rows):
        return stamp(rows, "ms_of_day") if fmt == "csv" else text.join(['"timestamp":"', stamp(rows, "ms_of_day"), '"'])

    def tail(rows):
        under = text.fixed(rows.column("underlying_price"), 2)
        if fmt == "csv":
            return text.join([stamp(rows, "ms_of_day2"), under], ",")
        return text.join(['"underlying_timestamp":"', stamp(rows, "ms_of_day2"), '","underlying_price":', under])

    kind = "csv" if fmt == "csv" else "json"
    time = text.column(table, "time")
    return (pc.take(block.per_time(f"v3.head.{kind}", head), time),
            pc.take(block.per_time(f"v3.tail.{kind}", tail), time))


def _object(block, table):
    """Per row: the fields timestamp .. underlying_price as '"name":value,...' (no braces)."""
    head, tail = _time_texts(block, table, "json")
    parts = [head]
    for name, values in zip(_PER_ROW, _per_row_text(table)):
        parts += [f',"{name}":', values]
    return text.join([*parts, ",", tail])


def _contract_json(block, strike, right, order):
    fields = {"symbol": f'"{block.root}"', "expiration": f'"{block.expiration.isoformat()}"',
              "strike": strike_text(strike), "right": f'"{RIGHTS[right]}"'}   # strike: a JSON number
    return ",".join(f'"{key}":{fields[key]}' for key in order)


def ticks(block, table, fmt):
    """Body parts of TABLE in FMT (csv, ndjson or json)."""
    if table.num_rows == 0:
        return {"csv": [(",".join(COLUMNS) + "\r\n").encode()], "ndjson": [], "json": [b'{"response":[]}']}[fmt]
    contract = text.column(table, "contract")
    if fmt == "csv":
        prefixes = block.per_contract("v3.csv", lambda strike, right: f"{block.root},{block.expiration.isoformat()},"
                                                                      f"{strike_text(strike)},{RIGHTS[right]}")
        head, tail = _time_texts(block, table, "csv")
        line = text.join([pc.take(prefixes, contract), head, *_per_row_text(table), tail], ",")
        return [(",".join(COLUMNS) + "\r\n").encode(), text.body(text.join([line, "\r\n"]))]
    if fmt == "ndjson":
        prefixes = block.per_contract("v3.ndjson", lambda strike, right:
                                      "{" + _contract_json(block, strike, right, COLUMNS[:4]) + ",")
        return [text.body(text.join([pc.take(prefixes, contract), _object(block, table), "}\n"]))]
    first, last = text.contract_edges(contract)
    openers = block.per_contract("v3.json", lambda strike, right: ',{"contract":{' + _contract_json(
        block, strike, right, ("symbol", "strike", "right", "expiration")) + '},"data":[')
    rows = text.join([
        pc.if_else(first, pc.take(openers, contract), pa.scalar(",")),
        "{", _object(block, table), "}",
        pc.if_else(last, pa.scalar("]}"), pa.scalar("")),
    ])
    return [b'{"response":[', text.body(rows)[1:], b"]}"]


def listing(columns, rows, fmt):
    """A list response of ROWS (dicts with COLUMNS; Number values unquoted) in FMT."""
    if fmt == "csv":
        lines = [",".join(columns)] + [",".join(str(row[c]) for c in columns) for row in rows]
        return ["\r\n".join(lines).encode() + b"\r\n"]
    objects = ["{" + ",".join(f'"{c}":{_value(row[c])}' for c in columns) + "}" for row in rows]
    if fmt == "ndjson":
        return ["".join(o + "\n" for o in objects).encode()]
    return [('{"response":[' + ",".join(objects) + "]}").encode()]


def _value(value):
    return value if isinstance(value, Number) else json.dumps(value)
