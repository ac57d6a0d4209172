"""Numpy arrays <-> SQLite blobs (little-endian float32, shape known from the column)."""

from __future__ import annotations

import numpy as np

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


def stack_vectors(blobs: list[bytes]) -> np.ndarray:
    """(n, d) float32 matrix from n vector blobs (n may be 0: shape (0, 0))."""
    if not blobs:
        return np.zeros((0, 0), dtype=np.float32)
    return np.stack([blob_to_vector(blob) for blob in blobs])
