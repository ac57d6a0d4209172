"""The meta flags a scan keeps in the library, and the rule that keeps one of them honest."""

from __future__ import annotations

from sqlalchemy import Connection, select

from faceme_core.library.db import schema
from faceme_core.library.library import set_meta

ACTIVE_MODEL_KEY = "embedding_model"  # meta key: the model whose embeddings people are grouped by
# meta key: set with every commit that adds faces, cleared by the grouping that follows; a scan killed
# in between groups on its next run even when it finds nothing new, and an idle re-scan skips grouping.
GROUPING_PENDING_KEY = "grouping_pending"
# meta key: a model id when every face of a present ("ok") photo has an embedding of that model, so a
# scan with that model skips looking for faces without one; cleared ("") by every commit that may
# break it (faces written with another model, a photo back from missing).
EMBEDDINGS_COMPLETE_KEY = "embeddings_complete"


def embeddings_maybe_incomplete(conn: Connection, written_model: str | None = None) -> None:
    """Clear the "every face has an embedding of model X" flag, unless the faces just written carry
    an embedding of X (``written_model``); a photo back from missing clears it outright."""
    flag = schema.meta.c
    current = conn.execute(select(flag.value).where(flag.key == EMBEDDINGS_COMPLETE_KEY)).scalar_one_or_none()
    if current and current != written_model:
        set_meta(conn, EMBEDDINGS_COMPLETE_KEY, "")
