"""Arithmetic on (x0, y0, x1, y1) face boxes, shared by the restore planner and the library's scan."""

from __future__ import annotations

from typing import Sequence


def box_area(box: Sequence[float]) -> float:
    """0 for empty or inverted boxes."""
    return max(0.0, box[2] - box[0]) * max(0.0, box[3] - box[1])


def box_iou(a: Sequence[float], b: Sequence[float]) -> float:
    """Intersection over union; 0 for disjoint or empty boxes."""
    inter = box_area((max(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3])))
    union = box_area(a) + box_area(b) - inter
    return float(inter / union) if union > 0 else 0.0


def pick_box(boxes: Sequence[Sequence[float]], hint: Sequence[float] | None = None) -> int:
    """Which face of a reference photo is the person's: the one best overlapping ``hint`` (an album
    face's box), else the largest. Shared by reference loading (restore) and checking (library)."""
    if hint is not None:
        return max(range(len(boxes)), key=lambda i: box_iou(boxes[i], hint))
    return max(range(len(boxes)), key=lambda i: box_area(boxes[i]))
