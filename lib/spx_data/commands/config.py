"""spx-data config — show, change, check and reset the configuration.

Usage:
  spx-data config get [--format F] [--db PATH] [KEY]
  spx-data config get --history [--format F] [--db PATH] [KEY]
  spx-data config set [--db PATH] [--] KEY VALUE
  spx-data config validate [--db PATH]
  spx-data config reset [--yes] [--db PATH]
  spx-data config (-h | --help)

get shows each key's effective value and where it came from. Precedence, lowest first:
  default      the built-in default (below)
  database     stored by `spx-data config set` (validated first; every change is kept,
               see `config get --history`)
  environment  SPX_DATA_<SECTION>_<KEY>, e.g. SPX_DATA_THETADATA_BASEURL=http://127.0.0.1:25503
  option       a command's own options, e.g. `spx-data process --base-url URL`
database.path is never stored: it comes from --db, SPX_DATA_DATABASE_PATH or the default.
validate checks every effective value (directories writable, start date set and not in the
future, ...) and exits 1 listing each problem. reset puts every key back to its default after
asking on the terminal; --yes skips the question; without a terminal it refuses unless --yes.

Options:
  --format F   table, json or env (key=value lines) [default: table]
  --history    show every change: key, old value, new value, when, by whom
  --yes        reset without asking
  --db PATH    the status database (default: $SPX_DATA_DATABASE_PATH or ./data/spx-pipeline.db)
  -h --help    show this help

Exit status: 0 ok, 1 validate found problems or reset was declined, 2 unknown key, bad value or
bad usage, 3 database missing, unwritable, corrupt or from a newer spx-data.

Keys (default; valid values):
"""

from .. import config
from ..cli import run, warn

PROG = "spx-data config"
FORMATS = ("table", "json", "env")


def _keys_help():
    lines = []
    for key in config.KEYS.values():
        default = key.default if key.default != "" else "(unset)"
        lines.append(f"  {key.name} = {default}\n      {key.description}; {key.hint}; env {key.env_name}")
    return "\n".join(lines) + "\n"


__doc__ += _keys_help()


def handle(args):
    db = args["--db"]
    if args["get"]:
        return (history if args["--history"] else show)(db, args["KEY"], args["--format"])
    if args["set"]:
        return set_value(db, args["KEY"], args["VALUE"])
    if args["validate"]:
        return validate(db)
    return reset(db, args["--yes"])


def _render(records, fmt, columns):
    from .. import tables
    tables.check_format(fmt, FORMATS)
    if fmt == "env":  # key=value, as the issue asks (tables' env format upper-cases column names)
        for record in records:
            print(f"{record['key']}={record['value'] if 'value' in record else record['new_value']}")
        return
    tables.render(records, fmt, columns=columns)


def show(db, key, fmt):
    if key is not None:
        config.key_of(key)
    cfg = config.load(db=db)
    records = [r for r in cfg.records() if key is None or r["key"] == key]
    if fmt == "json":  # typed values for machines: numbers as numbers, roots as a list, unset as null
        records = [{**r, "value": _json_value(cfg[r["key"]])} for r in records]
    _render(records, fmt, ["key", "value", "source"])
    return 0


def _json_value(value):
    return value.isoformat() if hasattr(value, "isoformat") else value


def history(db, key, fmt):
    from .. import logclient
    if key is not None:
        config.key_of(key)
    rows = logclient.query("config-history", db=db, key=key)
    if not rows:
        warn(PROG, "no configuration changes yet" if key is None else f"no changes of {key} yet")
    _render(rows, fmt, ["key", "old_value", "new_value", "changed_at", "changed_by"])
    return 0


def set_value(db, key, value):
    from .. import logclient
    config.check_storable(key)
    config.validate(key, value)  # here first: a clear message without a subprocess round trip
    change = logclient.config_set(key, value, db=db)
    warn(PROG, f"{key} = {change['new_value']} (was {change['old_value']!r})")
    env_name = config.key_of(key).env_name
    cfg = config.load(db=db)
    if cfg.source(key) == "environment":
        warn(PROG, f"note: {env_name} is set and overrides the stored value ({cfg.text(key)})")
    return 0


def validate(db):
    cfg, problems = config.resolve(db=db)
    problems += config.problems(cfg)
    for problem in problems:
        warn(PROG, problem)
    if problems:
        warn(PROG, f"{len(problems)} problem{'s' if len(problems) != 1 else ''} found")
        return 1
    warn(PROG, "configuration is valid")
    return 0


def reset(db, yes):
    from .. import logclient
    from ..ops.confirm import confirm
    if not yes and not confirm("Reset every configuration key to its default?",
                               "refusing to reset the configuration without confirmation: pass --yes "
                               "(stdin is not a terminal)"):
        warn(PROG, "reset cancelled; nothing changed")
        return 1
    changes = logclient.config_reset(db=db)
    for change in changes:
        warn(PROG, f"{change['key']} = {change['new_value']!r} (was {change['old_value']!r})")
    warn(PROG, f"reset: {len(changes)} key{'s' if len(changes) != 1 else ''} changed")
    return 0


def main(argv=None):
    run(PROG, __doc__, handle, argv)
