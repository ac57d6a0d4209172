"""Scan stage "embedding": faces lacking an embedding of the analyzer's model get one (a new model
after ``--reembed``; photos that were missing during that re-embed once they are back)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

from sqlalchemy import insert, select

from faceme_core.faces.types import Detection
from faceme_core.library.albums import is_under
from faceme_core.library.db import schema
from faceme_core.library.db.codec import blob_to_points, vector_to_blob
from faceme_core.library.library import Library, set_meta
from faceme_core.library.scan.analysis import Analyzer
from faceme_core.library.scan.files import is_regular_file
from faceme_core.library.scan.keys import EMBEDDINGS_COMPLETE_KEY, GROUPING_PENDING_KEY
from faceme_core.tasks import Cancelled, CancelToken

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Embedded:
    faces: int  # faces given an embedding
    failures: tuple[tuple[Path, str], ...]


def embed_faces_without_model(
    library: Library,
    analyzer: Analyzer,
    roots: Sequence[str],
    *,
    cancel: CancelToken,
    before_each: Callable[[int, int, str], None],
) -> Embedded:
    """Give every face of a present photo under ``roots`` an embedding from the analyzer's model (one
    commit per photo; ``before_each(index, total, path)`` runs before each, then the token is
    checked). Photos elsewhere (an album not scanned now, perhaps offline) wait for a scan of their
    folder. No query at all once the library records that every face has one (the usual case: new
    faces come with theirs); else one query, after which the flag is set if nothing is left anywhere."""
    from faceme_core import imageio

    model_id = analyzer.embedding_model_id
    if library.get_meta(EMBEDDINGS_COMPLETE_KEY) == model_id:
        return Embedded(0, ())
    faces, photos, embeddings = schema.faces, schema.photos, schema.embeddings
    has_embedding = select(embeddings.c.face_id).where(embeddings.c.model_id == model_id)
    with library.reading() as conn:
        rows = conn.execute(
            select(
                faces.c.id, faces.c.x0, faces.c.y0, faces.c.x1, faces.c.y1, faces.c.points, faces.c.score, photos.c.path
            )
            .join(photos, photos.c.id == faces.c.photo_id)
            .where(photos.c.status == "ok", faces.c.id.not_in(has_embedding))
            .order_by(photos.c.path, faces.c.id)
        ).all()
    by_photo: dict[str, list] = {}
    for row in rows:
        # Only the scanned folders, and only files there (one that vanished since the walk is
        # marked missing by the next scan, not reported as a failure; a pipe would block the read).
        if any(is_under(row.path, root) for root in roots) and is_regular_file(row.path):
            by_photo.setdefault(row.path, []).append(row)
    done, failures = 0, []
    for index, (path, face_rows) in enumerate(by_photo.items()):
        before_each(index, len(by_photo), path)
        cancel.raise_if_cancelled()
        try:
            rgb = imageio.load_photo(path).rgb8()
            vectors = [
                analyzer.backend.embed(rgb, Detection((r.x0, r.y0, r.x1, r.y1), blob_to_points(r.points), r.score))
                for r in face_rows
            ]
        except Cancelled:
            raise
        except Exception as error:  # recorded in the log; the faces keep their old-model grouping
            log.warning("reembed: %s failed: %s", path, error)
            failures.append((Path(path), f"re-embedding failed: {error}"))
            continue
        with library.transaction() as conn:
            set_meta(conn, GROUPING_PENDING_KEY, "1")
            for row, embedding in zip(face_rows, vectors, strict=True):
                conn.execute(
                    insert(embeddings).values(
                        face_id=row.id, model_id=embedding.model_id, vector=vector_to_blob(embedding.vector)
                    )
                )
        done += len(face_rows)
    if len(by_photo) == len({row.path for row in rows}) and not failures:
        with library.transaction() as conn:  # checked again under the write lock: another scan may
            # have added faces meanwhile; one row is enough to say no.
            lacking = select(faces.c.id).join(photos, photos.c.id == faces.c.photo_id)
            lacking = lacking.where(photos.c.status == "ok", faces.c.id.not_in(has_embedding)).limit(1)
            if conn.execute(lacking).first() is None:
                set_meta(conn, EMBEDDINGS_COMPLETE_KEY, model_id)
    return Embedded(done, tuple(failures))
