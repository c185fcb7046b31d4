"""Configuration: the keys, their defaults and validation, and where each effective value comes from.

Precedence, lowest to highest:  default < database < environment < option
  default      KEYS below (the database's seed rows, owned by 'system', hold the same values)
  database     `spx-data config set KEY VALUE` (a configuration row not owned by 'system')
  environment  SPX_DATA_<SECTION>_<KEY>, e.g. SPX_DATA_THETADATA_BASEURL
  option       command-line options, passed to load(overrides={"thetadata.baseUrl": ...})
database.path is the exception: it names the database, so it is never stored in it; it comes from
--db (load(db=...)), SPX_DATA_DATABASE_PATH or the default.

Validation has two parts: `parse` turns text into a typed value (pure, used on every load), and
`check` looks at the world (a date not in the future, a directory creatable and writable) — run by
`config set` and `config validate`, not on every load.

Stored values are read through spx_data.logclient (spx-log), never from SQLite directly.
"""
import math
import os
import re
from collections.abc import Mapping
from urllib.parse import urlsplit

from .dates import parse_date, today_et
from .errors import ConfigurationValidationError, DateValidationError

SOURCES = ("default", "database", "environment", "option")
DATABASE_PATH = "database.path"
ENV_PREFIX = "SPX_DATA_"

# v3 serves only these intervals (v2 accepts any ms value); both APIs must give the same rows.
INTERVALS_MS = (10, 100, 500, 1000, 5000, 10000, 15000, 30000, 60000, 300000, 600000, 900000, 1800000, 3600000)
KNOWN_ROOTS = ("SPXW", "SPX")


class Key:
    """One configuration key: its DB value_type, default text, description and validators."""

    def __init__(self, name, value_type, default, description, parse, hint, check=None, to_text=str):
        self.name = name
        self.value_type = value_type      # the configuration table's value_type
        self.default = default            # text, as stored
        self.description = description
        self.parse = parse                # text -> typed value, or ValueError(reason)
        self.hint = hint                  # what a valid value looks like
        self.check = check                # typed value -> None, or ValueError(reason) (looks at the world)
        self.to_text = to_text            # typed value -> text, as stored

    @property
    def env_name(self):
        return ENV_PREFIX + self.name.replace(".", "_").upper()


# -- parsers: text -> typed, ValueError(reason) when malformed ------------------------------
def _url(text):
    parts = urlsplit(text.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("not an http:// or https:// URL with a host")
    if parts.query or parts.fragment or parts.path.strip("/"):
        raise ValueError("must be the terminal's base URL only, without path, query or fragment")
    try:
        port = parts.port  # raises ValueError for a port that is not a number in 0..65535
    except ValueError:
        port = 0
    if port == 0 or parts.netloc.endswith(":"):
        raise ValueError("the port is not a number from 1 to 65535")
    return f"{parts.scheme}://{parts.netloc}"


def _integer(low, high):
    def parse(text):
        if not re.fullmatch(r"\s*[+-]?\d+\s*", text):
            raise ValueError("not a whole number")
        value = int(text)
        if not low <= value <= high:
            raise ValueError(f"{value} is outside {low}..{high}")
        return value
    return parse


def _seconds(low, high):
    def parse(text):
        try:
            value = float(text)
        except ValueError:
            raise ValueError("not a number") from None
        if not math.isfinite(value) or not low < value <= high:
            raise ValueError(f"{text} is not more than {low} and at most {high}")
        return value
    return parse


def _choice(*values):
    def parse(text):
        if text.strip() not in values:
            raise ValueError(f"{text!r} is not one of {', '.join(values)}")
        return text.strip()
    return parse


def _interval(text):
    value = _integer(1, 3_600_000)(text)
    if value not in INTERVALS_MS:
        raise ValueError(f"{value} ms is not an interval the Theta Terminal serves")
    return value


def _roots(text):
    roots = [r.strip().upper() for r in text.split(",") if r.strip()]
    if not roots:
        raise ValueError("no root given")
    unknown = [r for r in roots if r not in KNOWN_ROOTS]
    if unknown:
        raise ValueError(f"unknown root {unknown[0]!r}")
    if len(set(roots)) != len(roots):
        raise ValueError("a root is listed twice")
    return roots


def _optional_date(text):
    if not text.strip():
        return None  # unset; `config validate` reports it, commands that need it say how to set it
    try:
        return parse_date(text)
    except DateValidationError:
        raise ValueError(f"{text.strip()!r} is not a real YYYY-MM-DD date") from None


def _path(text):
    if not text.strip():
        raise ValueError("empty path")
    return text


# -- checks: look at the world --------------------------------------------------------------
def _not_in_future(value):
    if value is not None and value > today_et():
        raise ValueError(f"{value} is in the future (today is {today_et()} in New York)")


def _writable_dir(path):
    """PATH is a writable directory, or the nearest existing ancestor is one (so it can be created)."""
    target = os.path.abspath(os.path.expanduser(path))
    probe = target
    while not os.path.exists(probe):
        parent = os.path.dirname(probe)
        if parent == probe:
            break
        probe = parent
    if not os.path.isdir(probe):
        raise ValueError(f"{probe} is not a directory, so {target} cannot be created")
    if not os.access(probe, os.W_OK | os.X_OK):
        action = "writable" if probe == target else f"creatable ({probe} is not writable)"
        raise ValueError(f"{target} is not {action}")


def _database_file(path):
    target = os.path.abspath(os.path.expanduser(path))
    if os.path.isdir(target):
        raise ValueError(f"{target} is a directory, not a database file")
    if os.path.exists(target) and not os.access(target, os.R_OK | os.W_OK):
        raise ValueError(f"{target} is not readable and writable")
    _writable_dir(os.path.dirname(target))


def _date_text(value):
    return "" if value is None else value.isoformat()


_DIRECTORY = "a directory path that exists and is writable, or can be created"
KEYS = {key.name: key for key in [
    Key("thetadata.baseUrl", "string", "http://127.0.0.1:25510", "ThetaData API base URL",
        _url, "an http(s) URL with host and port, e.g. http://127.0.0.1:25510 (v2) or http://127.0.0.1:25503 (v3)"),
    Key("thetadata.apiVersion", "string", "auto", "Theta Terminal API version: auto, v2 or v3",
        _choice("auto", "v2", "v3"), "auto, v2 or v3"),
    Key("thetadata.maxConcurrentRequests", "number", "4", "Maximum concurrent API requests",
        _integer(1, 24), "a whole number from 1 to 24 (Value 1, Standard 2, Pro 4; terminal default 4)"),
    Key("thetadata.connectTimeoutSeconds", "number", "5", "Seconds to wait for a connection to the terminal",
        _integer(1, 300), "a whole number of seconds from 1 to 300, e.g. 5"),
    Key("thetadata.requestTimeoutSeconds", "number", "120", "Seconds to wait for a response from the terminal",
        _integer(1, 3600), "a whole number of seconds from 1 to 3600, e.g. 120"),
    Key("thetadata.maxRetries", "number", "6", "Retries of one request after a retryable error",
        _integer(0, 20), "a whole number from 0 to 20, e.g. 6"),
    Key("thetadata.retryBaseSeconds", "number", "1.0", "First retry backoff in seconds (doubles per retry)",
        _seconds(0, 60), "a number of seconds above 0 and at most 60, e.g. 1.0",
        to_text=lambda v: repr(float(v))),
    Key("thetadata.responseFormat", "string", "csv", "Response format requested from the terminal: csv, json or ndjson",
        _choice("csv", "json", "ndjson"), "csv, json or ndjson"),
    Key("processing.startDate", "date", "", "Initial processing start date",
        _optional_date, "a YYYY-MM-DD date not in the future, e.g. 2024-01-02", check=_not_in_future,
        to_text=_date_text),
    Key("processing.outputDirectory", "string", "./data/parquet", "Parquet file output location",
        _path, _DIRECTORY, check=_writable_dir),
    Key("processing.tempDirectory", "string", "./data/temp", "Temporary file location",
        _path, _DIRECTORY, check=_writable_dir),
    Key("processing.intervalMs", "number", "60000", "Sampling interval in milliseconds",
        _interval, "one of " + ", ".join(map(str, INTERVALS_MS)) + " (60000 = 1 minute)"),
    Key("processing.roots", "string", "SPXW,SPX", "Option roots to download, comma-separated",
        _roots, "a comma-separated list of " + " and ".join(KNOWN_ROOTS) + ", e.g. SPXW,SPX",
        to_text=",".join),
    Key("processing.retryLimit", "number", "3", "Attempts per date before it is left as failed",
        _integer(0, 100), "a whole number from 0 to 100, e.g. 3"),
    Key("processing.parallelism", "number", "2", "Dates processed at the same time",
        _integer(1, 64), "a whole number from 1 to 64, e.g. 2"),
    Key(DATABASE_PATH, "string", "./data/spx-pipeline.db", "SQLite database file location",
        _path, "a file path in a writable directory, e.g. ./data/spx-pipeline.db", check=_database_file),
]}


# -- validation -----------------------------------------------------------------------------
def key_of(name):
    try:
        return KEYS[name]
    except KeyError:
        raise ConfigurationValidationError(f"unknown configuration key {name!r}; valid keys: {', '.join(KEYS)}") \
            from None


def parse(name, raw, origin=None):
    """RAW text -> typed value of key NAME (no look at the world); ConfigurationValidationError."""
    key = key_of(name)
    try:
        return key.parse(str(raw))
    except ValueError as exc:
        where = f" (from {origin})" if origin else ""
        raise ConfigurationValidationError(f"{name}={raw}{where}: {exc}; expected {key.hint}") from None


def check(name, value):
    """The world-facing check of a typed value; ConfigurationValidationError when it fails."""
    key = key_of(name)
    if key.check is not None:
        try:
            key.check(value)
        except ValueError as exc:
            raise ConfigurationValidationError(f"{name}: {exc}; expected {key.hint}") from None


def validate(name, raw):
    """RAW text for key NAME -> typed value, fully checked (what `config set` accepts)."""
    value = parse(name, raw)
    check(name, value)
    return value


def to_text(name, value):
    """The stored (canonical) text of a typed value."""
    return key_of(name).to_text(value)


def check_storable(name):
    key_of(name)
    if name == DATABASE_PATH:
        raise ConfigurationValidationError(
            "database.path cannot be stored in the database it names; pass --db PATH or set SPX_DATA_DATABASE_PATH")


def database_path(db=None):
    """(path, source) of the status database: --db, then SPX_DATA_DATABASE_PATH, then the default."""
    if db:
        return db, "option"
    env = os.environ.get(KEYS[DATABASE_PATH].env_name)
    if env:
        return env, "environment"
    return KEYS[DATABASE_PATH].default, "default"


# -- the effective configuration ------------------------------------------------------------
class Config(Mapping):
    """Typed effective values by key; .source(key) says where each came from."""

    def __init__(self, values, sources):
        self._values = values
        self._sources = sources

    def __getitem__(self, name):
        return self._values[key_of(name).name]

    def __iter__(self):
        return iter(self._values)

    def __len__(self):
        return len(self._values)

    def source(self, name):
        return self._sources[key_of(name).name]

    def text(self, name):
        return to_text(name, self[name])

    def records(self):
        """[{"key", "value" (stored text form), "source"}] in KEYS order."""
        return [{"key": name, "value": self.text(name), "source": self._sources[name]} for name in self._values]


def resolve(overrides=None, db=None, stored=None):
    """(Config, problems): every key resolved by precedence; a value that does not parse is
    reported in problems (and falls back to the next lower source) instead of raising."""
    overrides = dict(overrides or {})
    for name in overrides:
        key_of(name)
    if db is None and overrides.get(DATABASE_PATH):
        db = overrides[DATABASE_PATH]
    db_path, db_source = database_path(db)
    if stored is None:
        from . import logclient
        stored = logclient.config_values(db=db_path)
    values, sources, problems = {}, {}, []
    for name, key in KEYS.items():
        if name == DATABASE_PATH:
            values[name], sources[name] = parse(name, db_path), db_source
            continue
        candidates = [("option", overrides.get(name)), ("environment", os.environ.get(key.env_name)),
                      ("database", stored.get(name)), ("default", key.default)]
        for source, raw in candidates:
            if raw is None:
                continue
            origin = {"option": "a command-line option", "environment": key.env_name,
                      "database": "the database", "default": "the default"}[source]
            try:
                values[name], sources[name] = parse(name, raw, origin), source
                break
            except ConfigurationValidationError as exc:
                problems.append(str(exc))
    return Config(values, sources), problems


def load(overrides=None, db=None):
    """The effective configuration; ConfigurationValidationError (exit 2) for the first value that
    does not parse, naming where it came from."""
    cfg, problems = resolve(overrides, db)
    if problems:
        raise ConfigurationValidationError(problems[0])
    return cfg


def problems(cfg):
    """Every world-facing problem of an effective configuration (for `config validate`)."""
    found = []
    if cfg["processing.startDate"] is None:
        found.append("processing.startDate is not set; set it with "
                     "`spx-data config set processing.startDate 2024-01-02` (the first day to download)")
    for name in KEYS:
        try:
            check(name, cfg[name])
        except ConfigurationValidationError as exc:
            found.append(f"{exc} (source: {cfg.source(name)})")
    return found


def default_rows():
    """The defaults as configuration rows: [(key, value, value_type, description, is_required)]."""
    return [(k.name, k.default, k.value_type, k.description, True) for k in KEYS.values()]
