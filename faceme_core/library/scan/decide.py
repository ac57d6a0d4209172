"""What a to-do photo needs, from its content hash and the library: nothing but new file facts (same
bytes as recorded), a move (the same bytes recorded at a path that is gone), or an analysis."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import Connection, and_, select

from faceme_core.library.db import schema
from faceme_core.library.library import Library
from faceme_core.library.scan.inventory import PhotoToScan

Row = Any  # a sqlalchemy Row of schema.photos


@dataclass(frozen=True)
class PhotoPlan:
    action: Literal["same_content", "moved", "analyse"]
    previous: Row | None  # the photo recorded at this path whose content this file keeps or replaces
    retired: Row | None  # a missing photo whose path this file (other bytes) took
    moved_from: Row | None  # action "moved": the photo recorded with these bytes at a vanished path


def plan_photo(library: Library, item: PhotoToScan, digest: str) -> PhotoPlan:
    photos = schema.photos
    with library.reading() as conn:
        previous = (
            conn.execute(select(photos).where(photos.c.id == item.known_id)).one()
            if item.known_id is not None
            else None
        )
        # A missing photo's path now holds other bytes: a new photo. The missing one keeps its faces,
        # people and references (until the user forgets missing photos) under a retired path, and is
        # still recognised by its hash if it turns up elsewhere.
        retired = None
        if previous is not None and previous.status == "missing" and previous.content_hash != digest:
            retired, previous = previous, None
        moved_from = None if previous is not None else find_moved(conn, digest)
    # Same bytes as what the library holds: only the file's size/mtime/place changed.
    if previous is not None and previous.content_hash == digest and previous.error is None:
        return PhotoPlan("same_content", previous, retired, None)
    if moved_from is not None:
        return PhotoPlan("moved", previous, retired, moved_from)
    return PhotoPlan("analyse", previous, retired, None)


def find_moved(conn: Connection, digest: str) -> Row | None:
    """A photo with these bytes whose recorded path no longer exists: the same photo, moved. Any
    such row counts, even one in a folder this scan does not cover (moved between albums and only
    the destination scanned); rows already marked missing first. A row not marked missing counts
    only when its album folder is reachable: in an album whose drive is unplugged every path is
    gone, and a copy of one of its photos elsewhere must not take that photo away."""
    photos, albums = schema.photos, schema.albums
    candidates = conn.execute(
        select(photos.c.id, photos.c.path, photos.c.status, albums.c.path.label("album_path"))
        .join(albums, albums.c.id == photos.c.album_id)
        .where(and_(photos.c.content_hash == digest, photos.c.error.is_(None)))
        .order_by(photos.c.status != "missing", photos.c.id)
    ).all()
    for row in candidates:
        if os.path.exists(row.path):
            continue
        if row.status == "missing" or os.path.isdir(row.album_path):
            return row
    return None
