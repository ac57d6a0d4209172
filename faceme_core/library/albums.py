"""Album folders: which folders a scan covers, how they map to albums, and which are FaceMe's own.

Paths are compared as real absolute paths; ``is_under_on_disk`` also sees through differences of
spelling the file system ignores (letter case on macOS and Windows volumes, another mount).
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Iterable, Sequence

from sqlalchemy import Connection, delete, insert, select, update

from faceme_core.errors import LibraryError
from faceme_core.library.db import schema
from faceme_core.library.walk import OUTPUT_MARKER
from faceme_core.library.path_text import check_storable


def check_folders(folders: Iterable[Path | str]) -> list[str]:
    """Absolute real paths of the album folders, refusing anything that is not a folder. A folder
    inside another one given is dropped: the outer walk covers it, and walking it twice would
    record its photos twice."""
    roots: list[str] = []
    for folder in folders:
        path = os.path.realpath(os.path.expanduser(str(folder)))
        check_storable(path, value=folder)
        if not os.path.exists(path):
            raise LibraryError(f"{folder}: no such folder")
        if not os.path.isdir(path):
            raise LibraryError(f"{folder}: not a folder (give the album folder, not a file)")
        if path not in roots:
            roots.append(path)
    if not roots:
        raise LibraryError("no folder to scan: give at least one album folder")
    return [root for root in roots if not any(other != root and is_under(root, other) for other in roots)]


def is_under(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def is_under_on_disk(path: str, root: str) -> bool:
    """``is_under`` as the file system sees it: also true when the spellings differ but the folders
    are the same (letter case on macOS and Windows volumes, another mount of the same folder)."""
    if is_under(os.path.normcase(path), os.path.normcase(root)):
        return True
    try:
        root_stat = os.stat(root)
    except OSError:
        return False
    current = path
    while True:
        try:
            if os.path.samestat(os.stat(current), root_stat):
                return True
        except OSError:  # not created yet: its parents may exist
            pass
        parent = os.path.dirname(current)
        if parent == current:
            return False
        current = parent


def register_albums(conn: Connection, roots: Sequence[str]) -> dict[str, int]:
    """The album id covering each root: a folder inside a known album belongs to it; a new folder
    that contains known albums absorbs them (their photos move to it)."""
    now = time.time()
    result: dict[str, int] = {}
    for root in roots:
        known = conn.execute(select(schema.albums.c.id, schema.albums.c.path)).all()
        parent = next((row for row in known if is_under(root, row.path)), None)
        if parent is not None:
            result[root] = parent.id
            continue
        album_id = conn.execute(insert(schema.albums).values(path=root, added_at=now)).inserted_primary_key[0]
        inner = [row.id for row in known if is_under(row.path, root)]
        if inner:
            conn.execute(update(schema.photos).where(schema.photos.c.album_id.in_(inner)).values(album_id=album_id))
            conn.execute(delete(schema.albums).where(schema.albums.c.id.in_(inner)))
            result = {r: (album_id if a in inner else a) for r, a in result.items()}
        result[root] = album_id
    return result


def check_not_output_folders(roots: Sequence[str], outputs: Sequence[str]) -> None:
    """Refuse to scan a FaceMe output folder as an album: its photos are restored copies, and
    registering it as an album would then block it as restore-album's --out-dir."""
    for root in roots:
        marked = os.path.exists(os.path.join(root, OUTPUT_MARKER))
        if marked or any(is_under(root, out) for out in outputs):
            raise LibraryError(
                f"{root}: is a FaceMe album job's output folder (restored copies, not album photos); "
                "scan the album folder instead"
            )


def output_dirs(conn: Connection) -> list[str]:
    """Folders FaceMe wrote restore-album outputs to: never scanned as album photos."""
    return [row.out_dir for row in conn.execute(select(schema.jobs.c.out_dir).distinct())]
