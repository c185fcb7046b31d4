"""One run per day: an flock on {tempDir}/locks/DATE.lock holding the owner's pid.

The kernel drops the lock when its owner dies (even by kill -9), so a lock that can be taken
means nobody is working on that day; `spx-data stop` and gap analysis rely on that."""
import fcntl
import os
import time

from .layout import lock_dir, lock_path


class DayLock:
    def __init__(self, temp_dir, day):
        self.path = lock_path(temp_dir, day)
        self._fd = None

    def acquire(self):
        """Take the lock without waiting; False when another process holds it."""
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        if not _still_linked(fd, self.path):  # we locked a file its previous owner just unlinked
            os.close(fd)
            return self.acquire()
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd
        return True

    def release(self):
        if self._fd is not None:
            # Unlink while still holding the lock, so a waiting process never locks a stale inode.
            try:
                os.unlink(self.path)
            except FileNotFoundError:
                pass
            os.close(self._fd)
            self._fd = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.release()


def _still_linked(fd, path):
    try:
        return os.fstat(fd).st_ino == os.stat(path).st_ino
    except FileNotFoundError:
        return False


def holder(path):
    """The pid holding the lock file at PATH, or None when nobody holds it."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return _pid_written(fd)
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)


def _pid_written(fd, attempts=20, pause=0.005):
    """The holder writes its pid just after taking the lock; give it that moment. -1 if unreadable."""
    for _ in range(attempts):
        text = os.pread(fd, 32, 0).decode(errors="replace").strip()
        if text.isdigit():
            return int(text)
        time.sleep(pause)
    return -1


def running(temp_dir):
    """{date: pid} for every day some live process is working on."""
    found = {}
    directory = lock_dir(temp_dir)
    if directory.is_dir():
        for entry in directory.glob("*.lock"):
            pid = holder(entry)
            if pid is not None:
                found[entry.stem] = pid
    return found
