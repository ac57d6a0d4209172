"""Matching the faces of an edited photo to the faces it had before (pure functions, no database).

A photo edited in place (new EXIF date, retouch, exposure, resize, crop) keeps its faces: where they
were (relative to the photo's size), or else recognisably the same people. Matching them lets the
library keep the face rows, so the user's decisions about them (assignments,
rejections, references, covers) survive the edit instead of being wiped with the old rows.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from faceme_core.faces.boxes import box_iou
from faceme_core.library.types import Box

# Same face if the boxes overlap this much (intersection over union): a re-detection of the same face
# moves by a few pixels; two different faces side by side overlap far less.
MIN_IOU = 0.5


def match_faces(
    old_boxes: Sequence[Box],
    new_boxes: Sequence[Box],
    *,
    old_size: tuple[int, int] | None = None,
    new_size: tuple[int, int] | None = None,
    old_vectors: Sequence[np.ndarray | None] | None = None,
    new_vectors: Sequence[np.ndarray | None] | None = None,
    min_similarity: float | None = None,
    min_iou: float = MIN_IOU,
) -> list[tuple[int, int]]:
    """(old index, new index) pairs, each face used once.

    First by place, best overlap first: boxes overlapping by ``min_iou`` once each is divided by its
    photo's (width, height) (``old_size``, ``new_size``; pixels when either is unknown), so a resized
    photo keeps its faces. When both faces have a vector and ``min_similarity`` is given, a pair by
    place also needs that cosine similarity, so a different person standing where someone else stood
    (a different photo saved under the same name) is not taken for them. Then, for the faces still
    unpaired (a crop or rotation moved them), by identity alone: most similar pairs first, each at
    least ``min_similarity``.
    """
    have_vectors = min_similarity is not None and old_vectors is not None and new_vectors is not None
    old_places = [_normalised(box, old_size if new_size else None) for box in old_boxes]
    new_places = [_normalised(box, new_size if old_size else None) for box in new_boxes]
    candidates = []
    for i, old in enumerate(old_places):
        for j, new in enumerate(new_places):
            iou = box_iou(old, new)
            if iou < min_iou:
                continue
            if have_vectors:
                a, b = old_vectors[i], new_vectors[j]
                if a is not None and b is not None and _cosine(a, b) < min_similarity:
                    continue
            candidates.append((iou, i, j))
    pairs: list[tuple[int, int]] = []
    used_old: set[int] = set()
    used_new: set[int] = set()
    _take_best(candidates, pairs, used_old, used_new)
    if have_vectors:
        by_identity = []
        for i, a in enumerate(old_vectors):
            for j, b in enumerate(new_vectors):
                if i in used_old or j in used_new or a is None or b is None:
                    continue
                similarity = _cosine(a, b)
                if similarity >= min_similarity:
                    by_identity.append((similarity, i, j))
        _take_best(by_identity, pairs, used_old, used_new)
    return sorted(pairs)


def _take_best(candidates: list, pairs: list, used_old: set[int], used_new: set[int]) -> None:
    """Greedy one-to-one: highest score first (ties by index, so the result is deterministic)."""
    for _score, i, j in sorted(candidates, key=lambda c: (-c[0], c[1], c[2])):
        if i not in used_old and j not in used_new:
            pairs.append((i, j))
            used_old.add(i)
            used_new.add(j)


def _normalised(box: Box, size: tuple[int, int] | None) -> Box:
    if not size or not size[0] or not size[1]:
        return tuple(float(v) for v in box)
    width, height = float(size[0]), float(size[1])
    return (box[0] / width, box[1] / height, box[2] / width, box[3] / height)


def _cosine(a: np.ndarray, b: np.ndarray) -> float:
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return float(a @ b / max(np.linalg.norm(a) * np.linalg.norm(b), 1e-12))
