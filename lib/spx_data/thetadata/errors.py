"""What each Theta Terminal HTTP status means to spx-data (API reference §6, DESIGN §6).

The terminal answers errors with an HTTP status and a short text body. `error_for` turns a non-200
reply into one of the classes of spx_data.errors, with a message that says what to do:
472 is "no data" (callers treat it as an empty result), 429/474/571 and 5xx are worth retrying,
570 means "ask for less", 477 means "the page is gone, start the request again", and the rest are
rejections that no retry can fix.
"""
from ..errors import (ApiConnectionError, ApiDataNotFoundError, ApiLargeRequestError, ApiRateLimitError,
                      ApiRequestRejectedError, ApiResponseInvalidError)

NAMES = {404: "NO_IMPL", 410: "GONE", 429: "OS_LIMIT", 470: "GENERAL", 471: "PERMISSION", 472: "NO_DATA",
         473: "INVALID_PARAMS", 474: "DISCONNECTED", 475: "TERMINAL_PARSE", 476: "WRONG_IP",
         477: "NO_PAGE_FOUND", 478: "INVALID_SESSION_ID", 570: "LARGE_REQUEST", 571: "SERVER_STARTING",
         572: "UNCAUGHT_ERROR"}

_REJECTED = {
    404: "the terminal has no such endpoint: is {base} a Theta Terminal, and an up-to-date one? ({url})",
    410: "the terminal no longer serves v2 paths: set thetadata.apiVersion to v3 or auto",
    470: "the terminal reported a general error for {url}: {body}",
    471: "your subscription does not include option greeks (Standard or Pro)",
    473: "the terminal rejected the request's parameters: {url} ({body})",
    475: "the terminal could not parse the request (update the Theta Terminal): {url}",
    476: "the terminal saw a second host name: use one host name in thetadata.baseUrl "
         "(127.0.0.1 or localhost, not both) and restart the terminal",
    478: "another terminal is running with the same credentials: stop the other one",
    572: "the terminal hit an uncaught error; send this exact request to ThetaData support: {url}",
}


def describe(status):
    name = NAMES.get(status)
    return f"{status} {name}" if name else str(status)


def error_for(status, url, body=b"", base=""):
    """The exception for a non-200 reply (never raised here: the caller decides)."""
    text = body[:200].decode("utf-8", "replace").strip() if body else ""
    label = describe(status)
    if status == 472:
        return ApiDataNotFoundError(f"no data ({label}): {text or url}", status, url)
    if status == 429:
        return ApiRateLimitError(f"the terminal is busy ({label})", status, url)
    if status in (474, 571):
        what = "lost its connection to ThetaData" if status == 474 else "is starting"
        return ApiConnectionError(f"the terminal {what} ({label})", status, url)
    if status == 570:
        return ApiLargeRequestError(f"the request is too large ({label}): {url}", status, url)
    if status == 477:
        return ApiResponseInvalidError(f"a page expired before it was read ({label}); "
                                       "the request starts again", status, url)
    if status in _REJECTED:
        message = _REJECTED[status].format(base=base, url=url, body=text)
        return ApiRequestRejectedError(f"{message} ({label})", status, url)
    if 500 <= status < 600:
        return ApiConnectionError(f"the terminal failed ({label}): {text}", status, url)
    return ApiRequestRejectedError(f"the terminal refused {url} ({label}): {text}", status, url)
