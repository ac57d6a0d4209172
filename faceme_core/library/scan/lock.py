"""One scan per library at a time. Two scans of one library would both find the same new photo and
both insert it (the second fails on the unique path); the second is refused, saying why.

An OS file lock beside the library: released by the OS when its holder exits however it exits (a
kill -9 leaves no stale lock), and held per open file, so two scans in one process exclude each other
too. Other library edits (people, jobs) do not take it: they never add photos.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from typing import Iterator

from faceme_core.errors import LibraryError
from faceme_core.library.library import Library


def lock_path(library: Library):
    return library.path.with_name(library.path.name + ".scan-lock")


@contextmanager
def scan_lock(library: Library) -> Iterator[None]:
    path = lock_path(library)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        if not _try_lock(fd):
            holder = _holder(fd)
            raise LibraryError(
                f"the library {library.path} is busy: another scan{holder} is adding photos to it; "
                "wait until it ends, then scan again (only what is left gets looked at)"
            )
        try:
            os.ftruncate(fd, 0)
            os.write(fd, str(os.getpid()).encode())
            yield
        finally:
            _unlock(fd)
    finally:
        os.close(fd)


def _holder(fd: int) -> str:
    try:
        pid = os.pread(fd, 32, 0).decode().strip() if hasattr(os, "pread") else ""
    except OSError:
        return ""
    return f" (process {pid})" if pid.isdecimal() else ""


if os.name == "nt":
    import msvcrt

    def _try_lock(fd: int) -> bool:
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True

    def _unlock(fd: int) -> None:
        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)

else:
    import fcntl

    def _try_lock(fd: int) -> bool:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def _unlock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)
