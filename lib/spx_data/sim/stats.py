"""What the simulated terminal saw: requests by path and status, bytes sent, data requests,
the most data requests it had in flight at once, how busy it was, and the faults it injected.

Busyness: in_flight_seconds is the integral of the number of data requests in flight over time
(two requests in flight for 3 s add 6 s), and busy_span_seconds the time from the first data
request's arrival to the last one's end (or now, while some are in flight), both since the last
reset. in_flight_seconds / (N × busy_span_seconds) is how fully N request slots were used.
"""
import threading
import time
from collections import Counter, defaultdict


class Stats:
    def __init__(self, clock=time.monotonic):
        self._lock = threading.Lock()
        self._clock = clock
        self.in_flight = 0
        self.reset()

    def reset(self):
        with self._lock:
            self.requests = defaultdict(Counter)
            self.bytes_sent = 0
            self.data_requests = 0
            self.max_in_flight = self.in_flight
            self.faults = Counter()
            self._in_flight_seconds = 0.0
            self._changed = self._clock()
            self._first_begin = self._changed if self.in_flight else None
            self._last_end = None

    def _account(self):
        """Add the in-flight time since the last change (under the lock)."""
        now = self._clock()
        self._in_flight_seconds += self.in_flight * (now - self._changed)
        self._changed = now
        return now

    def data_begin(self):
        """A data request arrived; returns how many are in flight now, itself included."""
        with self._lock:
            now = self._account()
            if self._first_begin is None:
                self._first_begin = now
            self.data_requests += 1
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            return self.in_flight

    def data_end(self):
        with self._lock:
            self._last_end = self._account()
            self.in_flight -= 1

    def fault(self, name):
        with self._lock:
            self.faults[str(name)] += 1

    def record(self, path, status, body_bytes):
        with self._lock:
            self.requests[path][str(status)] += 1
            self.bytes_sent += body_bytes

    def snapshot(self):
        with self._lock:
            now = self._account()
            end = now if self.in_flight else self._last_end
            span = end - self._first_begin if self._first_begin is not None and end is not None else 0.0
            return {"requests": {path: dict(counts) for path, counts in self.requests.items()},
                    "bytes_sent": self.bytes_sent, "max_in_flight": self.max_in_flight,
                    "data_requests": self.data_requests, "in_flight": self.in_flight,
                    "in_flight_seconds": round(self._in_flight_seconds, 6),
                    "busy_span_seconds": round(span, 6), "faults": dict(self.faults)}
