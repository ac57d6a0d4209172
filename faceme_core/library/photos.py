"""The library's photos by status, and forgetting the missing ones (only when the user asks)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import delete, func, select

from faceme_core.library import grouping
from faceme_core.library.db import schema
from faceme_core.library.library import Library
from faceme_core.library.thumbnails import remove_thumbnails
from faceme_core.library.types import PhotoRecord


def list_photos(library: Library, status: str | None = None) -> list[PhotoRecord]:
    """Photos (all, or those with ``status``: "ok", "error", "missing"), by path."""
    photos, faces = schema.photos, schema.faces
    query = select(
        photos.c.id,
        photos.c.path,
        photos.c.status,
        photos.c.error,
        photos.c.width,
        photos.c.height,
        photos.c.date_taken,
    )
    if status is not None:
        query = query.where(photos.c.status == status)
    with library.reading() as conn:
        face_counts = dict(
            conn.execute(select(faces.c.photo_id, func.count(faces.c.id)).group_by(faces.c.photo_id)).all()
        )
        rows = conn.execute(query.order_by(photos.c.path)).all()
    return [
        PhotoRecord(
            id=row.id,
            path=Path(row.path),
            status=row.status,
            error=row.error,
            size_wh=(row.width, row.height) if row.width else None,
            date_taken=row.date_taken,
            face_count=face_counts.get(row.id, 0),
        )
        for row in rows
    ]


def forget_missing(library: Library) -> int:
    """Remove missing photos with their faces (and the references and decisions about those faces);
    people left with nothing the user gave them are removed too. Returns the photos forgotten."""
    from faceme_core.library.scan import thumbnails_of, unused_thumbnails

    photos = schema.photos
    with library.transaction() as conn:
        ids = conn.execute(select(photos.c.id).where(photos.c.status == "missing")).scalars().all()
        names: list[str] = []
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            names += thumbnails_of(conn, chunk)
            conn.execute(delete(photos).where(photos.c.id.in_(chunk)))
        grouping.remove_empty_people(conn)
        unused = unused_thumbnails(conn, names)
    remove_thumbnails(library.thumbnails_dir, unused)
    return len(ids)
