"""What a day leaves behind, and what of it is safe to remove. Shared by `retry` (clean one day
before re-processing it) and `cleanup` (clean every day no live run owns).

Stage directory ({tempDir}/stage/DATE/):
  resumable   expirations.ndjson and ROOT-YYYY-MM-DD.ndjson — each was renamed into place only
              when complete, so a re-run skips it;
  stale       everything else: *.part files of an interrupted fetch, day.parquet(.part) and the
              converter's spill files, rejects.ndjson, the children's *.err report files.
Output tree ({outputDir}/YYYY/MM/DD/):
  partial     *.part and *.tmp files: a seal or sidecar write that never finished;
  quarantined *.corrupt-<UTC stamp>: a sealed file (and its sidecar) that failed verification,
              moved aside by `retry` rather than deleted, so the evidence survives until `cleanup`;
  orphan      a .sha256 sidecar whose Parquet file is gone.
"""
import datetime as _dt
import os
import re
import shutil
from pathlib import Path

from .. import layout

_RESUMABLE = re.compile(r"^(expirations|[A-Z]+-\d{4}-\d{2}-\d{2})\.ndjson$")
_PARTIAL_SUFFIXES = (".part", ".tmp")
QUARANTINE_MARK = ".corrupt-"
_DATE_IN_NAME = re.compile(re.escape(layout.FILE_PREFIX) + r"(\d{4}-\d{2}-\d{2})")


def size_of(path):
    """Bytes of a file, or of everything under a directory; 0 when it vanished meanwhile."""
    path = Path(path)
    try:
        if not path.is_dir() or path.is_symlink():
            return path.lstat().st_size
    except FileNotFoundError:
        return 0
    total = 0
    for root, _dirs, files in os.walk(path):
        for name in files:
            try:
                total += os.lstat(os.path.join(root, name)).st_size
            except FileNotFoundError:
                pass
    return total


def remove(path):
    """Delete a file or a directory tree; returns the bytes freed."""
    path = Path(path)
    freed = size_of(path)
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        try:
            path.unlink()
        except FileNotFoundError:
            return 0
    return freed


def stale_stage_entries(stage):
    """The entries of a stage directory that a re-run cannot reuse (see the module docstring)."""
    stage = Path(stage)
    if not stage.is_dir():
        return []
    return sorted(entry for entry in stage.iterdir() if not _RESUMABLE.match(entry.name))


def date_in_name(path):
    """The ISO date in an output file's name (spx-options-DATE...), or None."""
    match = _DATE_IN_NAME.search(Path(path).name)
    return match.group(1) if match else None


def output_leftover_kind(path):
    """'partial', 'quarantined' or 'orphan' for a leftover file of the output tree, else None."""
    path = Path(path)
    name = path.name
    if date_in_name(name) is None:
        return None  # not ours: never touched
    if QUARANTINE_MARK in name:
        return "quarantined"
    if name.endswith(_PARTIAL_SUFFIXES):
        return "partial"
    if name.endswith(".parquet.sha256") and not path.with_name(name[:-len(".sha256")]).exists():
        return "orphan"
    return None


def day_output_leftovers(output_dir, day):
    """Leftover files (partial, quarantined, orphan) in one day's output directory."""
    directory = layout.final_path(output_dir, day).parent
    if not directory.is_dir():
        return []
    return sorted(p for p in directory.iterdir() if output_leftover_kind(p) and date_in_name(p) == str(day))


def quarantine(final, now=None):
    """Move a sealed file that failed verification, and its sidecar, aside as
    NAME.corrupt-YYYYmmddTHHMMSSZ; returns [(old, new)] of what was moved."""
    stamp = (now or _dt.datetime.now(_dt.timezone.utc)).strftime("%Y%m%dT%H%M%SZ")
    moved = []
    for path in (Path(final), layout.sidecar_path(final)):
        if path.exists():
            target = path.with_name(f"{path.name}{QUARANTINE_MARK}{stamp}")
            os.replace(path, target)
            moved.append((path, target))
    return moved
