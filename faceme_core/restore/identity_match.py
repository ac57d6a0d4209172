"""Which faces of a photo the references belong to.

A face matches when its ArcFace (glintr100) cosine similarity to its closest reference is at least
``IDENTITY_MATCH_THRESHOLD`` (0.30, from ``faces.embedding_models``, where it is explained).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from faceme_core.faces.embedding_models import ARCFACE_MODEL_ID, embedding_model
from faceme_core.faces.types import Embedding

IDENTITY_MATCH_THRESHOLD = embedding_model(ARCFACE_MODEL_ID).restore_match_similarity


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
