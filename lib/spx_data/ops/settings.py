"""The effective configuration for the commands that diagnose problems (status, health): they
must still answer when the database holding the stored values cannot be read."""
from .. import config
from ..errors import DatabaseError


def effective(overrides=None):
    """(cfg, problems, database_error): config.resolve's answer; when the database is unreadable,
    the defaults and environment without stored values, and spx-log's message."""
    try:
        cfg, problems = config.resolve(overrides)
        return cfg, problems, None
    except DatabaseError as exc:
        cfg, problems = config.resolve(overrides, stored={})
        return cfg, problems, str(exc)
