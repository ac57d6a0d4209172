"""Libraries built directly from chosen embedding vectors, for grouping tests that need exact
geometry (who looks like whom) rather than real photos."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from sqlalchemy import insert

from faceme_core.library.db import schema
from faceme_core.library.db.codec import points_to_blob, vector_to_blob
from faceme_core.library.library import Library, set_meta
from faceme_core.library.scan import ACTIVE_MODEL_KEY

MODEL = "dlib/resnet-v1"
DIM = 128


def unit(vector: np.ndarray) -> np.ndarray:
    return vector / np.linalg.norm(vector)


def near(centre: np.ndarray, rng: np.random.Generator, spread: float = 0.02) -> np.ndarray:
    """A face of the person at ``centre``: cosine ~0.9998 to it at the default spread."""
    return unit(centre + spread * unit(rng.normal(size=len(centre))))


def add_faces(
    library: Library,
    folder: Path,
    vectors: list[np.ndarray],
    photo_of: list[int] | None = None,
    quality: list[float] | None = None,
) -> list[int]:
    """One face per vector (in photo ``photo_of[i]``, default one photo each; quality score
    ``quality[i]``, default 0.9); returns the face ids."""
    photo_of = photo_of if photo_of is not None else list(range(len(vectors)))
    with library.transaction() as conn:
        set_meta(conn, ACTIVE_MODEL_KEY, MODEL)
        album = conn.execute(insert(schema.albums).values(path=str(folder), added_at=0.0)).inserted_primary_key[0]
        photo_ids = {}
        for photo in sorted(set(photo_of)):
            photo_ids[photo] = conn.execute(
                insert(schema.photos).values(
                    album_id=album,
                    path=str(folder / f"p{photo}.jpg"),
                    size=1,
                    mtime_ns=1,
                    status="ok",
                    scanned_at=0.0,
                    content_hash=f"h{photo}",
                )
            ).inserted_primary_key[0]
    quality = quality if quality is not None else [0.9] * len(vectors)
    return [
        add_face(library, photo_ids[photo], vector, index, score)
        for index, (vector, photo, score) in enumerate(zip(vectors, photo_of, quality, strict=True))
    ]


def add_face(library: Library, photo_id: int, vector: np.ndarray, index: int = 0, quality: float = 0.9) -> int:
    """One more face (box ``index`` steps to the right) in an existing photo; returns its id."""
    with library.transaction() as conn:
        face_id = conn.execute(
            insert(schema.faces).values(
                photo_id=photo_id,
                x0=10.0 * index,
                y0=0.0,
                x1=10.0 * index + 8,
                y1=8.0,
                points=points_to_blob(np.zeros((5, 2), np.float32)),
                score=1.0,
                quality=quality,
            )
        ).inserted_primary_key[0]
        conn.execute(
            insert(schema.embeddings).values(
                face_id=face_id, model_id=MODEL, vector=vector_to_blob(np.asarray(vector, np.float32))
            )
        )
    return face_id
