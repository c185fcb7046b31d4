"""Every command the PRD names exists, has a docopt usage string that is its --help, and is
documented in the README."""
import subprocess
from importlib import import_module
from pathlib import Path

import pytest

from spx_data.commands.dispatch import BUILTINS, TOOLS

REPO = Path(__file__).resolve().parent.parent
README = (REPO / "README").read_text()
PRD_COMMANDS = {"config", "status", "list", "gaps", "health", "process", "process-range", "process-gaps",
                "stop", "retry", "cleanup", "verify"}
TOOL_MODULES = {"expirations": "expirations", "fetch": "fetch", "ndjson2parquet": "ndjson2parquet",
                "seal": "seal", "log": "log", "sim": "sim", "gaps": "gaps"}


def test_dispatcher_knows_every_prd_command():
    assert PRD_COMMANDS <= set(BUILTINS)
    assert set(TOOLS) | {"gaps"} == set(TOOL_MODULES)


@pytest.mark.parametrize("name", sorted(BUILTINS))
def test_builtin_has_usage_help_and_readme_entry(name):
    module = import_module(f"spx_data.commands.{BUILTINS[name]}")
    assert module.__doc__ and "Usage:" in module.__doc__
    assert f"spx-data {name}" in module.__doc__
    result = subprocess.run(["spx-data", name, "--help"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == module.__doc__.strip()
    assert f"`spx-data {name}`" in README
    summary = import_module("spx_data.commands.dispatch").__doc__
    assert f"\n  {name} " in summary


@pytest.mark.parametrize("name", sorted(TOOL_MODULES))
def test_tool_has_usage_help_and_readme_entry(name):
    module = import_module(f"spx_data.commands.{TOOL_MODULES[name]}")
    assert module.__doc__ and "Usage:" in module.__doc__
    result = subprocess.run([f"spx-{name}", "--help"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "Usage:" in result.stdout
    assert f"`spx-{name}" in README


def test_every_bin_script_is_a_known_command():
    scripts = {p.name for p in (REPO / "bin").iterdir()}
    assert scripts == {"spx-data"} | {f"spx-{n}" for n in TOOL_MODULES}


def test_unknown_command_is_a_usage_error():
    result = subprocess.run(["spx-data", "frobnicate"], capture_output=True, text=True)
    assert result.returncode == 2
    assert result.stderr.strip() == "spx-data: 'frobnicate' is not an spx-data command; see 'spx-data --help'"


def test_dispatcher_runs_tools_git_style(tmp_path):
    result = subprocess.run(["spx-data", "seal", "--help"], capture_output=True, text=True)
    assert result.returncode == 0 and "spx-seal" in result.stdout
