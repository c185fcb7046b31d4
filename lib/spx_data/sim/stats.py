"""What the simulated terminal saw: requests by path and status, bytes sent, data requests,
the most data requests it had in flight at once, and the faults it injected."""
import threading
from collections import Counter, defaultdict


class Stats:
    def __init__(self):
        self._lock = threading.Lock()
        self.in_flight = 0
        self.reset()

    def reset(self):
        with self._lock:
            self.requests = defaultdict(Counter)
            self.bytes_sent = 0
            self.data_requests = 0
            self.max_in_flight = self.in_flight
            self.faults = Counter()

    def data_begin(self):
        """A data request arrived; returns how many are in flight now, itself included."""
        with self._lock:
            self.data_requests += 1
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            return self.in_flight

    def data_end(self):
        with self._lock:
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
            return {"requests": {path: dict(counts) for path, counts in self.requests.items()},
                    "bytes_sent": self.bytes_sent, "max_in_flight": self.max_in_flight,
                    "data_requests": self.data_requests, "in_flight": self.in_flight,
                    "faults": dict(self.faults)}
