"""spx_data.daylock: who holds a day, read while the holder may still be writing its pid."""
import fcntl
import os
import threading

from spx_data import daylock


def _held_lock(path):
    """A lock taken the way DayLock takes it: flock first, pid written after."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    return fd


def test_holder_waits_for_a_pid_written_just_after_the_lock(tmp_path):
    path = tmp_path / "2024-01-03.lock"
    fd = _held_lock(path)
    late_write = threading.Timer(0.02, lambda: os.write(fd, b"4242\n"))
    late_write.start()
    try:
        assert daylock.holder(path) == 4242
    finally:
        late_write.join()
        os.close(fd)


def test_holder_without_a_readable_pid_is_minus_one(tmp_path):
    path = tmp_path / "2024-01-03.lock"
    fd = _held_lock(path)
    try:
        assert daylock.holder(path) == -1
    finally:
        os.close(fd)


def test_nobody_holds_a_released_or_missing_lock(tmp_path):
    with daylock.DayLock(tmp_path, "2024-01-03") as lock:
        assert lock.acquire()
        assert daylock.holder(lock.path) == os.getpid()
    assert daylock.holder(lock.path) is None
    assert daylock.running(tmp_path) == {}
