"""One transaction per photo: what a scan learnt about a file goes into the library in one commit, so
a killed scan loses at most the photo in progress and a re-run finishes the job."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import Connection, insert, update

from faceme_core.library import thumbnails
from faceme_core.library.db import schema
from faceme_core.library.library import Library, set_meta
from faceme_core.library.scan.analysis import AnalysedPhoto
from faceme_core.library.scan.decide import PhotoPlan, Row
from faceme_core.library.scan.face_rows import insert_faces, unused_thumbnails, update_faces
from faceme_core.library.scan.inventory import PhotoToScan
from faceme_core.library.scan.keys import GROUPING_PENDING_KEY, embeddings_maybe_incomplete


@dataclass(frozen=True)
class Recorded:
    outcome: Literal["unchanged", "moved", "added", "changed", "failed"]
    faces_added: int = 0
    error: str = ""  # outcome "failed": why
    vanished_path: str | None = None  # outcome "moved": the old path, no longer to be marked missing


def retired_path(path: str, photo_id: int) -> str:
    """The recorded path of a missing photo whose path a different file took (paths are unique)."""
    return f"{path} (missing photo {photo_id}: another file now has its name)"


def _retire_path(conn: Connection, row: Row | None) -> None:
    if row is not None:
        conn.execute(
            update(schema.photos).where(schema.photos.c.id == row.id).values(path=retired_path(row.path, row.id))
        )


def _file_values(item: PhotoToScan) -> dict:
    return dict(size=item.entry.size, mtime_ns=item.entry.mtime_ns, album_id=item.album_id, scanned_at=time.time())


def record_failure(
    library: Library, item: PhotoToScan, photo_id: int | None, digest: str | None, error: str, *, retired: Row | None = None
) -> Recorded:
    values = dict(_file_values(item), content_hash=digest, status="error", error=error)
    with library.transaction() as conn:
        _retire_path(conn, retired)  # a missing photo whose path this file took (see decide.plan_photo)
        if photo_id is not None:
            # Its faces stay: a photo that became unreadable may come back, and references point at them.
            conn.execute(update(schema.photos).where(schema.photos.c.id == photo_id).values(**values))
        else:
            conn.execute(insert(schema.photos).values(path=item.entry.path, **values))
    return Recorded("failed", error=error)


def record_same_content(library: Library, item: PhotoToScan, plan: PhotoPlan) -> Recorded:
    photos = schema.photos
    with library.transaction() as conn:
        conn.execute(update(photos).where(photos.c.id == plan.previous.id).values(status="ok", **_file_values(item)))
        if plan.previous.status == "missing":
            embeddings_maybe_incomplete(conn)
    return Recorded("unchanged")


def record_moved(library: Library, item: PhotoToScan, plan: PhotoPlan) -> Recorded:
    photos, moved_from = schema.photos, plan.moved_from
    with library.transaction() as conn:
        _retire_path(conn, plan.retired)
        conn.execute(
            update(photos)
            .where(photos.c.id == moved_from.id)
            .values(path=item.entry.path, status="ok", **_file_values(item))
        )
        if moved_from.status != "ok":
            embeddings_maybe_incomplete(conn)
    return Recorded("moved", vanished_path=moved_from.path)


def record_analysed(
    library: Library, item: PhotoToScan, plan: PhotoPlan, digest: str, analysed: AnalysedPhoto, analyzer_name: str
) -> Recorded:
    photos, previous = schema.photos, plan.previous
    values = dict(
        content_hash=digest,
        width=analysed.width,
        height=analysed.height,
        format=analysed.format,
        date_taken=analysed.date_taken,
        status="ok",
        error=None,
        skipped_faces=analysed.skipped,
        analyzer=analyzer_name,
        **_file_values(item),
    )
    with library.transaction() as conn:
        _retire_path(conn, plan.retired)
        old_thumbnails: list[str] = []
        if previous is not None:  # new content at a known path (an edit): keep the faces found again
            conn.execute(update(photos).where(photos.c.id == previous.id).values(**values))
            old_size = (previous.width, previous.height) if previous.width and previous.height else None
            old_thumbnails, added = update_faces(
                conn, previous.id, analysed.faces, old_size=old_size, new_size=(analysed.width, analysed.height)
            )
        else:
            photo_id = conn.execute(insert(photos).values(path=item.entry.path, **values)).inserted_primary_key[0]
            added = len(insert_faces(conn, photo_id, analysed.faces))
        if added:
            set_meta(conn, GROUPING_PENDING_KEY, "1")
        if analysed.faces:
            embeddings_maybe_incomplete(conn, analysed.faces[0][0].embedding.model_id)
        unused = unused_thumbnails(conn, old_thumbnails)
    thumbnails.remove_thumbnails(library.thumbnails_dir, unused)  # after the commit: a kill leaves only strays
    return Recorded("changed" if previous is not None else "added", faces_added=added)
