"""The v2 and v3 parsers and the NDJSON encoder: every encoding of the same rows gives the same
tick rows, byte for byte, with the values exactly as sent; incomplete or foreign replies are refused."""
import datetime as dt
import io
import json
import math

import pytest
import ujson

from spx_data.errors import ApiConnectionError, ApiDataNotFoundError, ApiResponseInvalidError, UsageError
from spx_data.thetadata import rows
from spx_data.thetadata.transport import Reply
from spx_data.thetadata.v2 import FORMAT, V2Api
from spx_data.thetadata.v3 import V3Api

DAY = dt.date(2024, 1, 2)
EXP = dt.date(2024, 1, 5)
GREEK_VALUES = {"bid": 31.2, "ask": 31.6, "delta": 0.52, "theta": -2.1, "vega": 1.9, "rho": 0.12, "epsilon": -0.1,
                "lambda": 78.3, "implied_vol": 0.118, "iv_error": 0.0}


def expected_rows():
    """Tick rows as DESIGN §2 shows them, with awkward values: integral floats, tiny and long
    fractions, a half-dollar strike, zero quotes."""
    out = []
    for strike, right in [(4700.0, "C"), (4700.0, "P"), (4702.5, "C")]:
        for minute, scale in [(0, 1.0), (1, 0.1), (390 - 1, 1e-7)]:
            values = {k: (0.0 if right == "P" and minute == 1 else v * scale) for k, v in GREEK_VALUES.items()}
            values["delta"] = 1.0 if minute == 0 and right == "C" else values["delta"]
            values["theta"] = -0.30000000000000004 if strike == 4702.5 else values["theta"]
            ms = 34_200_000 + minute * 60_000
            out.append({"date": DAY.isoformat(), "root": "SPXW", "expiration": EXP.isoformat(), "strike": strike,
                        "right": right, "ms_of_day": ms, **values, "ms_of_day2": ms - 2,
                        "underlying_price": 4742.17})
    return out


def by_contract(records):
    contracts = {}
    for r in records:
        contracts.setdefault((r["strike"], r["right"], r["expiration"]), []).append(r)
    return contracts


def v2_tick(r):
    return [r[name] if name != "date" else int(r["date"].replace("-", "")) for name in FORMAT]


def v2_json(records, next_page="null"):
    response = [{"ticks": [v2_tick(r) for r in ticks],
                 "contract": {"root": "SPXW", "expiration": 20240105, "strike": round(strike * 1000), "right": right}}
                for (strike, right, _), ticks in by_contract(records).items()]
    header = {"latency_ms": 5, "error_type": "null", "error_msg": "null", "next_page": next_page,
              "format": list(FORMAT)}
    return json.dumps({"header": header, "response": response}).encode()


def v2_csv(records):
    lines = [",".join(["root", "expiration", "strike", "right", *FORMAT])]
    for r in records:
        lines.append(",".join(map(repr, ["SPXW", 20240105, round(r["strike"] * 1000), r["right"]])).replace("'", "")
                     + "," + ",".join(map(repr, v2_tick(r))))
    return ("\n".join(lines) + "\n").encode()


def clock(ms, day):
    return (dt.datetime.combine(dt.date.fromisoformat(day), dt.time()) + dt.timedelta(milliseconds=ms)).isoformat(timespec="milliseconds")


def v3_row(r):
    row = {"symbol": "SPXW", "expiration": r["expiration"], "strike": r["strike"],
           "right": {"C": "CALL", "P": "PUT"}[r["right"]], "timestamp": clock(r["ms_of_day"], r["date"])}
    row.update({k: r[k] for k in GREEK_VALUES})
    row.update({"underlying_timestamp": clock(r["ms_of_day2"], r["date"]), "underlying_price": r["underlying_price"]})
    return row


def v3_csv(records):
    rows_ = [v3_row(r) for r in records]
    head = list(rows_[0])
    lines = [",".join(head)] + [",".join(f"{v:.3f}" if k == "strike" else str(v) for k, v in row.items())
                                for row in rows_]
    return ("\r\n".join(lines) + "\r\n").encode()


def v3_ndjson(records):
    return "".join(json.dumps(dict(reversed(list(v3_row(r).items())))) + "\n" for r in records).encode()


def v3_json(records):
    response = []
    for (strike, right, expiration), ticks in by_contract(records).items():
        data = [{k: v for k, v in v3_row(r).items() if k not in ("symbol", "expiration", "strike", "right")}
                for r in ticks]
        response.append({"contract": {"symbol": "SPXW", "strike": strike, "right": {"C": "CALL", "P": "PUT"}[right],
                                      "expiration": expiration}, "data": data})
    return json.dumps({"response": response}, indent=1).encode()


ENCODINGS = {
    "v2-json": (lambda: V2Api("json"), v2_json),
    "v2-csv": (lambda: V2Api("csv"), v2_csv),
    "v3-csv": (lambda: V3Api("csv"), v3_csv),
    "v3-ndjson": (lambda: V3Api("ndjson"), v3_ndjson),
    "v3-json": (lambda: V3Api("json"), v3_json),
}


def reply(body, headers=None):
    return Reply(200, headers or {}, body, "http://127.0.0.1:25510/x", 1.0)


def ndjson_of(encoding, records):
    make_api, render = ENCODINGS[encoding]
    table, next_page = make_api().parse_greeks(reply(render(records)), DAY, "SPXW", EXP)
    assert next_page is None
    return rows.encode(table, DAY, "SPXW", EXP)


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_every_encoding_gives_the_rows_as_sent(encoding):
    records = expected_rows()
    lines = ndjson_of(encoding, records).decode().splitlines()
    parsed = [ujson.loads(line) for line in lines]
    key = lambda r: (r["strike"], r["right"], r["ms_of_day"])
    assert sorted(parsed, key=key) == sorted(records, key=key)
    for line, record in zip(lines, parsed):
        assert list(record) == list(rows.FIELDS)          # DESIGN §2 field order
        assert all(type(record[k]) is float for k in (*GREEK_VALUES, "strike", "underlying_price")), line
        assert json.loads(line) == record                  # plain JSON reads it the same


def test_all_encodings_are_byte_identical():
    records = expected_rows()
    outputs = {encoding: sorted(ndjson_of(encoding, records).splitlines()) for encoding in ENCODINGS}
    assert len({tuple(lines) for lines in outputs.values()}) == 1


def test_v2_strikes_in_tenths_of_a_cent_become_exact_dollars():
    records = expected_rows()[:1]
    for tenths in (4700000, 4702500, 5, 123456789, 999):
        body = v2_json(records).replace(b'"strike": 4700000', f'"strike": {tenths}'.encode())
        table, _ = V2Api("json").parse_greeks(reply(body), DAY, "SPXW", EXP)
        line = ujson.loads(rows.encode(table, DAY, "SPXW", EXP))
        assert line["strike"] == float(f"{tenths // 1000}.{tenths % 1000:03d}")


def test_floats_survive_the_text_round_trip():
    values = [0.1, 1e-05, 1.5e-7, 123456789.123, 5e-324, 2.0 ** 60, -0.0, 1e22, 0.30000000000000004]
    assert len(values) == len(expected_rows())
    records = expected_rows()[:len(values)]
    for record, value in zip(records, values):
        record["bid"] = value
    table, _ = V3Api("ndjson").parse_greeks(reply(v3_ndjson(records)), DAY, "SPXW", EXP)
    parsed = [ujson.loads(line) for line in rows.encode(table, DAY, "SPXW", EXP).splitlines()]
    assert [p["bid"] for p in parsed] == values
    assert all(math.copysign(1, p["bid"]) == math.copysign(1, v) for p, v in zip(parsed, values))


def test_large_tables_are_written_a_slice_at_a_time(monkeypatch):
    table, _ = V3Api("csv").parse_greeks(reply(v3_csv(expected_rows())), DAY, "SPXW", EXP)
    whole = rows.encode(table, DAY, "SPXW", EXP)
    monkeypatch.setattr(rows, "SLICE_ROWS", 2)
    out = io.BytesIO()
    rows.write(out, table, DAY, "SPXW", EXP)
    assert out.getvalue() == whole and whole.count(b"\n") == table.num_rows


def test_pages_are_reported():
    body = v2_json(expected_rows(), next_page="http://127.0.0.1:25510/v2/page/7")
    assert V2Api("json").parse_greeks(reply(body), DAY, "SPXW", EXP)[1] == "http://127.0.0.1:25510/v2/page/7"
    headers = {"Next-Page": "http://127.0.0.1:25510/v2/page/8"}
    assert V2Api("csv").parse_greeks(reply(v2_csv(expected_rows()), headers), DAY, "SPXW", EXP)[1] == headers["Next-Page"]
    assert V2Api("csv").parse_greeks(reply(v2_csv(expected_rows()), {"Next-Page": "null"}), DAY, "SPXW", EXP)[1] is None


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_a_truncated_body_is_a_connection_error_not_data(encoding):
    make_api, render = ENCODINGS[encoding]
    body = render(expected_rows())
    for cut in (len(body) - 1, len(body) // 2):
        with pytest.raises(ApiConnectionError):
            make_api().parse_greeks(reply(body[:cut]), DAY, "SPXW", EXP)


@pytest.mark.parametrize("encoding", ENCODINGS)
@pytest.mark.parametrize("field,value", [("expiration", "2024-01-12"), ("date", "2024-01-03")])
def test_rows_of_another_expiration_or_day_are_refused(encoding, field, value):
    records = expected_rows()
    for r in records[-2:]:
        r[field] = value
    make_api, render = ENCODINGS[encoding]
    body = render(records)
    if encoding.startswith("v2") and field == "expiration":
        body = body.replace(b"20240105", b"20240112", 1)
    with pytest.raises(ApiResponseInvalidError, match="another"):
        make_api().parse_greeks(reply(body), DAY, "SPXW", EXP)


def test_a_v2_header_error_is_mapped():
    body = json.dumps({"header": {"error_type": "NO_DATA", "error_msg": "No data for the specified timeframe",
                                  "next_page": "null", "format": None}, "response": []}).encode()
    with pytest.raises(ApiDataNotFoundError):
        V2Api("json").parse_greeks(reply(body), DAY, "SPXW", EXP)


def test_non_finite_values_are_refused():
    records = expected_rows()[:2]
    body = v3_csv(records).replace(b"31.2,", b"NaN,", 1)
    table, _ = V3Api("csv").parse_greeks(reply(body), DAY, "SPXW", EXP)
    with pytest.raises(ApiResponseInvalidError, match="non-finite bid"):
        rows.encode(table, DAY, "SPXW", EXP)


def test_an_empty_reply_is_zero_rows():
    head = v3_csv(expected_rows()).split(b"\r\n")[0] + b"\r\n"
    table, _ = V3Api("csv").parse_greeks(reply(head), DAY, "SPXW", EXP)
    assert table.num_rows == 0 and rows.encode(table, DAY, "SPXW", EXP) == b""


def test_list_replies():
    v2_body = json.dumps({"header": {"error_type": "null", "next_page": "null", "format": ["root", "expiration",
                                                                                            "strike", "right"]},
                          "response": [["SPXW", 20240105, 4700000, "C"], ["SPX", 20240119, 4700000, "P"],
                                       ["SPXW", 20240105, 4705000, "P"]]}).encode()
    v3_body = b"symbol,expiration,strike,right\r\nSPXW,2024-01-05,4700.000,CALL\r\nSPX,2024-01-19,4700.000,PUT\r\n" \
              b"SPXW,2024-01-05,4705.000,PUT\r\n"
    expected = [("SPX", dt.date(2024, 1, 19)), ("SPXW", EXP)]
    assert V2Api().parse_contracts(reply(v2_body))[0] == expected
    assert V3Api().parse_contracts(reply(v3_body))[0] == expected
    strikes_v2 = json.dumps({"header": {"error_type": "null", "next_page": "null", "format": ["strike"]},
                             "response": [4705000, 4700000]}).encode()
    assert V2Api().parse_strikes(reply(strikes_v2))[0] == [4700000, 4705000]
    assert V3Api().parse_strikes(reply(b"symbol,strike\r\nSPXW,4702.500\r\nSPXW,4700.000\r\n"))[0] == \
        ["4700.000", "4702.500"]


def test_settings_a_version_cannot_serve_are_usage_errors():
    with pytest.raises(UsageError, match="ndjson is not served by a v2 terminal: use csv or json"):
        V2Api("ndjson")
    with pytest.raises(UsageError, match="interval 120000 ms is not served by a v3 terminal"):
        V3Api("csv", 120000)
