"""The simulated Theta Terminal, independent of sockets: a request in, a Reply out.

Every /v2 and /v3 request other than the status ones is a data request: it is counted, can be
refused by the fault settings (dying, starting up, too many in flight, drawn faults), waits the
added latency, and is answered by its endpoint. /sim/stats and /sim/reset-stats are the
simulator's own control endpoints, outside the API namespaces.
"""
import itertools
import json
import sys
import threading
import time
import traceback
from collections import namedtuple
from urllib.parse import parse_qsl, urlsplit

from . import v2, v3
from .cache import ByteLRU
from .dataset import Dataset
from .faults import Throttle
from .pages import PageStore
from .replies import HttpError, Reply, no_data, text
from .stats import Stats

Settings = namedtuple("Settings", "seed preset tick_limit page_expire_ms v3_only data_start cache_mb")
STATUS_PATHS = v2.STATUS_PATHS | v3.STATUS_PATHS
GREEKS_PATHS = v2.GREEKS_PATHS | v3.GREEKS_PATHS


class Terminal:
    def __init__(self, settings, faults, die):
        self.settings = settings
        self.faults = faults
        self._die = die
        half_budget = settings.cache_mb << 19
        self.dataset = Dataset(settings.seed, settings.preset, settings.data_start, half_budget)
        self._bodies = ByteLRU(half_budget)
        self.pages = PageStore(settings.page_expire_ms)
        self.stats = Stats()
        self.throttle = Throttle(faults.bandwidth) if faults.bandwidth else None
        self._started = time.monotonic()
        self._numbers = itertools.count(1)
        self._numbers_lock = threading.Lock()

    # -- used by the endpoints ------------------------------------------------------------
    def block(self, root, day, expiration, interval_ms, rth, missing=None):
        """The rows of ROOT EXPIRATION on DAY, or 472 when the terminal has none."""
        args = (missing,) if missing else ()
        if (root, expiration) in self.faults.no_data or expiration not in self.dataset.expirations(root, day):
            raise no_data(*args)
        return self.dataset.block(day, root, expiration, interval_ms, rth)

    def check_size(self, rows):
        if self.faults.large_over and rows > self.faults.large_over:
            raise HttpError(570, f"the request covers {rows} rows, more than {self.faults.large_over}; "
                                 "split it by time window or strike range")

    def body(self, key, render):
        """RENDER() (a list of bytes parts), kept in the body cache under KEY unless KEY is None."""
        if key is None:
            return render()
        return self._bodies.get(key, render, lambda parts: sum(len(p) for p in parts))

    # -- requests -------------------------------------------------------------------------
    def starting(self):
        return time.monotonic() - self._started < self.faults.starting_seconds

    def handle(self, method, target, host):
        """The Reply to METHOD TARGET (path and query) sent to HOST (host:port)."""
        split = urlsplit(target)
        path, query = split.path, dict(parse_qsl(split.query, keep_blank_values=True))
        try:
            if path.startswith("/sim/"):
                return self._control(path)
            if self.settings.v3_only and path.startswith("/v2/"):
                raise HttpError(410, "this terminal speaks v3 only; use the /v3 endpoints")
            if path in STATUS_PATHS:
                return text(200, "DISCONNECTED" if self.starting() else "CONNECTED")
            endpoint = v2.route(path) or v3.route(path)
            if endpoint is None or method != "GET":
                raise HttpError(404, f"no such request: {method} {path}")
        except HttpError as exc:
            return exc.reply()
        return self._data(endpoint, path, query, host)

    def _data(self, endpoint, path, query, host):
        in_flight = self.stats.data_begin()
        with self._numbers_lock:
            number = next(self._numbers)
        try:
            reply = self._answer(number, in_flight, endpoint, path, query, host)
        except BaseException:
            self.stats.data_end()
            raise
        reply.in_flight = True
        return reply

    def _answer(self, number, in_flight, endpoint, path, query, host):
        faults, seed = self.faults, self.settings.seed
        if faults.die_after is not None and number > faults.die_after:
            self._die(f"dying on data request {number} (--die-after {faults.die_after})")
        try:
            if self.starting():
                raise HttpError(571, "the terminal is starting; retry shortly")
            if faults.max_in_flight and in_flight > faults.max_in_flight:
                raise HttpError(429, f"{in_flight} requests in flight, more than {faults.max_in_flight}")
            drawn = faults.draw(seed, number, path in GREEKS_PATHS)
            if drawn == "reset":
                self.stats.fault("reset")
                reply = Reply()
                reply.reset = True
                return reply
            if drawn:
                self.stats.fault(drawn)
                raise HttpError(drawn, "injected fault")
            if faults.latency_ms:
                time.sleep(faults.latency_ms / 1000)
            reply = endpoint(self, query, host)
        except HttpError as exc:
            return exc.reply()
        except Exception as exc:      # a simulator bug: say so, keep serving
            traceback.print_exc(file=sys.stderr)
            return text(500, f"UNCAUGHT_ERROR: {type(exc).__name__}: {exc}")
        fraction = faults.truncation(seed, number) if reply.status == 200 else None
        if fraction is not None:
            self.stats.fault("truncate")
            reply.truncate_at = int(reply.length * fraction)
        return reply

    def release(self, reply):
        """REPLY's last bytes go out next: from then on the client may hold the whole body and
        send its next request before this thread returns, so it no longer counts as in flight."""
        if reply.in_flight:
            reply.in_flight = False
            self.stats.data_end()

    def done(self, reply, target, status, body_bytes):
        """After REPLY was sent (or abandoned): count it."""
        self.release(reply)
        path = urlsplit(target).path
        if path.startswith(v2.PAGE_PREFIX):
            path = v2.PAGE_PREFIX + "{id}"
        if not path.startswith("/sim/"):
            self.stats.record(path, status, body_bytes)

    def _control(self, path):
        if path == "/sim/stats":
            return Reply(200, [json.dumps(self.stats.snapshot()).encode()], "application/json")
        if path == "/sim/reset-stats":
            self.stats.reset()
            return text(200, "OK")
        raise HttpError(404, f"no such simulator control: {path} (try /sim/stats or /sim/reset-stats)")
