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

    When both sizes are known, the old boxes are also tried turned a half turn, or a quarter turn
    either way when the sides swapped (a photo rotated after the scan); the turn pairing the most
    faces (then the most similar ones) wins, no turn on a tie.
    """
    have_vectors = min_similarity is not None and old_vectors is not None and new_vectors is not None
    pairs: list[tuple[int, int]] = []
    used_old: set[int] = set()
    used_new: set[int] = set()
    # A photo turned a quarter or half turn since the scan: its faces are where the old ones were,
    # turned the same way. Try each turn the sizes allow; keep the one that explains most faces.
    best: list = []
    for turns in _possible_turns(old_size, new_size):
        candidates = []
        for i, old_box in enumerate(old_boxes):
            old = _turned(_normalised(old_box, old_size if new_size else None), turns)
            for j, new_box in enumerate(new_boxes):
                iou = box_iou(old, _normalised(new_box, new_size if old_size else None))
                if iou < min_iou:
                    continue
                similarity = None
                if have_vectors:
                    a, b = old_vectors[i], new_vectors[j]
                    if a is not None and b is not None:
                        similarity = _cosine(a, b)
                        if similarity < min_similarity:
                            continue
                candidates.append((iou, i, j, similarity))
        turn_pairs: list[tuple[int, int]] = []
        _take_best([(iou, i, j) for iou, i, j, _ in candidates], turn_pairs, set(), set())
        taken = set(turn_pairs)
        score = (
            len(turn_pairs),
            sum(s or 0.0 for _iou, i, j, s in candidates if (i, j) in taken),
            sum(iou for iou, i, j, _s in candidates if (i, j) in taken),
        )
        if not best or score > best[0]:
            best = [score, turn_pairs]
    for i, j in best[1] if best else []:
        pairs.append((i, j))
        used_old.add(i)
        used_new.add(j)
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


# Two sizes are one photo turned when their aspect ratios agree this closely (a re-encode or a
# resize keeps the ratio to a pixel or two).
ASPECT_TOLERANCE = 0.02


def _possible_turns(old_size: tuple[int, int] | None, new_size: tuple[int, int] | None) -> list[int]:
    """Quarter turns (clockwise) that could take the old photo to the new one: 0 always first (the
    common case wins ties), then 2, and 1 and 3 when the new photo has the old one's sides swapped."""
    if not old_size or not new_size or not all(old_size) or not all(new_size):
        return [0]
    old_aspect, new_aspect = old_size[0] / old_size[1], new_size[0] / new_size[1]
    turns = []
    if abs(new_aspect / old_aspect - 1) <= ASPECT_TOLERANCE:
        turns += [0, 2]
    if abs(new_aspect * old_aspect - 1) <= ASPECT_TOLERANCE:
        turns += [1, 3]
    return sorted(set(turns), key=[0, 2, 1, 3].index) or [0]


def _turned(box: Box, turns: int) -> Box:
    """A box in coordinates relative to the photo's size (0..1), after ``turns`` clockwise quarter
    turns of the photo: a point (u, v) goes to (1 - v, u) per turn."""
    x0, y0, x1, y1 = box
    for _ in range(turns % 4):
        x0, y0, x1, y1 = 1 - y1, x0, 1 - y0, x1
    return (x0, y0, x1, y1)


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
