"""Machine-wide request slots: at most N requests in flight to one Theta Terminal, counted across
every thread of every spx-data process on the machine (xargs -P4 and make -j4 included).

A slot is a lock file slot-0 .. slot-(N-1) in a directory named after the terminal's host:port
under ${SPX_DATA_LOCK_DIR:-${XDG_RUNTIME_DIR:-/tmp}/spx-data-$UID}. A request holds one
`flock`ed slot file for its whole life, body included. flock belongs to the open file, so two
threads of one process compete exactly like two processes, and the kernel drops the lock of a
process that dies, even by kill -9: a slot can never leak.
"""
import errno
import fcntl
import os
import random
import re
import time
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

POLL_SECONDS = (0.002, 0.01)   # a short random sleep between attempts when every slot is taken


class Cancelled(Exception):
    """The caller gave up waiting (its cancel event was set); not an error of the request."""


def lock_root():
    explicit = os.environ.get("SPX_DATA_LOCK_DIR")
    if explicit:
        return Path(explicit)
    return Path(os.environ.get("XDG_RUNTIME_DIR") or "/tmp") / f"spx-data-{os.getuid()}"


def terminal_key(base_url):
    """host_port of a base URL: one set of slots per terminal."""
    parts = urlsplit(base_url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return re.sub(r"[^A-Za-z0-9.-]", "_", f"{parts.hostname or 'localhost'}_{port}")


class RequestSlots:
    def __init__(self, count, base_url, root=None):
        if count < 1:
            raise ValueError("at least one request slot is needed")
        self.count = count
        self.directory = Path(root or lock_root()) / terminal_key(base_url)
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)

    def _try_slot(self, index):
        fd = os.open(self.directory / f"slot-{index}", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            os.close(fd)
            if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN):
                return None
            raise
        return fd

    def _acquire(self, cancel):
        start = random.randrange(self.count)  # spread the processes over the slots
        while True:
            for offset in range(self.count):
                fd = self._try_slot((start + offset) % self.count)
                if fd is not None:
                    return fd
            if cancel is not None and cancel.is_set():
                raise Cancelled()
            time.sleep(random.uniform(*POLL_SECONDS))

    @contextmanager
    def hold(self, cancel=None):
        """Hold one slot for the duration of the block; raises Cancelled once CANCEL is set."""
        fd = self._acquire(cancel)
        try:
            yield
        finally:
            os.close(fd)  # closing the file releases the flock
