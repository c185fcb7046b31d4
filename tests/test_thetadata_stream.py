"""Replies worked on as they arrive: line formats a block of whole lines at a time, JSON
documents spooled and parsed one at a time, the request slot given back once the body is in."""
import threading
import time

import pyarrow as pa
import pytest

from spx_data.errors import ApiConnectionError
from spx_data.slots import Cancelled, RequestSlots
from spx_data.thetadata import formats, rows
from spx_data.thetadata.transport import Transport
from spx_data.thetadata.v2 import V2Api
from spx_data.thetadata.v3 import V3Api
from test_thetadata_parse import DAY, EXP, expected_rows, reply, v2_csv, v2_json, v3_csv, v3_json, v3_ndjson


class Arriving:
    """A reply whose body comes in small chunks, like a Stream."""

    def __init__(self, body, chunk=7, headers=None):
        self.body, self.chunk = body, chunk
        self.status, self.url, self.headers = 200, "http://127.0.0.1:25510/x", headers or {}

    def chunks(self):
        for start in range(0, len(self.body), self.chunk):
            yield self.body[start:start + self.chunk]


LINE_FORMATS = {"v3-csv": (lambda: V3Api("csv"), v3_csv), "v3-ndjson": (lambda: V3Api("ndjson"), v3_ndjson),
                "v2-csv": (lambda: V2Api("csv"), v2_csv)}


@pytest.mark.parametrize("encoding", LINE_FORMATS)
def test_line_formats_are_parsed_block_by_block_with_the_same_rows(encoding, monkeypatch):
    make_api, render = LINE_FORMATS[encoding]
    body = render(expected_rows())
    whole, _ = make_api().parse_greeks(reply(body), DAY, "SPXW", EXP)
    monkeypatch.setattr(formats, "BLOCK_BYTES", 300)      # a few lines per block
    tables = []
    make_api().read_greeks(Arriving(body), DAY, "SPXW", EXP, None, tables.append)
    assert len(tables) > 2                                 # handed out while the body arrives
    assert rows.encode(pa.concat_tables(tables), DAY, "SPXW", EXP) == rows.encode(whole, DAY, "SPXW", EXP)


@pytest.mark.parametrize("encoding", LINE_FORMATS)
def test_a_body_cut_mid_line_ends_in_a_connection_error_after_the_whole_lines(encoding, monkeypatch):
    make_api, render = LINE_FORMATS[encoding]
    body = render(expected_rows())
    monkeypatch.setattr(formats, "BLOCK_BYTES", 300)
    cut = body.rindex(b"\n", 0, len(body) - 1) + 5        # into the last line
    tables = []
    with pytest.raises(ApiConnectionError, match="truncated"):
        make_api().read_greeks(Arriving(body[:cut]), DAY, "SPXW", EXP, None, tables.append)
    assert sum(t.num_rows for t in tables) < len(expected_rows())   # the cut line itself never became a row


def test_line_blocks_hand_out_whole_lines_only():
    body = b"".join(f"line {i:04d} {'x' * (i % 13)}\n".encode() for i in range(500))
    blocks = list(formats.line_blocks(Arriving(body, chunk=97), "CSV", block_bytes=1000))
    assert b"".join(blocks) == body
    assert len(blocks) > 5 and all(block.endswith(b"\n") for block in blocks)


@pytest.mark.parametrize("make_api,render", [(lambda: V2Api("json"), v2_json), (lambda: V3Api("json"), v3_json)])
def test_json_documents_are_worked_on_one_at_a_time(make_api, render, monkeypatch):
    body = render(expected_rows())
    busy, most = [0], [0]
    lock = threading.Lock()

    def emit(table):
        with lock:
            busy[0] += 1
            most[0] = max(most[0], busy[0])
        time.sleep(0.05)          # long enough for the other threads to try
        with lock:
            busy[0] -= 1
    threads = [threading.Thread(target=make_api().read_greeks, args=(Arriving(body, 4096), DAY, "SPXW", EXP,
                                                                      None, emit)) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert most[0] == 1


def test_an_empty_json_body_is_a_connection_error():
    with pytest.raises(ApiConnectionError, match="empty JSON reply"):
        V2Api("json").parse_greeks(reply(b"  \n"), DAY, "SPXW", EXP)


def test_the_request_slot_is_free_once_the_body_is_in(sim, tmp_path):
    slots_dir = tmp_path / "slots"
    transport = Transport(sim.base_url, RequestSlots(1, sim.base_url, root=slots_dir))
    params = {"symbol": "SPXW", "expiration": "20240102", "date": "20240102", "interval": "1m"}
    with transport.stream("/v3/option/history/greeks/first_order", params) as stream:
        assert _slot_taken(sim.base_url, slots_dir)       # held while the body comes
        body = stream.read()
        assert not _slot_taken(sim.base_url, slots_dir)   # given back before the block ends
    assert stream.status == 200 and stream.received == len(body) > 0 and stream.latency_ms > 0


def _slot_taken(base_url, root):
    give_up = threading.Event()
    timer = threading.Timer(0.3, give_up.set)
    timer.start()
    try:
        with RequestSlots(1, base_url, root=root).hold(give_up):
            return False
    except Cancelled:
        return True
    finally:
        timer.cancel()
