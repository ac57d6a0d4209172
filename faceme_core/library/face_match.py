"""Matching the faces of an edited photo to the faces it had before (pure functions, no database).

A photo edited in place (new EXIF date, retouch, exposure) keeps its faces where they were. Matching
them lets the library keep the face rows, so the user's decisions about them (assignments,
rejections, references, covers) survive the edit instead of being wiped with the old rows.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from faceme_core.library.types import Box

# Same face if the boxes overlap this much (intersection over union): a re-detection of the same face
# moves by a few pixels; two different faces side by side overlap far less.
MIN_IOU = 0.5


def box_iou(a: Box, b: Box) -> float:
    """Intersection over union of two (x0, y0, x1, y1) boxes; 0 for disjoint or empty boxes."""
    width = min(a[2], b[2]) - max(a[0], b[0])
    height = min(a[3], b[3]) - max(a[1], b[1])
    if width <= 0 or height <= 0:
        return 0.0
    inter = width * height
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return float(inter / union) if union > 0 else 0.0


def match_faces(
    old_boxes: Sequence[Box],
    new_boxes: Sequence[Box],
    *,
    old_vectors: Sequence[np.ndarray | None] | None = None,
    new_vectors: Sequence[np.ndarray | None] | None = None,
    min_similarity: float | None = None,
    min_iou: float = MIN_IOU,
) -> list[tuple[int, int]]:
    """(old index, new index) pairs, each face used once, best overlap first.

    A pair needs boxes overlapping by ``min_iou``; when both faces have a vector and
    ``min_similarity`` is given, also that cosine similarity, so a different person standing where
    someone else stood (a different photo saved under the same name) is not taken for them.
    """
    candidates = []
    for i, old in enumerate(old_boxes):
        for j, new in enumerate(new_boxes):
            iou = box_iou(old, new)
            if iou < min_iou:
                continue
            if min_similarity is not None and old_vectors is not None and new_vectors is not None:
                a, b = old_vectors[i], new_vectors[j]
                if a is not None and b is not None and _cosine(a, b) < min_similarity:
                    continue
            candidates.append((iou, i, j))
    pairs: list[tuple[int, int]] = []
    used_old: set[int] = set()
    used_new: set[int] = set()
    for _iou, i, j in sorted(candidates, key=lambda c: (-c[0], c[1], c[2])):
        if i not in used_old and j not in used_new:
            pairs.append((i, j))
            used_old.add(i)
            used_new.add(j)
    return sorted(pairs)


def _cosine(a: np.ndarray, b: np.ndarray) -> float:
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return float(a @ b / max(np.linalg.norm(a) * np.linalg.norm(b), 1e-12))
