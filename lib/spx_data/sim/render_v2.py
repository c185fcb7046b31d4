"""Theta Terminal v2 encodings: legacy JSON ({"header", "response"}) and CSV (use_csv=true).

Greeks: JSON contract objects {"ticks": [[...14 values in FORMAT order...]], "contract": {...}},
strikes as integers in tenths of a cent, dates as YYYYMMDD integers, "null" strings in the
header; CSV rows carry the contract columns first: root,expiration,strike,right,<FORMAT>.
"""
import json

import pyarrow as pa
import pyarrow.compute as pc

from . import text

FORMAT = ["ms_of_day", "bid", "ask", "delta", "theta", "vega", "rho", "epsilon", "lambda",
          "implied_vol", "iv_error", "ms_of_day2", "underlying_price", "date"]
CONTRACT_FORMAT = ["root", "expiration", "strike", "right"]
JSON_TYPE = "application/json"
CSV_TYPE = "text/csv"
_PER_ROW = FORMAT[1:11]            # bid .. iv_error vary by contract; the rest only by time


def yyyymmdd(day):
    return day.year * 10000 + day.month * 100 + day.day


def header(format_, next_page="null", latency_ms=0):
    """The v2 JSON header; error fields carry the string "null" on success, as the terminal sends."""
    return {"latency_ms": latency_ms, "error_type": "null", "error_msg": "null",
            "next_page": next_page, "format": format_}


def document(head, response_parts):
    """Body parts of {"header": HEAD, "response": [RESPONSE_PARTS...]}."""
    opening = '{"header":' + json.dumps(head, separators=(",", ":")) + ',"response":['
    return [opening.encode(), *response_parts, b"]}"]


def _values(block, table):
    """Per row: "ms_of_day,bid,...,iv_error,ms_of_day2,underlying_price,date" (FORMAT order)."""
    date = str(yyyymmdd(block.day))
    head = block.per_time("v2.head", lambda rows: text.number(rows.column("ms_of_day")))
    tail = block.per_time("v2.tail", lambda rows: text.join(
        [text.number(rows.column("ms_of_day2")), text.number(rows.column("underlying_price")), date], ","))
    time = text.column(table, "time")
    return text.join([pc.take(head, time), *(text.number(text.column(table, n)) for n in _PER_ROW),
                      pc.take(tail, time)], ",")


def ticks_json(block, table):
    """The inside of "response": one contract object per run of rows of one contract."""
    if table.num_rows == 0:
        return b""
    contract = text.column(table, "contract")
    first, last = text.contract_edges(contract)
    tails = block.per_contract("v2.contract", lambda strike, right: '],"contract":' + json.dumps(
        {"root": block.root, "expiration": yyyymmdd(block.expiration), "strike": strike, "right": right},
        separators=(",", ":")) + "}")
    rows = text.join([
        pc.if_else(first, pa.scalar(',{"ticks":['), pa.scalar(",")),
        "[", _values(block, table), "]",
        pc.if_else(last, pc.take(tails, contract), pa.scalar("")),
    ])
    return text.body(rows)[1:]      # every contract run opens with a comma; the first needs none


def ticks_csv(block, table):
    """CSV rows (with the header row) of TABLE."""
    head = (",".join(CONTRACT_FORMAT + FORMAT) + "\n").encode()
    if table.num_rows == 0:
        return [head]
    prefixes = block.per_contract("v2.csv", lambda strike, right:
                                  f"{block.root},{yyyymmdd(block.expiration)},{strike},{right},")
    contract = text.column(table, "contract")
    return [head, text.body(text.join([pc.take(prefixes, contract), _values(block, table), "\n"]))]


def rows_json(block, table):
    """Tick arrays of one contract, comma-separated (a single-contract response)."""
    if table.num_rows == 0:
        return b""
    return text.body(text.join([",[", _values(block, table), "]"]))[1:]


def rows_csv(block, table):
    head = (",".join(FORMAT) + "\n").encode()
    if table.num_rows == 0:
        return [head]
    return [head, text.body(text.join([_values(block, table), "\n"]))]


def list_json(format_, rows):
    """A list response: ROWS are scalars (one column) or lists (several)."""
    return document(header(format_), [json.dumps(rows, separators=(",", ":"))[1:-1].encode()])


def list_csv(format_, rows):
    lines = [",".join(format_)]
    lines += [",".join(map(str, row)) if isinstance(row, (list, tuple)) else str(row) for row in rows]
    return ["\n".join(lines).encode() + b"\n"]
