"""SHA-256 of files and the `sha256sum -c`-compatible sidecar beside each sealed file."""
import hashlib
import os
from pathlib import Path

from .layout import sidecar_path

_CHUNK = 1 << 20


def sha256_file(path):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while True:
            chunk = handle.read(_CHUNK)
            if not chunk:
                return digest.hexdigest()
            digest.update(chunk)


def sidecar_text(final, checksum):
    # Two spaces and the bare file name: `cd DIR && sha256sum -c NAME.sha256` works.
    return f"{checksum}  {Path(final).name}\n"


def read_sidecar(final):
    """The checksum recorded in FINAL's sidecar, or None when the sidecar is missing or unreadable."""
    try:
        text = sidecar_path(final).read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError):
        return None
    parts = text.split()
    if len(parts) == 2 and len(parts[0]) == 64 and parts[1].lstrip("*") == Path(final).name:
        return parts[0].lower()
    return None


def fsync_path(path):
    """Flush PATH, a file or a directory (for the names in it), to disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
