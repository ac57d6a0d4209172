"""Which faces of a photo the references belong to.

A face matches when its ArcFace (glintr100) cosine similarity to its closest reference is at least
``IDENTITY_MATCH_THRESHOLD``. Same-person pairs of clean photos score 0.5-0.8 with glintr100 and
different people stay below about 0.2; degraded faces (blur, noise, tiny) lose similarity, so the
threshold sits low, at 0.30, still well above the different-person range.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from faceme_core.faces.types import Embedding

IDENTITY_MATCH_THRESHOLD = 0.30


@dataclass(frozen=True)
class FaceMatch:
    similarity: float | None  # best cosine similarity to any reference; None without references
    matched: bool


def best_similarity(embedding: Embedding, references: Sequence[Embedding]) -> float | None:
    if not references:
        return None
    return max(embedding.similarity(reference) for reference in references)


def match_face(
    embedding: Embedding, references: Sequence[Embedding], threshold: float = IDENTITY_MATCH_THRESHOLD
) -> FaceMatch:
    similarity = best_similarity(embedding, references)
    return FaceMatch(similarity=similarity, matched=similarity is not None and similarity >= threshold)
