"""Fault injection, deterministic for a seed: each data request draws from an RNG seeded by
(seed, request number), so a run with the same requests in the same order fails the same way.
"""
import random
import threading
import time
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Faults:
    p429: float = 0.0            # OS_LIMIT
    p474: float = 0.0            # DISCONNECTED
    p571: float = 0.0            # SERVER_STARTING
    p570: float = 0.0            # LARGE_REQUEST (greeks requests only)
    truncate: float = 0.0        # a 200 whose body stops short of its Content-Length
    reset: float = 0.0           # the connection is reset instead of answered
    latency_ms: int = 0          # added before every data request is answered
    bandwidth: int = 0           # bytes/s shared by all responses; 0 = unlimited
    max_in_flight: int = 0       # data requests beyond this many in flight get 429; 0 = no cap
    die_after: int = None        # the process exits when data request die_after + 1 arrives
    starting_seconds: float = 0  # status DISCONNECTED and 571 for this long after start
    no_data: frozenset = field(default_factory=frozenset)   # {(root, expiration)}: 472
    large_over: int = 0          # greeks requests of more rows than this get 570; 0 = no limit

    def draw(self, seed, number, greeks):
        """None, "reset" or an HTTP status for data request NUMBER."""
        u = random.Random(f"{seed}:{number}:fault").random()
        for outcome, probability in (("reset", self.reset), (429, self.p429), (474, self.p474),
                                     (571, self.p571), (570, self.p570 if greeks else 0.0)):
            if u < probability:
                return outcome
            u -= probability
        return None

    def truncation(self, seed, number):
        """The fraction of the body to send, or None for all of it."""
        rng = random.Random(f"{seed}:{number}:truncate")
        return rng.uniform(0.05, 0.95) if rng.random() < self.truncate else None


class Throttle:
    """A bandwidth cap shared by every connection: each chunk waits for its slot on the wire."""

    def __init__(self, bytes_per_second):
        self.rate = float(bytes_per_second)
        self._free_at = 0.0
        self._lock = threading.Lock()

    def wait(self, size):
        with self._lock:
            now = time.monotonic()
            self._free_at = max(now, self._free_at) + size / self.rate
            until = self._free_at
        time.sleep(max(0.0, until - now))
