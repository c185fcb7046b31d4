"""Shared pytest set-up: every test gets its own data directory, database and lock directory,
and the checkout's bin/ first on PATH, so commands run as a user would run them."""
import os
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "lib"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

pytest_plugins = [f"fixtures.{p.stem}" for p in sorted((Path(__file__).parent / "fixtures").glob("[a-z]*.py"))]


@pytest.fixture(autouse=True)
def spx_env(tmp_path, monkeypatch):
    """An isolated spx-data world under tmp_path; returns the paths as a dict."""
    for key in list(os.environ):
        if key.startswith("SPX_DATA_"):
            monkeypatch.delenv(key)
    env = {
        "SPX_DATA_DATABASE_PATH": str(tmp_path / "data" / "spx-pipeline.db"),
        "SPX_DATA_PROCESSING_OUTPUTDIRECTORY": str(tmp_path / "data" / "parquet"),
        "SPX_DATA_PROCESSING_TEMPDIRECTORY": str(tmp_path / "data" / "temp"),
        "SPX_DATA_LOCK_DIR": str(tmp_path / "slots"),
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    path = os.pathsep.join([str(REPO / "bin"), str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    monkeypatch.setenv("PATH", path)
    return {"tmp": tmp_path, **env}
