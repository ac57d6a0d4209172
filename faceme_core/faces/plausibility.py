"""Is a detection a face at all? Geometry and confidence checks that drop detector false positives.

Detectors fire on face-like textures: large printed letters on a backdrop ("O O" over a bar),
brickwork, foliage. Such hits are typically small, low-scoring and geometrically odd: key points
that do not sit like eyes, nose and mouth inside the box. A false face in the library becomes a
"person" whose crops may be offered as references, so a detection must pass every rule below.

The ranges hold every real face of the test photos (dlib) with room to spare: eye distance / box
width 0.35-0.46, eye line at 0.22-0.41 of the box height, roll up to 21 degrees, and a score of
0.71 for the smallest face (eyes 15 px apart). tests/faces/test_plausibility.py checks them on
every photo of tests/data.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from faceme_core.faces.types import LEFT_EYE, LEFT_MOUTH, NOSE, RIGHT_EYE, RIGHT_MOUTH, Detection


@dataclass(frozen=True)
class PlausibilityRules:
    eye_distance_to_width: tuple[float, float] = (0.2, 0.75)
    eye_line_height: tuple[float, float] = (0.05, 0.75)  # where the eyes sit, as a fraction of the box height
    max_roll_degrees: float = 60.0
    # Small detections are where false positives live: below this eye distance a face needs a
    # clearly positive score (dlib's HOG margin 0.2, an SCRFD probability of 0.6).
    small_eye_distance_px: float = 20.0
    small_face_min_score: float = 0.6


DEFAULT_RULES = PlausibilityRules()


def implausibility(detection: Detection, rules: PlausibilityRules = DEFAULT_RULES) -> str | None:
    """Why ``detection`` is not a plausible face, or None when it is."""
    x0, y0, x1, y1 = detection.box
    width, height = x1 - x0, y1 - y0
    if width <= 0 or height <= 0:
        return "empty box"
    points = np.asarray(detection.points, dtype=np.float64)
    if not np.isfinite(points).all():
        return "key points are not finite"
    eyes = points[[LEFT_EYE, RIGHT_EYE]]
    eye_vector = eyes[1] - eyes[0]
    eye_distance = float(np.hypot(*eye_vector))
    low, high = rules.eye_distance_to_width
    if not low <= eye_distance / width <= high:
        return f"eyes {eye_distance / width:.2f} box widths apart (a face: {low}-{high})"
    roll = math.degrees(math.atan2(eye_vector[1], eye_vector[0]))
    if abs(roll) > rules.max_roll_degrees:
        return f"eye line tilted {roll:.0f} degrees"
    eye_line = (eyes[:, 1].mean() - y0) / height
    low, high = rules.eye_line_height
    if not low <= eye_line <= high:
        return f"eyes at {eye_line:.2f} of the box height (a face: {low}-{high})"
    # Nose and mouth below the eye line, measured across it (so a tilted head still passes).
    normal = np.array([-eye_vector[1], eye_vector[0]]) / max(eye_distance, 1e-9)
    below = (points[[NOSE, LEFT_MOUTH, RIGHT_MOUTH]] - eyes.mean(axis=0)) @ normal
    if (below <= 0.1 * eye_distance).any():
        return "nose or mouth not below the eyes"
    if eye_distance < rules.small_eye_distance_px and detection.score < rules.small_face_min_score:
        return f"small ({eye_distance:.0f} px between the eyes) with a low detector score {detection.score:.2f}"
    return None


def is_plausible_face(detection: Detection, rules: PlausibilityRules = DEFAULT_RULES) -> bool:
    return implausibility(detection, rules) is None
