"""spx_data.config: keys, validation, precedence and sources."""
import datetime as dt

import pytest

from spx_data import config, logclient
from spx_data.errors import ConfigurationValidationError


def test_a_fresh_install_uses_the_defaults(monkeypatch):
    monkeypatch.delenv("SPX_DATA_PROCESSING_OUTPUTDIRECTORY")
    cfg = config.load()
    assert cfg["thetadata.baseUrl"] == "http://127.0.0.1:25510"
    assert cfg["thetadata.maxConcurrentRequests"] == 4
    assert cfg["processing.roots"] == ["SPXW", "SPX"]
    assert cfg["processing.startDate"] is None
    assert cfg["thetadata.retryBaseSeconds"] == 1.0
    assert cfg.source("thetadata.baseUrl") == cfg.source("processing.outputDirectory") == "default"
    assert cfg.source("processing.tempDirectory") == "environment"  # set by the test fixture
    assert list(cfg) == list(config.KEYS)


def test_precedence_default_database_environment_option(monkeypatch):
    key = "thetadata.baseUrl"
    assert config.load().source(key) == "default"
    logclient.config_set(key, "http://127.0.0.1:25503")
    cfg = config.load()
    assert (cfg[key], cfg.source(key)) == ("http://127.0.0.1:25503", "database")
    monkeypatch.setenv("SPX_DATA_THETADATA_BASEURL", "http://127.0.0.1:25600")
    cfg = config.load()
    assert (cfg[key], cfg.source(key)) == ("http://127.0.0.1:25600", "environment")
    cfg = config.load(overrides={key: "http://127.0.0.1:25700"})
    assert (cfg[key], cfg.source(key)) == ("http://127.0.0.1:25700", "option")


def test_database_path_comes_from_db_argument_environment_or_default(monkeypatch, tmp_path):
    other = str(tmp_path / "other.db")
    assert config.load(db=other).source("database.path") == "option"
    assert config.load(db=other)["database.path"] == other
    assert config.load().source("database.path") == "environment"
    monkeypatch.delenv("SPX_DATA_DATABASE_PATH")
    monkeypatch.chdir(tmp_path)
    assert (config.load().source("database.path"), config.load()["database.path"]) == \
        ("default", "./data/spx-pipeline.db")


def test_values_stored_in_another_database_are_read_from_that_one(tmp_path):
    other = tmp_path / "other.db"
    logclient.config_set("processing.parallelism", "5", db=other)
    assert config.load(db=other)["processing.parallelism"] == 5
    assert config.load()["processing.parallelism"] == 2


def test_database_path_cannot_be_stored():
    with pytest.raises(ConfigurationValidationError, match="pass --db PATH or set SPX_DATA_DATABASE_PATH"):
        config.check_storable("database.path")


def test_a_malformed_environment_value_names_its_variable(monkeypatch):
    monkeypatch.setenv("SPX_DATA_THETADATA_MAXCONCURRENTREQUESTS", "many")
    with pytest.raises(ConfigurationValidationError, match="from SPX_DATA_THETADATA_MAXCONCURRENTREQUESTS"):
        config.load()


def test_unknown_keys_are_refused_everywhere():
    with pytest.raises(ConfigurationValidationError, match="unknown configuration key 'thetadata.url'"):
        config.load(overrides={"thetadata.url": "http://x:1"})
    with pytest.raises(ConfigurationValidationError, match="valid keys: thetadata.baseUrl"):
        config.validate("processing.start", "2024-01-02")


def test_env_variable_names():
    assert config.KEYS["thetadata.baseUrl"].env_name == "SPX_DATA_THETADATA_BASEURL"
    assert config.KEYS["processing.startDate"].env_name == "SPX_DATA_PROCESSING_STARTDATE"


@pytest.mark.parametrize("key, raw, expected", [
    ("thetadata.baseUrl", "http://127.0.0.1:25503/", "http://127.0.0.1:25503"),
    ("thetadata.baseUrl", "https://terminal.local", "https://terminal.local"),
    ("thetadata.apiVersion", "v3", "v3"),
    ("thetadata.maxConcurrentRequests", "24", 24),
    ("thetadata.retryBaseSeconds", "0.01", 0.01),
    ("processing.intervalMs", "300000", 300000),
    ("processing.roots", " spxw , SPX ", ["SPXW", "SPX"]),
    ("processing.roots", "SPX", ["SPX"]),
    ("processing.startDate", "2024-01-02", dt.date(2024, 1, 2)),
    ("processing.startDate", "", None),
])
def test_valid_values_are_typed(key, raw, expected):
    assert config.validate(key, raw) == expected


@pytest.mark.parametrize("key, raw, reason, hint", [
    ("thetadata.baseUrl", "localhost:25510", "not an http:// or https:// URL", "e.g. http://127.0.0.1:25510"),
    ("thetadata.baseUrl", "http://127.0.0.1:99999", "port is not a number", "http(s) URL"),
    ("thetadata.baseUrl", "http://127.0.0.1:", "port is not a number", "http(s) URL"),
    ("thetadata.baseUrl", "http://127.0.0.1:25510/v2/", "without path", "http(s) URL"),
    ("thetadata.apiVersion", "v4", "'v4' is not one of auto, v2, v3", "auto, v2 or v3"),
    ("thetadata.maxConcurrentRequests", "0", "0 is outside 1..24", "from 1 to 24"),
    ("thetadata.maxConcurrentRequests", "2.5", "not a whole number", "from 1 to 24"),
    ("thetadata.retryBaseSeconds", "0", "not more than 0", "above 0"),
    ("thetadata.retryBaseSeconds", "nan", "not more than 0", "above 0"),
    ("thetadata.responseFormat", "xml", "not one of csv", "csv, json or ndjson"),
    ("processing.intervalMs", "12345", "not an interval the Theta Terminal serves", "60000 = 1 minute"),
    ("processing.roots", "SPXW,QQQ", "unknown root 'QQQ'", "SPXW and SPX"),
    ("processing.roots", "SPX,SPX", "listed twice", "SPXW and SPX"),
    ("processing.roots", " , ", "no root given", "SPXW and SPX"),
    ("processing.startDate", "2024-02-30", "'2024-02-30' is not a real YYYY-MM-DD date", "not in the future"),
    ("processing.startDate", "2024/01/02", "'2024/01/02' is not a real YYYY-MM-DD date", "not in the future"),
    ("processing.retryLimit", "101", "outside 0..100", "from 0 to 100"),
])
def test_malformed_values_say_what_is_wrong_and_what_is_valid(key, raw, reason, hint):
    with pytest.raises(ConfigurationValidationError) as caught:
        config.validate(key, raw)
    message = str(caught.value)
    assert message.startswith(f"{key}=") and reason in message and hint in message
    assert "\n" not in message


def test_a_start_date_in_the_future_is_refused():
    tomorrow = (dt.date.today() + dt.timedelta(days=2)).isoformat()
    with pytest.raises(ConfigurationValidationError, match=f"{tomorrow} is in the future"):
        config.validate("processing.startDate", tomorrow)


def test_directories_must_be_creatable(tmp_path):
    (tmp_path / "file").write_text("x")
    assert config.validate("processing.outputDirectory", str(tmp_path / "new" / "deeper")) == \
        str(tmp_path / "new" / "deeper")
    assert not (tmp_path / "new").exists()  # checking does not create
    with pytest.raises(ConfigurationValidationError, match="is not a directory, so .* cannot be created"):
        config.validate("processing.tempDirectory", str(tmp_path / "file" / "temp"))


def test_problems_lists_every_issue(monkeypatch, tmp_path):
    (tmp_path / "file").write_text("x")
    monkeypatch.setenv("SPX_DATA_PROCESSING_OUTPUTDIRECTORY", str(tmp_path / "file" / "out"))
    found = config.problems(config.load())
    assert len(found) == 2
    assert "spx-data config set processing.startDate" in found[0]
    assert "processing.outputDirectory" in found[1] and "(source: environment)" in found[1]


def test_canonical_text_round_trips():
    for name, key in config.KEYS.items():
        assert config.to_text(name, config.parse(name, key.default)) == key.default, name
