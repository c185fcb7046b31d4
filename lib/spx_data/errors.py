"""The typed error hierarchy (PRD "Typed Error Hierarchy") and the exit codes it maps to.

`error_type` is what lands in processing_log.error_type / error_log.error_type: the class name
without its "Error" suffix, e.g. ApiRateLimit, InsufficientDiskSpace, Interrupted.
"""
import errno

EXIT_OK = 0
EXIT_FAILURE = 1        # the job ran and failed (a date failed, a check found a problem)
EXIT_USAGE = 2          # bad usage or bad input: argv, dates, config keys/values, malformed NDJSON
EXIT_DATABASE = 3       # the status database is missing, unwritable, corrupt or from a newer version
EXIT_TERMINAL = 4       # the Theta Terminal is unreachable or refused the request
EXIT_DISK = 5           # not enough free disk space
EXIT_INTERRUPTED = 130  # SIGINT (SIGTERM exits 143)


class SpxError(Exception):
    exit_code = EXIT_FAILURE
    retryable = False

    @property
    def error_type(self):
        name = type(self).__name__
        return name[:-5] if name.endswith("Error") else name


# -- bad input: exit 2, never retried -------------------------------------------------------
class UsageError(SpxError):
    exit_code = EXIT_USAGE


class DateValidationError(UsageError):
    pass


class ConfigurationValidationError(UsageError):
    pass


class SchemaValidationError(UsageError):
    """Malformed records on stdin (garbage NDJSON, missing fields, wrong types)."""


class IncompleteInputError(SpxError):
    """An input ended before it delivered what it announced (exit 1: the producer failed)."""


# -- Theta Terminal ---------------------------------------------------------------------------
class ThetaDataError(SpxError):
    exit_code = EXIT_TERMINAL

    def __init__(self, message, status=None, url=None):
        super().__init__(message)
        self.status = status
        self.url = url


class ApiRateLimitError(ThetaDataError):          # 429 OS_LIMIT / queue full
    retryable = True


class ApiConnectionError(ThetaDataError):         # resets, truncated bodies, timeouts, 474, 571
    retryable = True


class ThetaTerminalNotRunningError(ApiConnectionError):  # connection refused
    pass


class ApiDataNotFoundError(ThetaDataError):       # 472: an empty result, handled by callers
    pass


class ApiLargeRequestError(ThetaDataError):       # 570: split the request
    pass


class ApiResponseInvalidError(ThetaDataError):    # unparseable body, unexpected shape
    retryable = True


class ApiRequestRejectedError(ThetaDataError):    # 471/473/476/478/404/410…: fail fast
    pass


# -- files ------------------------------------------------------------------------------------
class FileSystemError(SpxError):
    pass


class InsufficientDiskSpaceError(FileSystemError):
    exit_code = EXIT_DISK


class FileCorruptionError(FileSystemError):
    pass


class PermissionDeniedError(FileSystemError):
    pass


def filesystem_error(exc, path):
    """The SpxError for an OSError while writing PATH (ENOSPC -> exit 5)."""
    text = f"cannot write {path}: {exc.strerror or exc}"
    if getattr(exc, "errno", None) == errno.ENOSPC or "No space left" in str(exc):  # pyarrow drops errno
        return InsufficientDiskSpaceError(text)
    if isinstance(exc, PermissionError):
        return PermissionDeniedError(text)
    return FileSystemError(text)


class ProcessingLockedError(SpxError):
    """Another process holds this date."""


# -- database ---------------------------------------------------------------------------------
class DatabaseError(SpxError):
    exit_code = EXIT_DATABASE


class DatabaseConnectionError(DatabaseError):
    pass


class DatabaseSchemaError(DatabaseError):
    pass


class DatabaseTransactionError(DatabaseError):
    pass


class Interrupted(SpxError):
    """Raised from SIGINT/SIGTERM so that `finally` blocks run; exits 128 + signal number."""

    def __init__(self, signum=2):
        super().__init__("interrupted")
        self.signum = signum
        self.exit_code = 128 + signum
