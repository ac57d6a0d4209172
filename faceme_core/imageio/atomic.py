"""One atomic file writer for every FaceMe output (photos, crops, faces.json).

The payload goes to a temporary file in the target's folder, is flushed and fsynced, then renamed over
the target (``os.replace``): readers see the old file or the new one, never half of one. The new file
gets the permissions of any new file (0o666 minus the umask), not mkstemp's private 0o600.
"""

from __future__ import annotations

import os
import secrets
from contextlib import suppress
from pathlib import Path

TEMP_SUFFIX = ".faceme-tmp"


def write_atomically(target: Path, payload: bytes) -> None:
    """``target`` holds ``payload`` or is untouched. OSError on failure (the temp file is removed)."""
    target = Path(target)
    while True:
        temp = target.with_name(f".{target.name}.{secrets.token_hex(4)}{TEMP_SUFFIX}")
        try:
            fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
            break
        except FileExistsError:
            continue
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(payload)
            f.flush()
            os.fsync(f.fileno())
        os.replace(temp, target)
    except BaseException:
        with suppress(OSError):
            os.unlink(temp)
        raise
