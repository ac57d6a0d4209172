"""Numpy arrays <-> SQLite blobs (little-endian float32, shape known from the column)."""

from __future__ import annotations

import logging
from collections import Counter
from typing import Sequence, TypeVar

import numpy as np

log = logging.getLogger(__name__)
Row = TypeVar("Row")

_FLOAT32_LE = np.dtype("<f4")


def vector_to_blob(vector: np.ndarray) -> bytes:
    return np.ascontiguousarray(vector, dtype=_FLOAT32_LE).reshape(-1).tobytes()


def blob_to_vector(blob: bytes) -> np.ndarray:
    return np.frombuffer(blob, dtype=_FLOAT32_LE).astype(np.float32)


def points_to_blob(points: np.ndarray) -> bytes:
    points = np.asarray(points, dtype=np.float32)
    if points.shape != (5, 2):
        raise ValueError(f"points: expected shape (5, 2), got {points.shape}")
    return vector_to_blob(points)


def blob_to_points(blob: bytes) -> np.ndarray:
    return blob_to_vector(blob).reshape(5, 2)


def with_usable_vectors(rows: Sequence[Row], *, size: int | None = None, what: str = "face") -> list[Row]:
    """The rows whose ``vector`` blob is a finite vector of ``size`` bytes (default: the size most rows
    have; give the library-wide size when ``rows`` are a few).

    A blob of another size (a damaged database, or a hand edit) would make every grouping and
    suggestion fail; its face is left out (as if it had no embedding) and logged, the rest go on."""
    sizes = Counter(len(row.vector) for row in rows if row.vector)
    if not sizes:
        return []
    size = size if size is not None else sizes.most_common(1)[0][0]
    usable = [
        row for row in rows
        if row.vector and len(row.vector) == size and size % _FLOAT32_LE.itemsize == 0
        and np.isfinite(blob_to_vector(row.vector)).all()
    ]
    if len(usable) < len(rows):
        log.warning("%d %s embedding(s) in the library are damaged and were left out (rescan with re-embedding "
                    "to repair them)", len(rows) - len(usable), what)
    return usable


def vector_size(conn, model_id: str) -> int | None:
    """Bytes of one stored embedding of ``model_id``, to tell damaged blobs from good ones when only a
    few rows are at hand: the model's dimension when it is a known model, else the size most of its
    stored vectors have (None: none stored)."""
    from faceme_core.faces.embedding_models import EMBEDDING_MODELS

    model = EMBEDDING_MODELS.get(model_id)
    if model is not None:
        return model.dimension * _FLOAT32_LE.itemsize
    return conn.exec_driver_sql(
        "SELECT length(vector) FROM embeddings WHERE model_id = ? GROUP BY length(vector) "
        "ORDER BY count(*) DESC LIMIT 1", (model_id,),
    ).scalar()


def stack_vectors(blobs: list[bytes]) -> np.ndarray:
    """(n, d) float32 matrix from n vector blobs (n may be 0: shape (0, 0))."""
    if not blobs:
        return np.zeros((0, 0), dtype=np.float32)
    return np.stack([blob_to_vector(blob) for blob in blobs])
