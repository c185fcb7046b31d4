"""Disk-space precheck (PRD FR-2.4): the next day's estimated size plus 50 % must be free."""
import os
import shutil

from .errors import InsufficientDiskSpaceError

# Before any day has been processed: a realistic 1-minute SPX day stages ~1.5 GB of NDJSON and
# seals ~0.2 GB of Parquet. Later estimates come from the largest recent day actually processed.
DEFAULT_STAGE_BYTES = 1_500_000_000
DEFAULT_FILE_BYTES = 200_000_000
MARGIN = 1.5


def estimate(history):
    """(stage bytes, file bytes) for the next day from processing_log rows of recent successes."""
    done = [r for r in history if r.get("status") == "success" and r.get("file_size_bytes")]
    if not done:
        return DEFAULT_STAGE_BYTES, DEFAULT_FILE_BYTES
    recent = sorted(done, key=lambda r: r.get("completed_at") or "")[-20:]
    return (max(int(r.get("temp_file_size_bytes") or 0) for r in recent),
            max(int(r.get("file_size_bytes") or 0) for r in recent))


def next_day_estimate(db=None):
    """(stage bytes, file bytes, where the estimate comes from) for the next day to process."""
    from . import logclient
    history = logclient.query("processing", db=db, status="success", limit=20)
    basis = "the largest of the recent days" if history else "the default estimate of a full day"
    return (*estimate(history), basis)


def _existing(path):
    path = os.path.abspath(path)
    while not os.path.exists(path):
        path = os.path.dirname(path)
    return path


def free_bytes(path):
    return shutil.disk_usage(_existing(path)).free


def requirements(temp_dir, output_dir, stage_bytes, file_bytes):
    """[(directory, bytes needed incl. margin, bytes free)] — one entry per filesystem."""
    needs = {}
    for directory, size in ((temp_dir, stage_bytes + file_bytes), (output_dir, file_bytes)):
        device = os.stat(_existing(directory)).st_dev
        path, total = needs.get(device, (directory, 0))
        needs[device] = (path, total + size)
    return [(path, int(total * MARGIN), free_bytes(path)) for path, total in needs.values()]


def check(temp_dir, output_dir, stage_bytes, file_bytes):
    for directory, needed, free in requirements(temp_dir, output_dir, stage_bytes, file_bytes):
        if free < needed:
            raise InsufficientDiskSpaceError(
                f"{directory}: {free / 1e9:.2f} GB free, {needed / 1e9:.2f} GB needed "
                f"(estimated day + 50 %); free space or point processing.tempDirectory/outputDirectory elsewhere")
