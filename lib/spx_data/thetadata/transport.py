"""HTTP to the Theta Terminal: keep-alive sessions, timeouts, request slots, streamed bodies.

`Transport.stream` holds one machine-wide request slot (spx_data.slots) for the whole request,
body included, and hands out the body in chunks as they arrive (so a large reply is parsed while
it is being received, and never held whole); the slot is given back as soon as the last byte is
in, so the next request can go out while the end of this one is still being worked on.
`Transport.get` returns the complete body. Either
way a reply is whole or ends in an ApiConnectionError (connection refused, reset, timeout, a
body shorter than its Content-Length). Status codes are not interpreted here. Every URL is sent
to the one host of the base URL, including the absolute next-page URLs the terminal hands out,
because switching host names gets 476 WRONG_IP.
"""
import threading
import time
from contextlib import ExitStack, contextmanager
from urllib.parse import urlencode, urlsplit, urlunsplit

from ..errors import ApiConnectionError, ThetaTerminalNotRunningError
from ..slots import Cancelled

_CHUNK = 1 << 18
NOT_RUNNING_HINT = "start it, or `spx-sim` for the simulator"


class Reply:
    """A whole reply."""
    __slots__ = ("status", "headers", "body", "url", "latency_ms")

    def __init__(self, status, headers, body, url, latency_ms):
        self.status = status
        self.headers = headers
        self.body = body
        self.url = url
        self.latency_ms = latency_ms

    def chunks(self):
        return [self.body] if self.body else []


class Stream:
    """A reply being received: status and headers at once, the body from chunks(), once.
    received: body bytes so far; latency_ms: the request's time until its last byte (or until
    it was given up), set then; ON_COMPLETE() is called once the whole body is in."""

    def __init__(self, response, url, base_url, timeout, cancel, on_complete):
        self.status = response.status_code
        self.headers = response.headers
        self.url = url
        self.received = 0
        self.latency_ms = None
        self._response = response
        self._base_url = base_url
        self._timeout = timeout
        self._cancel = cancel
        self._on_complete = on_complete

    def chunks(self):
        """The body as it arrives; ApiConnectionError when the connection fails or the body ends
        short of its Content-Length, Cancelled once the cancel event is set."""
        import requests
        try:
            for chunk in self._response.iter_content(_CHUNK):
                if self._cancel is not None and self._cancel.is_set():
                    raise Cancelled()
                self.received += len(chunk)
                yield chunk
        except (requests.exceptions.RequestException, OSError) as exc:
            raise _connection_error(exc, self._base_url, self.url, self._timeout) from None
        expected = self.headers.get("Content-Length")
        if expected is not None and "Content-Encoding" not in self.headers and expected.isdigit() \
                and int(expected) != self.received:
            raise ApiConnectionError(f"truncated reply: {self.received} of {expected} bytes", self.status, self.url)
        self._on_complete()

    def read(self):
        """The whole body."""
        body = bytearray()  # grown in place: no second copy of a large body
        for chunk in self.chunks():
            body += chunk
        return body


class Transport:
    def __init__(self, base_url, slots, connect_timeout=5.0, read_timeout=120.0):
        parts = urlsplit(base_url.rstrip("/"))
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"not an http URL: {base_url}")
        self.base_url = urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))
        self._origin = (parts.scheme, parts.netloc)
        self._prefix = parts.path
        self.slots = slots
        self.timeout = (connect_timeout, read_timeout)
        self._local = threading.local()  # one requests.Session per thread: Session is not thread-safe

    def _session(self):
        session = getattr(self._local, "session", None)
        if session is None:
            import requests
            session = self._local.session = requests.Session()
        return session

    def url(self, path_or_url, params=None):
        """An absolute URL on the base URL's host; absolute URLs keep only their path and query."""
        parts = urlsplit(path_or_url)
        path = parts.path if parts.netloc else self._prefix + parts.path
        query = parts.query
        if params:
            query = "&".join(filter(None, [query, urlencode(params, safe=",*:")]))
        return urlunsplit((*self._origin, path, query, ""))

    def get(self, path_or_url, params=None, cancel=None):
        """The complete reply to GET; raises ApiConnectionError when there is none."""
        with self.stream(path_or_url, params, cancel) as reply:
            body = reply.read()
        return Reply(reply.status, reply.headers, body, reply.url, reply.latency_ms)

    @contextmanager
    def stream(self, path_or_url, params=None, cancel=None):
        """GET, holding a request slot until the block ends: yields a Stream."""
        import requests
        url = self.url(path_or_url, params)
        with ExitStack() as slot:
            slot.enter_context(self.slots.hold(cancel))
            started = time.monotonic()
            try:
                response = self._session().get(url, stream=True, timeout=self.timeout)
            except (requests.exceptions.RequestException, OSError) as exc:
                raise _connection_error(exc, self.base_url, url, self.timeout) from None
            with response:
                def complete():   # the whole body is in: the latency, and the slot for the next request
                    reply.latency_ms = round((time.monotonic() - started) * 1000, 1)
                    slot.close()
                reply = Stream(response, url, self.base_url, self.timeout, cancel, complete)
                try:
                    yield reply
                finally:
                    if reply.latency_ms is None:
                        reply.latency_ms = round((time.monotonic() - started) * 1000, 1)


def _connection_error(exc, base_url, url, timeout):
    """The ApiConnectionError for a requests/socket failure of URL."""
    import requests
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return ApiConnectionError(f"no connection to {base_url} within {timeout[0]:g} s", url=url)
    if isinstance(exc, requests.exceptions.Timeout):
        return ApiConnectionError(f"the terminal did not answer within {timeout[1]:g} s", url=url)
    if _refused(exc):
        return ThetaTerminalNotRunningError(f"is the Theta Terminal running at {base_url}? ({NOT_RUNNING_HINT})",
                                            url=url)
    return ApiConnectionError(f"the connection to the terminal failed: {_reason(exc)}", url=url)


def _refused(exc):
    cause = exc
    while cause is not None:
        if isinstance(cause, ConnectionRefusedError):
            return True
        cause = cause.__cause__ or cause.__context__
    return "Connection refused" in str(exc)


def _reason(exc):
    return str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
