"""Ask the user before something risky: on /dev/tty when stdin is a terminal, never from a pipe."""
import sys

from ..errors import UsageError


def confirm(question, refusal):
    """True when the user answers y/yes on the terminal. Without a terminal (a pipe, cron, CI)
    raise UsageError(REFUSAL) — REFUSAL should say to pass --yes."""
    if not sys.stdin.isatty():
        raise UsageError(refusal)
    # Two handles: a terminal is not seekable, which a text file opened "r+" insists on.
    with open("/dev/tty", "w", encoding="utf-8") as out, open("/dev/tty", encoding="utf-8") as answer:
        out.write(f"{question} [y/N] ")
        out.flush()
        return answer.readline().strip().lower() in ("y", "yes")
