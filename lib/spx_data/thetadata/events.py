"""Where spx-expirations and spx-fetch send their events (DESIGN §2): to an NDJSON stream, one
flushed line each so that a reader can follow along (e.g. --events /dev/fd/3), or, when nobody
records them, as one note on stderr per retried error."""
from .. import ndjson
from ..cli import warn
from ..errors import UsageError


def to_stream(stream):
    def emit(event):
        ndjson.write(stream, event)
        stream.flush()
    return emit


def open_file(path):
    """(emit, close) for an events file named on the command line."""
    try:
        handle = open(path, "w", encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot write events to {path}: {exc.strerror}") from None
    return to_stream(handle), handle.close


def dated(emit, day):
    """EMIT, giving events of no day of their own (the terminal's status check) the date DAY."""
    def send(event):
        emit(event if "date" in event else dict(event, date=day))
    return send


def notes(prog):
    """Errors as stderr notes; other events are dropped."""
    def emit(event):
        if event["event"] == "error":
            context = event.get("context_data") or {}
            where = " ".join(filter(None, [context.get("root"), context.get("expiration")]))
            warn(prog, f"{where + ': ' if where else ''}{event['error_message']} (retry {event['retry_attempt']})")
    return emit
