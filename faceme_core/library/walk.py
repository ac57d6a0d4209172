"""Finding the photos under album folders: one ``os.scandir`` walk, no per-file queries.

Skipped: hidden files and folders (dot names, or the Windows hidden attribute), system folders
(recycle bins, NAS thumbnail folders...), folders holding FaceMe outputs (an ``OUTPUT_MARKER`` file or a
folder listed in ``skip_dirs``), and any folder already visited (symlink loops, bind mounts).
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from typing import Iterable, Iterator

# Written at the root of every restore-album output folder, so that scanning never ingests outputs,
# even after the folder is moved somewhere the library does not know.
OUTPUT_MARKER = ".faceme-output"

SYSTEM_DIR_NAMES = frozenset(
    name.casefold()
    for name in (
        "$RECYCLE.BIN",
        "System Volume Information",
        "lost+found",
        "@eaDir",  # Synology thumbnails
        "#recycle",
        "#snapshot",
        "__MACOSX",
        "RECYCLER",
    )
)
_HIDDEN_ATTRIBUTE = getattr(stat, "FILE_ATTRIBUTE_HIDDEN", 0)


@dataclass(frozen=True)
class FileEntry:
    path: str  # absolute
    size: int
    mtime_ns: int


@dataclass(frozen=True)
class WalkProblem:
    path: str
    error: str


def _is_hidden(entry: os.DirEntry) -> bool:
    if entry.name.startswith("."):
        return True
    if _HIDDEN_ATTRIBUTE and os.name == "nt":
        try:
            return bool(entry.stat(follow_symlinks=False).st_file_attributes & _HIDDEN_ATTRIBUTE)
        except OSError:
            return False
    return False


NON_UTF8_NAME = "its name is not valid UTF-8 (e.g. from an old Windows archive): rename it to add it"


def _utf8_name(name: str) -> bool:
    """False for names os.scandir could only decode with surrogate escapes (invalid UTF-8 bytes)."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def walk_photos(
    root: str,
    suffixes: Iterable[str],
    *,
    skip_dirs: Iterable[str] = (),
    problems: list[WalkProblem] | None = None,
    skipped: list[str] | None = None,
) -> Iterator[FileEntry]:
    """Every supported photo under ``root`` (depth first, names sorted), with its size and mtime.

    Unreadable folders are reported in ``problems`` and skipped; the walk goes on. Folders skipped
    as FaceMe's own (``skip_dirs``, or holding ``OUTPUT_MARKER``) are listed in ``skipped``, so the
    user learns why photos there were not added.
    """
    wanted = frozenset(s.lower() for s in suffixes)
    skip = frozenset(os.path.normcase(os.path.abspath(d)) for d in skip_dirs)
    seen_dirs: set[tuple[int, int]] = set()
    stack = [os.path.abspath(root)]
    while stack:
        folder = stack.pop()
        if os.path.normcase(folder) in skip:
            if skipped is not None:
                skipped.append(folder)
            continue
        try:
            info = os.stat(folder)
            key = (info.st_dev, info.st_ino)
            if key in seen_dirs:
                continue  # a symlink loop or a second way into the same folder
            seen_dirs.add(key)
            with os.scandir(folder) as iterator:
                entries = sorted(iterator, key=lambda e: e.name)
        except OSError as error:
            if problems is not None:
                problems.append(WalkProblem(folder, error.strerror or str(error)))
            continue
        if any(entry.name == OUTPUT_MARKER for entry in entries):
            if skipped is not None:
                skipped.append(folder)
            continue
        subfolders = []
        for entry in entries:
            if _is_hidden(entry):
                continue
            if not _utf8_name(entry.name):  # the library stores paths as UTF-8 text
                if problems is not None:
                    problems.append(WalkProblem(entry.path, NON_UTF8_NAME))
                continue
            try:
                if entry.is_dir():  # follows symlinks; loops are caught by seen_dirs
                    if entry.name.casefold() not in SYSTEM_DIR_NAMES:
                        subfolders.append(entry.path)
                    continue
                if os.path.splitext(entry.name)[1].lower() not in wanted:
                    continue
                file_stat = entry.stat()
            except OSError as error:  # e.g. a dangling symlink
                if problems is not None:
                    problems.append(WalkProblem(entry.path, error.strerror or str(error)))
                continue
            if stat.S_ISREG(file_stat.st_mode):
                yield FileEntry(entry.path, file_stat.st_size, file_stat.st_mtime_ns)
        stack.extend(reversed(subfolders))
