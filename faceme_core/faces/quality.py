"""How good a detected face is as a restoration input or identity reference: a score in [0, 1].

Four components, each in [0, 1]:

- sharpness: the face is aligned to the FFHQ template at 256x256 (half the restorer's 512), converted
  to gray, and the variance v of its Laplacian is taken over the inner face (eyes, nose, mouth; hair
  and background excluded, so a busy background does not count as detail). sharpness = v / (v + 50):
  a soft but usable face (a good print scan) has v ~ 50 and scores 0.5. Faces smaller than the crop
  are upscaled into it and score low, as they should: they hold less detail.
- size: from the eye distance d, on a log scale between the smallest face we restore
  (``MIN_EYE_DISTANCE_PX`` = 8 px: 0) and the template's own eye distance at 512 px (126 px: 1).
- pose (frontal-ness): 1 - the horizontal offset of the nose tip from the eyes' midpoint, measured
  along the eye line in units of half the eye distance (0 for a frontal face, ~1 for a profile).
  The dlib backend's nose tip is estimated (see dlib_backend), so with it this cue is attenuated.
- detection: the detector's own confidence.

value = sharpness^0.4 * size^0.3 * pose^0.15 * detection^0.15, a weighted geometric mean: a face bad
on any one count cannot be rescued by the others, and sharpness and size (what the restorer can work
from) weigh most.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from faceme_core.faces.align import FFHQ_TEMPLATE_512, align_face
from faceme_core.faces.types import LEFT_EYE, NOSE, RIGHT_EYE, Detection

# The smallest face FaceMe can restore: its training degraded 512 px faces by down-sampling up to
# 16x, and the template's eye distance at 512 px is ~126 px, so 126 / 16 ~ 8 px is the
# smallest eye distance the model ever learnt from.
MIN_EYE_DISTANCE_PX = 8.0
FULL_EYE_DISTANCE_PX = float(np.linalg.norm(FFHQ_TEMPLATE_512[RIGHT_EYE] - FFHQ_TEMPLATE_512[LEFT_EYE]))

SHARPNESS_CROP_SIZE = 256
SHARPNESS_HALF_VARIANCE = 50.0
# Inner face in template coordinates (fractions of the crop): brows to chin-top, cheek to cheek.
_INNER_Y = (0.38, 0.78)
_INNER_X = (0.30, 0.70)

WEIGHTS = {"sharpness": 0.4, "size": 0.3, "pose": 0.15, "detection": 0.15}


@dataclass(frozen=True)
class QualityScore:
    sharpness: float
    size: float
    pose: float
    detection: float

    @property
    def value(self) -> float:
        """Weighted geometric mean of the components (see module docstring), in [0, 1]."""
        total = 1.0
        for name, weight in WEIGHTS.items():
            total *= max(getattr(self, name), 0.0) ** weight
        return float(total)


def face_quality(rgb: np.ndarray, detection: Detection) -> QualityScore:
    """Score one detected face of this uint8 (or uint16) RGB image."""
    return QualityScore(
        sharpness=sharpness_score(rgb, detection.points),
        size=size_score(detection.eye_distance),
        pose=pose_score(detection.points),
        detection=float(np.clip(detection.score, 0.0, 1.0)),
    )


def laplacian_variance(rgb: np.ndarray, points: np.ndarray) -> float:
    """Variance of the Laplacian of the inner face, aligned at SHARPNESS_CROP_SIZE, on 0..255 gray."""
    import cv2

    aligned = align_face(rgb, points, size=SHARPNESS_CROP_SIZE).crop
    gray = aligned.astype(np.float32).mean(axis=2)
    if rgb.dtype == np.uint16:
        gray /= 257.0
    y0, y1 = (round(f * SHARPNESS_CROP_SIZE) for f in _INNER_Y)
    x0, x1 = (round(f * SHARPNESS_CROP_SIZE) for f in _INNER_X)
    return float(cv2.Laplacian(gray[y0:y1, x0:x1], cv2.CV_32F).var())


def sharpness_score(rgb: np.ndarray, points: np.ndarray) -> float:
    variance = laplacian_variance(rgb, points)
    return variance / (variance + SHARPNESS_HALF_VARIANCE)


def size_score(eye_distance: float) -> float:
    if eye_distance <= MIN_EYE_DISTANCE_PX:
        return 0.0
    ratio = math.log(eye_distance / MIN_EYE_DISTANCE_PX) / math.log(FULL_EYE_DISTANCE_PX / MIN_EYE_DISTANCE_PX)
    return float(min(1.0, ratio))


def pose_score(points: np.ndarray) -> float:
    points = np.asarray(points, dtype=np.float64)
    eye_vector = points[RIGHT_EYE] - points[LEFT_EYE]
    half_eye_distance = np.linalg.norm(eye_vector) / 2.0
    if half_eye_distance <= 1e-6:
        return 0.0
    midpoint = (points[RIGHT_EYE] + points[LEFT_EYE]) / 2.0
    offset = abs(float(np.dot(points[NOSE] - midpoint, eye_vector / (2.0 * half_eye_distance))))
    return float(np.clip(1.0 - offset / half_eye_distance, 0.0, 1.0))

