"""Machine-wide request slots: never more holders than slots, across threads and processes, and a
slot comes back on every path out (exception, cancellation, kill -9)."""
import multiprocessing
import os
import signal
import subprocess
import sys
import threading
import time
from contextlib import ExitStack
from pathlib import Path

import pytest

from spx_data.slots import Cancelled, RequestSlots, lock_root, terminal_key

URL = "http://127.0.0.1:25510"
LIB = str(Path(__file__).resolve().parent.parent / "lib")


def _hold_many(count, rounds, in_flight, peak, done):
    slots = RequestSlots(count, URL)
    for _ in range(rounds):
        with slots.hold():
            with in_flight.get_lock():
                in_flight.value += 1
                peak.value = max(peak.value, in_flight.value)
            time.sleep(0.005)
            with in_flight.get_lock():
                in_flight.value -= 1
        with done.get_lock():
            done.value += 1


def test_processes_never_hold_more_than_the_slots():
    ctx = multiprocessing.get_context("fork")
    in_flight, peak, done = ctx.Value("i", 0), ctx.Value("i", 0), ctx.Value("i", 0)
    workers = [ctx.Process(target=_hold_many, args=(2, 8, in_flight, peak, done)) for _ in range(5)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
    assert [w.exitcode for w in workers] == [0] * 5
    assert done.value == 40
    assert 1 <= peak.value <= 2


def test_threads_of_one_process_compete_like_processes():
    in_flight, peak, done = multiprocessing.Value("i", 0), multiprocessing.Value("i", 0), multiprocessing.Value("i", 0)
    threads = [threading.Thread(target=_hold_many, args=(3, 8, in_flight, peak, done)) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert done.value == 48
    assert 1 <= peak.value <= 3


def _all_free(slots):
    """Hold every slot at once; Cancelled (not a hang) if one of them is still taken."""
    cancel = threading.Event()
    timer = threading.Timer(5, cancel.set)
    timer.start()
    try:
        with ExitStack() as stack:
            for _ in range(slots.count):
                stack.enter_context(slots.hold(cancel))
        return True
    except Cancelled:
        return False
    finally:
        timer.cancel()


def test_a_slot_is_released_when_the_request_fails():
    slots = RequestSlots(2, URL)
    with pytest.raises(RuntimeError):
        with slots.hold():
            raise RuntimeError("the request broke")
    assert _all_free(slots)


def test_waiting_stops_when_cancelled():
    slots = RequestSlots(1, URL)
    cancel = threading.Event()
    with slots.hold():
        cancel.set()
        with pytest.raises(Cancelled):
            with slots.hold(cancel):
                pass
    assert _all_free(slots)


def test_kill_9_releases_the_slot():
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; sys.path.insert(0, sys.argv[1]);"
                               "from spx_data.slots import RequestSlots;"
                               "s = RequestSlots(1, sys.argv[2]); h = s.hold(); h.__enter__();"
                               "print('held', flush=True); time.sleep(60)", LIB, URL],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        slots = RequestSlots(1, URL)
        cancel = threading.Event()
        cancel.set()
        with pytest.raises(Cancelled):  # taken while the holder lives
            with slots.hold(cancel):
                pass
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait(10)
        assert _all_free(slots)
    finally:
        if holder.poll() is None:
            holder.kill()
        holder.stdout.close()


def test_slots_live_per_terminal_under_the_lock_dir(spx_env, monkeypatch, tmp_path):
    slots = RequestSlots(3, "http://localhost:25503")
    assert slots.directory == Path(spx_env["SPX_DATA_LOCK_DIR"]) / "localhost_25503"
    with slots.hold():
        assert sorted(p.name for p in slots.directory.iterdir())[0].startswith("slot-")
    assert terminal_key("http://127.0.0.1:25510") != terminal_key("http://127.0.0.1:25503")
    monkeypatch.delenv("SPX_DATA_LOCK_DIR")
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path / "run"))
    assert lock_root() == tmp_path / "run" / f"spx-data-{os.getuid()}"
    monkeypatch.delenv("XDG_RUNTIME_DIR")
    assert lock_root() == Path("/tmp") / f"spx-data-{os.getuid()}"
