"""One client over Theta Terminal v2 and v3.

    client = ThetaClient.from_config(cfg, on_retry=...)
    client.expirations(day, ["SPXW", "SPX"])          -> [("SPXW", date), ...]
    client.fetch_expiration(day, "SPXW", exp, out)    -> FetchStats; NDJSON tick rows written to OUT

The API version is `auto` (v3 status endpoint, then v2's; a 410 on v2 means v3), `v2` or `v3`,
decided once per client. A fetch follows every page, retries by error type (DESIGN §6) and writes
rows to OUT as each reply arrives (whole lines of CSV and NDJSON a block at a time, a JSON
document once complete); whatever a failed attempt wrote is cut off again (OUT must be
seekable), so a retried or split request still writes every row exactly once.
"""
import threading
import time
from contextlib import contextmanager

from ..errors import (ApiConnectionError, ApiDataNotFoundError, ApiLargeRequestError, ApiRequestRejectedError,
                      ApiResponseInvalidError, ThetaDataError, ThetaTerminalNotRunningError)
from ..slots import Cancelled, RequestSlots
from . import formats, rows
from .errors import error_for
from .retry import backoff_seconds
from .transport import Transport
from .v2 import V2Api
from .v3 import V3Api

APIS = {"v2": V2Api, "v3": V3Api}
REGULAR_SESSION = (34_200_000, 57_600_000)   # 09:30:00.000 .. 16:00:00.000, the terminals' default window
MINUTE_MS = 60_000
PAGE_GONE = 477          # NO_PAGE_FOUND: a v2 page expired or never existed


class FetchStats:
    """What one expiration cost: rows written, HTTP requests made, bytes received, latencies."""

    def __init__(self):
        self.rows = 0
        self.requests = 0
        self.bytes = 0
        self.latency_ms = []
        self.seconds = 0.0


class _Part:
    """One request's worth of an expiration: the whole chain, or a time window, or one strike."""

    def __init__(self, day, root, expiration, window=None, contract=None):
        self.day, self.root, self.expiration = day, root, expiration
        self.window, self.contract = window, contract

    def context(self):
        context = {"date": self.day.isoformat(), "root": self.root, "expiration": self.expiration.isoformat()}
        if self.window:
            context["window_ms"] = list(self.window)
        if self.contract:
            context["strike"] = self.contract[0]
        return context


class ThetaClient:
    def __init__(self, base_url, api_version="auto", response_format="csv", interval_ms=60000,
                 max_concurrent=4, connect_timeout=5.0, request_timeout=120.0, max_retries=6,
                 retry_base_seconds=1.0, on_retry=None, cancel=None, transport=None):
        self.transport = transport or Transport(base_url, RequestSlots(max_concurrent, base_url),
                                                connect_timeout, request_timeout)
        self.api_version = api_version
        self.response_format = response_format
        self.interval_ms = interval_ms
        self.max_retries = max_retries
        self.retry_base_seconds = retry_base_seconds
        self.on_retry = on_retry or (lambda event: None)
        self.cancel = cancel or threading.Event()
        self._api = None
        self._api_lock = threading.Lock()
        self._strikes = {}

    @classmethod
    def from_config(cls, cfg, **kwargs):
        return cls(cfg["thetadata.baseUrl"], cfg["thetadata.apiVersion"], cfg["thetadata.responseFormat"],
                   cfg["processing.intervalMs"], cfg["thetadata.maxConcurrentRequests"],
                   cfg["thetadata.connectTimeoutSeconds"], cfg["thetadata.requestTimeoutSeconds"],
                   cfg["thetadata.maxRetries"], cfg["thetadata.retryBaseSeconds"], **kwargs)

    # -- retries ----------------------------------------------------------------------------
    def _retrying(self, action, context, fatal=lambda exc: False):
        """ACTION() until it succeeds, a non-retryable or FATAL(exc) error, or maxRetries retries."""
        retry = 0
        while True:
            try:
                return action()
            except ThetaDataError as exc:
                if not exc.retryable or fatal(exc) or retry >= self.max_retries:
                    raise
                retry += 1
                delay = backoff_seconds(retry, self.retry_base_seconds)
                self._report(exc, retry, dict(context, delay_seconds=round(delay, 3)))
                if self.cancel.wait(delay):
                    raise Cancelled() from None

    def _report(self, exc, retry, context):
        """One error event (DESIGN §2) for a retried or split request; the day, if known, on top."""
        context = dict(context, url=exc.url, status=exc.status)
        day = context.pop("date", None)
        event = {"event": "error", **({"date": day} if day else {}), "error_type": exc.error_type,
                 "error_message": str(exc), "retry_attempt": retry, "context_data": context}
        self.on_retry(event)

    @contextmanager
    def _open(self, path, params=None, stats=None, next_page=False):
        """One request as a Stream whose status is 200; the error of any other status is raised.
        NEXT_PAGE: "no data" is an answer for a request, not for page 2."""
        if self.cancel.is_set():
            raise Cancelled()
        if stats is not None:
            stats.requests += 1
        reply = None
        try:
            with self.transport.stream(path, params, self.cancel) as reply:
                if reply.status != 200:
                    error = error_for(reply.status, reply.url, reply.read(), self.transport.base_url)
                    if next_page and isinstance(error, ApiDataNotFoundError):
                        error = ApiResponseInvalidError(f"a next page answered no data: {error}", error.status,
                                                        error.url)
                    raise error
                yield reply
        finally:
            if stats is not None and reply is not None:
                stats.bytes += reply.received
                stats.latency_ms.append(reply.latency_ms)

    # -- the API version --------------------------------------------------------------------
    def api(self):
        """The v2 or v3 request/parse set, decided (and the terminal's status checked) once."""
        with self._api_lock:
            if self._api is None:
                # A terminal that is not running at all is said at once; one that is starting
                # (571, DISCONNECTED) is waited for.
                version = self._retrying(self._detect, {"action": "status"},
                                         fatal=lambda exc: isinstance(exc, ThetaTerminalNotRunningError))
                self._api = APIS[version](self.response_format, self.interval_ms)
            return self._api

    @property
    def version(self):
        return self.api().version

    def _detect(self):
        if self.api_version in APIS:
            api = APIS[self.api_version]
            reply = self.transport.get(api.status_path, cancel=self.cancel)
            if reply.status != 200:
                raise error_for(reply.status, reply.url, reply.body, self.transport.base_url)
            _check_status_body(reply)
            return api.version
        reply = self.transport.get(V3Api.status_path, cancel=self.cancel)
        if reply.status == 200:
            _check_status_body(reply)
            return "v3"
        if reply.status not in (404, 410):
            raise error_for(reply.status, reply.url, reply.body, self.transport.base_url)
        reply = self.transport.get(V2Api.status_path, cancel=self.cancel)
        if reply.status == 410:
            return "v3"
        if reply.status != 200:
            raise error_for(reply.status, reply.url, reply.body, self.transport.base_url)
        _check_status_body(reply)
        return "v2"

    # -- lists ------------------------------------------------------------------------------
    def _all_pages(self, path, params, parse, stats=None):
        found, page = [], 0
        while path:
            with self._open(path, params, stats, next_page=page > 0) as reply:
                items, path = parse(formats.whole(reply))
            found.extend(items)
            params, page = None, page + 1
        return found

    def expirations(self, day, roots):
        """[(root, expiration date)] quoted on DAY, in ROOTS order then by expiration; [] for 472."""
        api = self.api()
        path, params = api.contracts_request(day, roots)

        def listing():
            try:
                return self._all_pages(path, params, api.parse_contracts)
            except ApiDataNotFoundError:
                return []
        pairs = self._retrying(listing, {"action": "list contracts", "date": day.isoformat()})
        order = {root: index for index, root in enumerate(roots)}
        return sorted({pair for pair in pairs if pair[0] in order}, key=lambda p: (order[p[0]], p[1]))

    def _strikes_of(self, part, stats):
        key = (part.root, part.expiration)
        if key not in self._strikes:
            api = self.api()
            path, params = api.strikes_request(part.root, part.expiration)
            self._strikes[key] = self._retrying(lambda: self._all_pages(path, params, api.parse_strikes, stats),
                                                dict(part.context(), action="list strikes"))
        return self._strikes[key]

    # -- greeks -----------------------------------------------------------------------------
    def fetch_expiration(self, day, root, expiration, out, on_table=None):
        """Write every tick row of (ROOT, EXPIRATION) on DAY to OUT (binary, seekable) as NDJSON;
        ON_TABLE(table) is called with each table of rows (rows.TICK_SCHEMA) once it is written."""
        stats = FetchStats()
        started = time.monotonic()
        self.api()
        stats.rows = self._fetch_part(_Part(day, root, expiration), out, stats, on_table)
        stats.seconds = round(time.monotonic() - started, 3)
        return stats

    def _fetch_part(self, part, out, stats, on_table):
        """Rows written for PART: retried as a whole, split on 570, empty on 472."""
        start = out.tell()

        def attempt():
            try:
                return self._pages_of(part, out, stats, on_table)
            except ApiDataNotFoundError:
                _cut(out, start)
                return 0
            except BaseException:
                _cut(out, start)
                raise

        try:
            return self._retrying(attempt, part.context())
        except ApiLargeRequestError as exc:
            pieces = self._split(part, exc, stats)
            self._report(exc, 0, dict(part.context(), action=f"split into {len(pieces)} requests"))
            return sum(self._fetch_part(piece, out, stats, on_table) for piece in pieces)

    def _pages_of(self, part, out, stats, on_table):
        api = self.api()
        path, params = api.greeks_request(part.day, part.root, part.expiration, part.window, part.contract)
        written, page = 0, 0

        def emit(table):
            nonlocal written
            rows.write(out, table, part.day, part.root, part.expiration)
            written += table.num_rows
            if on_table is not None:
                on_table(table)

        def one_page():
            # Rows are written as the reply arrives; a failure later in it is cut off again.
            nonlocal written
            start, before = out.tell(), written
            try:
                with self._open(path, params, stats, next_page=page > 0) as reply:
                    return api.read_greeks(reply, part.day, part.root, part.expiration, part.contract, emit)
            except BaseException:
                _cut(out, start)
                written = before
                raise
        while path:
            # The first page is retried with the whole part (_fetch_part). A later page is retried
            # on its own, so faults on a long chain of pages cannot restart it from page 1 over
            # and over; only 477 (the page is gone) hands the restart back to the part.
            path = one_page() if page == 0 else self._retrying(one_page, dict(part.context(), page=page),
                                                                 fatal=lambda exc: exc.status == PAGE_GONE)
            params, page = None, page + 1
        return written

    def _split(self, part, exc, stats):
        """Halves of PART's time window on whole intervals; a window of one interval goes strike
        by strike; one strike in one interval that is still too large is a failure."""
        first, last = part.window or REGULAR_SESSION
        step = max(self.interval_ms, MINUTE_MS)
        starts = (last - first) // step + 1   # interval starts inside the window
        if starts >= 2:
            middle = first + starts // 2 * step
            return [_Part(part.day, part.root, part.expiration, (first, middle - 1), part.contract),
                    _Part(part.day, part.root, part.expiration, (middle, last), part.contract)]
        if part.contract is None:
            api = self.api()
            return [_Part(part.day, part.root, part.expiration, (first, last), contract)
                    for strike in self._strikes_of(part, stats)
                    for contract in api.contracts_of_strike(strike)]
        raise ApiLargeRequestError(f"{exc} — even one strike in one interval is too large for this terminal",
                                   exc.status, exc.url)


def _cut(out, position):
    out.seek(position)
    out.truncate()


def _check_status_body(reply):
    status = reply.body.decode("utf-8", "replace").strip().strip('"')
    if status == "CONNECTED":
        return
    if status == "UNVERIFIED":
        raise ApiRequestRejectedError("the terminal could not verify your ThetaData credentials (UNVERIFIED): "
                                      "check the login in the terminal's creds file", reply.status, reply.url)
    raise ApiConnectionError(f"the terminal is not connected to ThetaData ({status or 'empty status'})",
                             reply.status, reply.url)
