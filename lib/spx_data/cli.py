"""The one wrapper every command runs under.

- docopt usage strings are the --help text; a usage error prints the usage and exits 2
  (docopt itself would exit 1);
- `| head` ends quietly: a closed stdout is not an error and prints no traceback;
- SIGINT and SIGTERM raise `Interrupted`, so `finally` blocks clean up, then exit 128+signal;
- any SpxError prints one line `spx-<cmd>: <message>` on stderr and exits with its code;
- anything unexpected prints one line too; the traceback only with --debug or SPX_DATA_DEBUG=1.
"""
import os
import signal
import sys

from docopt import DocoptExit, docopt

from . import __version__
from .errors import EXIT_FAILURE, EXIT_USAGE, Interrupted, SpxError, UsageError


def _ignore(_signum, _frame):
    pass


def _raise_interrupted(signum, _frame):
    # Further signals are swallowed while cleaning up: a second Ctrl-C (or the SIGTERM a parent
    # sends right after it) must not abort the cleanup. A Python no-op, not SIG_IGN: a signal
    # already pending would otherwise surface as "OSError: Signal 15 ignored due to race condition".
    signal.signal(signal.SIGINT, _ignore)
    signal.signal(signal.SIGTERM, _ignore)
    raise Interrupted(signum)


def install_signal_handlers():
    signal.signal(signal.SIGINT, _raise_interrupted)
    signal.signal(signal.SIGTERM, _raise_interrupted)


def warn(prog, message):
    """One diagnostic line on stderr."""
    print(f"{prog}: {message}", file=sys.stderr, flush=True)


def whole_number(text, option, low=1, high=None):
    """OPTION's whole-number value (None when not given); a usage error (exit 2) otherwise."""
    if text is None:
        return None
    if not text.isdigit() or int(text) < low or (high is not None and int(text) > high):
        bounds = f"from {low} to {high}" if high is not None else f"of at least {low}"
        raise UsageError(f"{option} must be a whole number {bounds}, not {text!r}")
    return int(text)


def parse(prog, doc, argv, options_first=False):
    """docopt, with usage errors turned into one line plus the usage, exit 2."""
    try:
        return docopt(doc, argv=argv, default_help=True, version=__version__, options_first=options_first)
    except DocoptExit as exc:
        left = " ".join(str(getattr(p, "value", None) if getattr(p, "name", None) is None else p.name)
                        for p in exc.left)
        warn(prog, f"unexpected arguments: {left}" if left else "invalid usage (see --help)")
        print(exc.usage.strip(), file=sys.stderr)
        raise SystemExit(EXIT_USAGE) from None


def _report_error(error_type, message, code):
    # A parent process (spx-data process) learns *why* a child failed from this file, not by
    # parsing stderr: SPX_DATA_ERROR_FILE names where to put one JSON line.
    path = os.environ.get("SPX_DATA_ERROR_FILE")
    if path:
        from .ndjson import dumps
        try:
            with open(path, "w", encoding="utf-8") as handle:
                handle.write(dumps({"error_type": error_type, "error_message": message, "exit_code": code}) + "\n")
        except OSError:
            pass


def run(prog, doc, handler, argv=None, options_first=False):
    """Parse argv with DOC, call handler(args) and exit with the code it returns."""
    argv = sys.argv[1:] if argv is None else argv
    debug = "--debug" in argv or os.environ.get("SPX_DATA_DEBUG") == "1"
    argv = [a for a in argv if a != "--debug"]
    # A usage written "spx-data process ...": docopt takes only "spx-data" as the program, so the
    # dispatcher's argv (what follows "process") needs the word back.
    words = prog.split()[1:]
    if words and f"{prog} " in doc and argv[:len(words)] != words:
        argv = words + argv
    install_signal_handlers()
    code = EXIT_FAILURE
    try:
        args = parse(prog, doc, argv, options_first)
        code = handler(args) or 0
        sys.stdout.flush()
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else EXIT_USAGE)
    except BrokenPipeError:
        code = 128 + signal.SIGPIPE
    except Interrupted as exc:
        warn(prog, "interrupted")
        code = exc.exit_code
        _report_error(exc.error_type, "interrupted", code)
    except SpxError as exc:
        message = str(exc).splitlines()[0] if str(exc) else exc.error_type
        warn(prog, message)
        _debug_traceback(debug)
        code = exc.exit_code
        _report_error(exc.error_type, message, code)
    except Exception as exc:  # the last line of defence: one line, never a traceback by default
        message = f"internal error: {type(exc).__name__}: {exc}".splitlines()[0]
        warn(prog, message)
        _debug_traceback(debug)
        code = EXIT_FAILURE
        _report_error("Internal", message, code)
    _quiet_exit(code)


def _debug_traceback(debug):
    if debug:
        import traceback
        traceback.print_exc()


def _quiet_exit(code):
    # A reader that went away (| head) must not make the interpreter print on exit.
    try:
        sys.stdout.flush()
    except (BrokenPipeError, ValueError):
        pass
    try:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except (OSError, ValueError):
        pass
    sys.exit(code)
