"""`spx-data cleanup`: find stale stage directories and failed outputs, and remove them unless a
live run owns their day.

  temp files       {tempDir}/stage/DATE/ directories (all of it, resumable files included: the
                   user asked for the space back; the day then starts from scratch) and lock files
                   no process holds (left by a kill -9);
  failed outputs   leftovers of the output tree (partial, quarantined and orphan files; see
                   spx_data.ops.artifacts) and sealed files that fail spx_data.seal.check (with
                   their sidecars) — this reads every sealed file once to check its SHA-256.

A day whose lock is held ({tempDir}/locks/DATE.lock) is never touched; its items are reported as
kept, with the pid that owns them.
"""
import os
import re
from pathlib import Path

from .. import daylock, layout
from . import artifacts

_ISO_NAME = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def plan(temp_dir, output_dir, temp_files=True, failed_outputs=True):
    """[{kind, date, path, bytes, holder}] of what cleanup would remove, holder = the pid of a
    live run owning the day (then the item is kept) or None."""
    items = []
    if temp_files:
        items += _stage_items(temp_dir) + _lock_items(temp_dir)
    if failed_outputs:
        items += _output_items(output_dir)
    holders = {}
    for item in items:
        day = item["date"]
        if day not in holders:
            holders[day] = daylock.holder(layout.lock_path(temp_dir, day)) if day else None
        item["holder"] = holders[day]
    return [item for item in items if not (item["kind"] == "lock" and item["holder"])]


def _item(kind, date, path):
    return {"kind": kind, "date": date, "path": str(path), "bytes": artifacts.size_of(path)}


def _stage_items(temp_dir):
    root = layout.stage_root(temp_dir)
    if not root.is_dir():
        return []
    return [_item("stage", entry.name, entry) for entry in sorted(root.iterdir())
            if entry.is_dir() and _ISO_NAME.match(entry.name)]


def _lock_items(temp_dir):
    directory = layout.lock_dir(temp_dir)
    if not directory.is_dir():
        return []
    return [_item("lock", entry.stem, entry) for entry in sorted(directory.glob("*.lock"))
            if _ISO_NAME.match(entry.stem)]


def _output_items(output_dir):
    from ..seal import check
    items = []
    for root, dirs, files in os.walk(output_dir):
        dirs.sort()
        for name in sorted(files):
            path = Path(root) / name
            kind = artifacts.output_leftover_kind(path)
            if kind:
                items.append(_item(kind, artifacts.date_in_name(path), path))
            elif layout.date_of_final(path) and check(path)["outcome"] != "ok":
                day = layout.date_of_final(path)
                items.append(_item("corrupt", day, path))
                sidecar = layout.sidecar_path(path)
                if sidecar.exists():
                    items.append(_item("corrupt", day, sidecar))
    return items


def execute(items, output_dir, dry_run=False):
    """Remove every item no live run owns; each item gets an "action" (removed, would remove,
    kept) and "freed" bytes. Output directories left empty are removed too."""
    for item in items:
        if item["holder"]:
            item["action"], item["freed"] = f"kept (pid {item['holder']} is working on {item['date']})", 0
        elif dry_run:
            item["action"], item["freed"] = "would remove", item["bytes"]
        else:
            item["action"], item["freed"] = "removed", artifacts.remove(item["path"])
            _prune_empty_parents(Path(item["path"]).parent, Path(output_dir))
    return items


def _prune_empty_parents(directory, output_dir):
    # Only inside the output tree: YYYY/MM/DD directories emptied by the removal above.
    output_dir = output_dir.resolve()
    directory = directory.resolve()
    while directory != output_dir and output_dir in directory.parents:
        try:
            directory.rmdir()
        except OSError:
            return  # not empty (or not ours to remove): stop climbing
        directory = directory.parent
