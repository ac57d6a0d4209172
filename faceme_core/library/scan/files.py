"""Reading album files safely: regular files only, and their content hash.

Between the folder walk and the moment a photo is read, its path may have become something else: a
named pipe (FIFO) would block ``open()`` until a writer comes (forever), a device would stream
without end. Files are opened non-blocking and checked with ``fstat`` on the open descriptor (no
window between the check and the read), and refused unless they are regular files.
"""

from __future__ import annotations

import hashlib
import os
import stat
from typing import BinaryIO

_HASH_CHUNK = 1 << 20
_NONBLOCK = getattr(os, "O_NONBLOCK", 0)  # POSIX; Windows has no FIFOs in the file system


class NotARegularFile(OSError):
    """The path holds a pipe, socket, device or folder, not a photo file."""

    def __init__(self, path: str, kind: str):
        message = f"not a photo file but a {kind}"
        super().__init__(message)
        self.strerror = message  # what the scan records ("cannot read the file: ...")
        self.path = path
        self.kind = kind


def _kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "named pipe (FIFO)"
    if stat.S_ISSOCK(mode):
        return "socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "device"
    if stat.S_ISDIR(mode):
        return "folder"
    return "special file"


def open_regular_file(path: str) -> BinaryIO:
    """``path`` opened for binary reading, or ``NotARegularFile`` at once (never blocks on a FIFO)."""
    fd = os.open(path, os.O_RDONLY | _NONBLOCK | getattr(os, "O_BINARY", 0))
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise NotARegularFile(path, _kind(mode))
        if _NONBLOCK:
            os.set_blocking(fd, True)  # ordinary reads from here on
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def is_regular_file(path: str) -> bool:
    """True when ``path`` opens as a regular file now (False for pipes, devices, unreadable paths)."""
    try:
        open_regular_file(path).close()
    except OSError:
        return False
    return True


def content_hash(path: str) -> str:
    """BLAKE2b-128 of the file's bytes: recognises a photo after a move or rename."""
    digest = hashlib.blake2b(digest_size=16)
    with open_regular_file(path) as stream:
        while chunk := stream.read(_HASH_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()
