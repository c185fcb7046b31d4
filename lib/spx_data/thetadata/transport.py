"""HTTP to the Theta Terminal: keep-alive sessions, timeouts, request slots, whole bodies.

`Transport.get` holds one machine-wide request slot (spx_data.slots) for the whole request, body
included, and returns the complete body: a reply is either whole or an ApiConnectionError
(connection refused, reset, timeout, a body shorter than its Content-Length). Status codes are not
interpreted here. Every URL is sent to the one host of the base URL, including the absolute
next-page URLs the terminal hands out, because switching host names gets 476 WRONG_IP.
"""
import threading
import time
from urllib.parse import urlencode, urlsplit, urlunsplit

from ..errors import ApiConnectionError, ThetaTerminalNotRunningError

_CHUNK = 1 << 20
NOT_RUNNING_HINT = "start it, or `spx-sim` for the simulator"


class Reply:
    __slots__ = ("status", "headers", "body", "url", "latency_ms")

    def __init__(self, status, headers, body, url, latency_ms):
        self.status = status
        self.headers = headers
        self.body = body
        self.url = url
        self.latency_ms = latency_ms


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
        url = self.url(path_or_url, params)
        with self.slots.hold(cancel):
            started = time.monotonic()
            status, headers, body = self._fetch(url)
            latency_ms = round((time.monotonic() - started) * 1000, 1)
        return Reply(status, headers, body, url, latency_ms)

    def _fetch(self, url):
        import requests
        try:
            with self._session().get(url, stream=True, timeout=self.timeout) as response:
                body = bytearray()  # grown in place: no second copy of a large body
                for chunk in response.iter_content(_CHUNK):
                    body += chunk
                headers = response.headers
                status = response.status_code
        except requests.exceptions.ConnectTimeout:
            raise ApiConnectionError(f"no connection to {self.base_url} within {self.timeout[0]:g} s", url=url) from None
        except requests.exceptions.Timeout:
            raise ApiConnectionError(f"the terminal did not answer within {self.timeout[1]:g} s", url=url) from None
        except (requests.exceptions.RequestException, OSError) as exc:  # resets, broken chunks, refusals
            if _refused(exc):
                raise ThetaTerminalNotRunningError(
                    f"is the Theta Terminal running at {self.base_url}? ({NOT_RUNNING_HINT})", url=url) from None
            raise ApiConnectionError(f"the connection to the terminal failed: {_reason(exc)}", url=url) from None
        expected = headers.get("Content-Length")
        if expected is not None and "Content-Encoding" not in headers and expected.isdigit() \
                and int(expected) != len(body):
            raise ApiConnectionError(f"truncated reply: {len(body)} of {expected} bytes", status, url)
        return status, headers, body


def _refused(exc):
    cause = exc
    while cause is not None:
        if isinstance(cause, ConnectionRefusedError):
            return True
        cause = cause.__cause__ or cause.__context__
    return "Connection refused" in str(exc)


def _reason(exc):
    return str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
