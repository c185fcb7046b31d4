"""Progress of one day on stderr: a line refreshed in place on a terminal (every second); one
plain line per expiration otherwise, and one at least every 5 s while an expiration takes longer;
a summary at the end."""
import sys
import threading
import time

HEARTBEAT_SECONDS = 5


def _duration(seconds):
    seconds = int(max(0, seconds))
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}" if seconds >= 3600 \
        else f"{seconds // 60}:{seconds % 60:02d}"


class DayProgress:
    def __init__(self, day, stream=None, quiet=False):
        self.day = day
        self.stream = stream or sys.stderr
        self.quiet = quiet
        self.tty = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.total = 0
        self.done = 0
        self.rows = 0
        self.current = "listing expirations"
        self.started = time.monotonic()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._ticker = None
        self._last_line = time.monotonic()

    def __enter__(self):
        if not self.quiet:
            self._ticker = threading.Thread(target=self._tick, daemon=True)
            self._ticker.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        if self._ticker:
            self._ticker.join(timeout=2)
            if self.tty:
                self.stream.write("\r\033[K")
                self.stream.flush()

    def _tick(self):
        while not self._stop.wait(1.0):
            if self.tty:
                self._emit(in_place=True)
            elif time.monotonic() - self._last_line >= HEARTBEAT_SECONDS:
                self._emit(in_place=False)

    def line(self):
        elapsed = time.monotonic() - self.started
        rate = self.rows / elapsed if elapsed > 0 else 0.0
        eta = "?" if not self.done or not self.total else _duration(elapsed / self.done * (self.total - self.done))
        return (f"{self.day} {self.done}/{self.total} expirations  {self.current}  {self.rows:,} rows  "
                f"{rate:,.0f} rows/s  ETA {eta}")

    def _emit(self, in_place):
        if self.quiet:
            return
        with self._lock:
            text = self.line()
            if in_place:
                self.stream.write("\r\033[K" + text)
            else:
                self.stream.write(text + "\n")
                self._last_line = time.monotonic()
            self.stream.flush()

    def set_total(self, total):
        self.total = total
        self.current = "fetching"

    def stage(self, name):
        self.current = name
        if not self.tty:
            self._emit(in_place=False)

    def expiration_done(self, event):
        self.done += 1
        self.rows += int(event.get("rows") or 0)
        self.current = f"{event.get('root')} {event.get('expiration')}" + (" (resumed)" if event.get("skipped") else "")
        if not self.tty:
            self._emit(in_place=False)

    def summary(self, text):
        if not self.quiet:
            with self._lock:
                self.stream.write(("\r\033[K" if self.tty else "") + text + "\n")
                self.stream.flush()
