"""HTTP replies of the simulated terminal, and its errors: a status with a plain-text body."""

TEXT_TYPE = "text/plain; charset=utf-8"
ERROR_NAMES = {404: "NO_IMPL", 410: "GONE", 429: "OS_LIMIT", 470: "GENERAL", 472: "NO_DATA",
               473: "INVALID_PARAMS", 474: "DISCONNECTED", 477: "NO_PAGE_FOUND",
               570: "LARGE_REQUEST", 571: "SERVER_STARTING"}


class Reply:
    """A response: STATUS, body PARTS (bytes-like, sent back to back), extra HEADERS.

    truncate_at: send only this many body bytes (Content-Length still says the full length),
    then drop the connection. reset: answer nothing and reset the connection."""

    def __init__(self, status=200, parts=(), content_type=TEXT_TYPE, headers=None):
        self.status = status
        self.parts = [p for p in parts if len(p)]
        self.content_type = content_type
        self.headers = dict(headers or {})
        self.truncate_at = None
        self.reset = False
        self.in_flight = False      # counted among the data requests in flight until sent

    @property
    def length(self):
        return sum(len(p) for p in self.parts)


def text(status, body):
    return Reply(status, [body.encode()])


class HttpError(Exception):
    """Raised by an endpoint: the terminal answers STATUS with a one-line text body."""

    def __init__(self, status, message):
        super().__init__(message)
        self.status = status

    def reply(self):
        return text(self.status, f"{ERROR_NAMES.get(self.status, 'ERROR')}: {self}")


def no_data(message="No data for the specified timeframe & contract."):
    return HttpError(472, message)


def invalid(message):
    return HttpError(473, message)
