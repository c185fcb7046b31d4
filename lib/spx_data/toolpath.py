"""git-style lookup of the spx-<name> executables: the running command's own bin directory
first, then PATH — so a checkout's bin/ and an installed venv's bin/ never mix."""
import os
import shutil
import sys

from .errors import UsageError


def own_bin_dir():
    return os.path.dirname(os.path.realpath(sys.argv[0])) if sys.argv and sys.argv[0] else ""


def find_tool(name):
    path = os.pathsep.join(p for p in (own_bin_dir(), os.environ.get("PATH", "")) if p)
    return shutil.which(f"spx-{name}", path=path)


def tool(name):
    found = find_tool(name)
    if found is None:
        raise UsageError(f"spx-{name} not found next to {sys.argv[0]} or on PATH; is spx-data installed?")
    return found
