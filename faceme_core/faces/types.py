"""Typed results of face analysis, shared by the CLI, the engine and the album library.

Coordinates are always in the full-resolution photo's pixel space (x right, y down), floats.
The five points follow insightface's order, in image terms: the eye on the image's left first.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# Index names for the (5, 2) key-point arrays.
LEFT_EYE, RIGHT_EYE, NOSE, LEFT_MOUTH, RIGHT_MOUTH = range(5)


class EmbeddingMismatchError(ValueError):
    """Two embeddings made by different models were compared: their distances mean nothing."""


@dataclass(frozen=True)
class Embedding:
    model_id: str  # e.g. "dlib/resnet-v1" or "insightface/antelopev2/glintr100"
    vector: np.ndarray  # float32, L2-normalised

    def similarity(self, other: "Embedding") -> float:
        """Cosine similarity; refuses to compare embeddings of different models."""
        if other.model_id != self.model_id:
            raise EmbeddingMismatchError(f"cannot compare {self.model_id} with {other.model_id} embeddings")
        return float(np.dot(self.vector, other.vector))


@dataclass(frozen=True)
class Detection:
    """What a detector returns: where a face is, before embedding and quality."""

    box: tuple[float, float, float, float]  # x0, y0, x1, y1
    points: np.ndarray  # (5, 2) float32
    score: float  # detector confidence in [0, 1]

    @property
    def eye_distance(self) -> float:
        return float(np.linalg.norm(self.points[RIGHT_EYE] - self.points[LEFT_EYE]))


@dataclass(frozen=True)
class Face:
    """A face worth restoring: detection plus identity embedding and a quality score in [0, 1]."""

    detection: Detection
    embedding: Embedding
    quality: float

    @property
    def box(self) -> tuple[float, float, float, float]:
        return self.detection.box

    @property
    def points(self) -> np.ndarray:
        return self.detection.points

    @property
    def score(self) -> float:
        return self.detection.score


@dataclass(frozen=True)
class SkippedFace:
    """A detected face we will not restore, and why (shown to the user, never silently dropped)."""

    detection: Detection
    reason: str


@dataclass(frozen=True)
class PhotoFaces:
    size_wh: tuple[int, int]
    faces: list[Face]
    skipped: list[SkippedFace]
    backend: str  # analyzer name, e.g. "dlib"
