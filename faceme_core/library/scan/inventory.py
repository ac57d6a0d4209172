"""Scan stage "walking": one ``os.scandir`` walk plus one SELECT sort the album's files into unchanged
(same size and mtime: nothing else happens), FaceMe's own outputs (never photos) and to-do, and find
the recorded photos no longer there."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from sqlalchemy import select

from faceme_core.library.albums import is_under
from faceme_core.library.db import schema
from faceme_core.library.library import Library
from faceme_core.library.scan.files import is_regular_file
from faceme_core.library.walk import FileEntry, WalkProblem, walk_photos


@dataclass(frozen=True)
class PhotoToScan:
    entry: FileEntry
    album_id: int
    known_id: int | None  # the library's photo at this path, if any


@dataclass(frozen=True)
class Inventory:
    walked: int  # supported files reached by the walk
    unchanged: int
    outputs: int  # restored copies someone put in the album: never originals
    todo: tuple[PhotoToScan, ...]  # new, changed or back from missing, in walk order
    vanished: dict[str, int]  # path -> photo id: recorded under the folders, not found now
    problems: tuple[tuple[Path, str], ...]  # unreadable folders, dangling links: reported, not recorded
    output_folders: tuple[Path, ...]  # FaceMe restore-album output folders inside the albums


def take_inventory(
    library: Library, roots: Sequence[str], album_of_root: dict[str, int], skip_dirs: Sequence[str]
) -> Inventory:
    from faceme_core import imageio

    entries: list[tuple[FileEntry, int]] = []
    problems: list[WalkProblem] = []
    skipped: list[str] = []
    for root in roots:
        album_id = album_of_root[root]
        walk = walk_photos(root, imageio.SUPPORTED_SUFFIXES, skip_dirs=skip_dirs, problems=problems, skipped=skipped)
        entries += [(entry, album_id) for entry in walk]
    thumbnails_dir = os.path.normcase(str(library.thumbnails_dir))
    output_folders = tuple(Path(p) for p in dict.fromkeys(skipped) if os.path.normcase(p) != thumbnails_dir)
    photos = schema.photos
    with library.reading() as conn:
        known = {
            row.path: row
            for row in conn.execute(select(photos.c.path, photos.c.id, photos.c.size, photos.c.mtime_ns, photos.c.status))
        }
    seen = set()
    todo: list[PhotoToScan] = []
    unchanged = outputs = 0
    for entry, album_id in entries:
        if entry.path in seen:  # reached twice (e.g. through a link into another root): one photo
            continue
        seen.add(entry.path)
        row = known.get(entry.path)
        if row is not None and row.size == entry.size and row.mtime_ns == entry.mtime_ns and row.status != "missing":
            unchanged += 1
        # A file that became a pipe since the walk goes on to be recorded as unreadable (is_faceme_output
        # would block reading it).
        elif row is None and is_regular_file(entry.path) and imageio.is_faceme_output(entry.path):
            outputs += 1
        else:
            todo.append(PhotoToScan(entry, album_id, row.id if row is not None else None))
    vanished = {
        path: row.id
        for path, row in known.items()
        if row.status != "missing" and path not in seen and any(is_under(path, root) for root in roots)
    }
    return Inventory(
        walked=len(entries),
        unchanged=unchanged,
        outputs=outputs,
        todo=tuple(todo),
        vanished=vanished,
        problems=tuple((Path(problem.path), problem.error) for problem in problems),
        output_folders=output_folders,
    )
