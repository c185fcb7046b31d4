"""Where files live. One place, so the pipeline, gaps, verify and cleanup agree.

    {outputDir}/YYYY/MM/DD/spx-options-YYYY-MM-DD.parquet          the sealed day
    {outputDir}/YYYY/MM/DD/spx-options-YYYY-MM-DD.parquet.sha256   its sha256sum -c sidecar
    {tempDir}/stage/YYYY-MM-DD/expirations.ndjson                  expiration lines of the day
    {tempDir}/stage/YYYY-MM-DD/ROOT-YYYY-MM-DD.ndjson[.part]       tick rows of one expiration
    {tempDir}/locks/YYYY-MM-DD.lock                                held (flock) by the run of that day
"""
import datetime as _dt
import re
from pathlib import Path

FILE_PREFIX = "spx-options-"


def _iso(day):
    return day.isoformat() if isinstance(day, _dt.date) else str(day)


def final_path(output_dir, day):
    iso = _iso(day)
    return Path(output_dir) / iso[0:4] / iso[5:7] / iso[8:10] / f"{FILE_PREFIX}{iso}.parquet"


def sidecar_path(final):
    final = Path(final)
    return final.with_name(final.name + ".sha256")


def date_of_final(path):
    """The ISO date a final file name stands for, or None."""
    name = Path(path).name
    if name.startswith(FILE_PREFIX) and name.endswith(".parquet"):
        return name[len(FILE_PREFIX):-len(".parquet")]
    return None


def stage_root(temp_dir):
    return Path(temp_dir) / "stage"


def stage_dir(temp_dir, day):
    return stage_root(temp_dir) / _iso(day)


def expirations_file(stage):
    return Path(stage) / "expirations.ndjson"


def expiration_file(stage, root, expiration):
    return Path(stage) / f"{root}-{_iso(expiration)}.ndjson"


_EXPIRATION_FILE = re.compile(r"([A-Z]{1,10})-(\d{4}-\d{2}-\d{2})\.ndjson")


def expiration_of(path):
    """(root, ISO expiration) an expiration file's name stands for, or None."""
    match = _EXPIRATION_FILE.fullmatch(Path(path).name)
    return match.groups() if match else None


def lock_dir(temp_dir):
    return Path(temp_dir) / "locks"


def lock_path(temp_dir, day):
    return lock_dir(temp_dir) / f"{_iso(day)}.lock"
