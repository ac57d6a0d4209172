"""The faces of one photo in the database: insert them, or match an edited photo's new faces to its
old ones (keeping every user decision about a face found again). Thumbnail bookkeeping too."""

from __future__ import annotations

from typing import Sequence

from sqlalchemy import Connection, delete, insert, select, update

from faceme_core.faces.types import Embedding, Face
from faceme_core.library import clustering
from faceme_core.library.db import schema
from faceme_core.library.db.codec import blob_to_vector, points_to_blob, vector_to_blob
from faceme_core.library.face_match import match_faces


def thumbnails_of(conn: Connection, photo_ids: Sequence[int]) -> list[str]:
    faces = schema.faces
    return [
        name
        for name in conn.execute(select(faces.c.thumbnail).where(faces.c.photo_id.in_(photo_ids))).scalars()
        if name
    ]


def unused_thumbnails(conn: Connection, names: Sequence[str]) -> list[str]:
    """The thumbnails no face uses any more (identical photos at two paths share theirs)."""
    used: set[str] = set()
    for start in range(0, len(names), 500):
        chunk = names[start : start + 500]
        used |= set(conn.execute(select(schema.faces.c.thumbnail).where(schema.faces.c.thumbnail.in_(chunk))).scalars())
    return [name for name in names if name not in used]


def _face_values(face: Face, thumbnail: str | None) -> dict:
    x0, y0, x1, y1 = (float(v) for v in face.box)
    return dict(
        x0=x0,
        y0=y0,
        x1=x1,
        y1=y1,
        points=points_to_blob(face.points),
        score=float(face.score),
        quality=float(face.quality),
        thumbnail=thumbnail,
    )


def insert_embedding(conn: Connection, face_id: int, embedding: Embedding) -> None:
    conn.execute(
        insert(schema.embeddings).values(
            face_id=face_id, model_id=embedding.model_id, vector=vector_to_blob(embedding.vector)
        )
    )


def insert_faces(conn: Connection, photo_id: int, faces: Sequence[tuple[Face, str | None]]) -> list[int]:
    ids = []
    for face, thumbnail in faces:
        face_id = conn.execute(
            insert(schema.faces).values(photo_id=photo_id, **_face_values(face, thumbnail))
        ).inserted_primary_key[0]
        insert_embedding(conn, face_id, face.embedding)
        ids.append(face_id)
    return ids


def _same_face_similarity(model_id: str) -> float | None:
    """How similar an edited face's embedding must stay to count as the same face: the model's
    grouping threshold (None for a model without documented thresholds: boxes decide alone)."""
    try:
        return clustering.params_for_model(model_id).join_similarity
    except ValueError:
        return None


def update_faces(
    conn: Connection,
    photo_id: int,
    new_faces: Sequence[tuple[Face, str | None]],
    *,
    old_size: tuple[int, int] | None = None,
    new_size: tuple[int, int] | None = None,
) -> tuple[list[str], int]:
    """An edited photo's faces. A face found again (where an old one was, relative to the photo's
    (width, height) before and after, or else the same person: see ``match_faces``) keeps the old
    row (and so the user's assignment, rejections, references and cover), with its new box,
    landmarks, thumbnail and embedding; old faces not found again are deleted; the others are added.
    Returns (the old thumbnail names, to remove if now unused; the number of faces added)."""
    faces, embeddings = schema.faces, schema.embeddings
    old = conn.execute(
        select(faces.c.id, faces.c.x0, faces.c.y0, faces.c.x1, faces.c.y1, faces.c.thumbnail)
        .where(faces.c.photo_id == photo_id)
        .order_by(faces.c.id)
    ).all()
    model_id = new_faces[0][0].embedding.model_id if new_faces else ""
    stored = dict(
        conn.execute(
            select(embeddings.c.face_id, embeddings.c.vector).where(
                embeddings.c.model_id == model_id, embeddings.c.face_id.in_([row.id for row in old])
            )
        ).all()
    )
    pairs = match_faces(
        [(row.x0, row.y0, row.x1, row.y1) for row in old],
        [face.box for face, _ in new_faces],
        old_size=old_size,
        new_size=new_size,
        old_vectors=[blob_to_vector(stored[row.id]) if row.id in stored else None for row in old],
        new_vectors=[face.embedding.vector for face, _ in new_faces],
        min_similarity=_same_face_similarity(model_id),
    )
    kept = {new_index: old[old_index].id for old_index, new_index in pairs}
    gone = [row.id for row in old if row.id not in kept.values()]
    for start in range(0, len(gone), 500):
        conn.execute(delete(faces).where(faces.c.id.in_(gone[start : start + 500])))
    for new_index, face_id in kept.items():
        face, thumbnail = new_faces[new_index]
        conn.execute(update(faces).where(faces.c.id == face_id).values(**_face_values(face, thumbnail)))
        # Every stored embedding described the old pixels: replace them with the new one.
        conn.execute(delete(embeddings).where(embeddings.c.face_id == face_id))
        insert_embedding(conn, face_id, face.embedding)
    added = insert_faces(conn, photo_id, [face for index, face in enumerate(new_faces) if index not in kept])
    return [row.thumbnail for row in old if row.thumbnail], len(added)
