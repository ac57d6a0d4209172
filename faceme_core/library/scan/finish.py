"""The last scan stages: photos not found are marked missing (never forgotten: they keep their
people and references), and new faces join people."""

from __future__ import annotations

from sqlalchemy import update

from faceme_core.library import grouping
from faceme_core.library.db import schema
from faceme_core.library.library import Library, set_meta
from faceme_core.library.scan.keys import ACTIVE_MODEL_KEY, GROUPING_PENDING_KEY


def mark_missing(library: Library, photo_ids: list[int]) -> int:
    if photo_ids:
        with library.transaction() as conn:
            for start in range(0, len(photo_ids), 500):
                chunk = photo_ids[start : start + 500]
                conn.execute(update(schema.photos).where(schema.photos.c.id.in_(chunk)).values(status="missing"))
    return len(photo_ids)


def grouping_needed(library: Library, switch_model: bool) -> bool:
    return switch_model or library.get_meta(GROUPING_PENDING_KEY) == "1"


def group_faces(library: Library, model_id: str, *, switch_model: bool) -> int:
    """New faces join the nearest person or form new people; after a model switch everyone is
    regrouped around the user's decisions. One transaction. Returns the people created."""
    created = 0
    with library.transaction() as conn:
        if switch_model:
            set_meta(conn, ACTIVE_MODEL_KEY, model_id)
            created += grouping.recluster_all(conn, model_id)
        created += grouping.assign_new_faces(conn, model_id)
        set_meta(conn, GROUPING_PENDING_KEY, "0")
    return created
