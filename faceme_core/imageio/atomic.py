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
NAME_MAX = 255  # bytes in one file name on every common file system (ext4, APFS, NTFS counts UTF-16 units)


def temp_name(target_name: str, token: str) -> str:
    """``.NAME.TOKEN.faceme-tmp``, with NAME cut short so the whole stays within ``NAME_MAX`` bytes: an
    output whose own name is near the limit must still be writable."""
    room = NAME_MAX - len(os.fsencode(f"..{token}{TEMP_SUFFIX}"))
    encoded = os.fsencode(target_name)
    if len(encoded) > room:
        encoded = encoded[:room]
        while encoded:  # never cut a UTF-8 character in half
            try:
                encoded.decode("utf-8")
                break
            except UnicodeDecodeError as error:
                if error.start < len(encoded) - 3:  # not a cut at the end: the name was never UTF-8
                    break
                encoded = encoded[:-1]
    return f".{os.fsdecode(encoded)}.{token}{TEMP_SUFFIX}"


def write_atomically(target: Path, payload: bytes) -> None:
    """``target`` holds ``payload`` or is untouched. OSError on failure (the temp file is removed)."""
    target = Path(target)
    while True:
        temp = target.with_name(temp_name(target.name, secrets.token_hex(4)))
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
