"""How good a detected face is as a restoration input or identity reference: a score in [0, 1].

Four components, each in [0, 1]:

- sharpness: real detail, not noise or compression artefacts (which also add high frequencies, and
  would otherwise make a noisy, blocky or pixelated copy look sharper than its original). The product
  of three factors:

  * detail: the face is aligned to the FFHQ template at 256x256 (half the restorer's 512) and
    converted to gray (0..255); a 3x3 median removes pixel noise, then d is the variance, over the
    inner face (eyes, nose, mouth; hair and background excluded), of the mid band
    G(sigma=1) - G(sigma=2) (difference of Gaussians): features a few pixels wide, the scale of lids,
    nostrils and lips, above the finest band where noise and block edges live.
    detail = d / (d + 10): a soft but usable face (a good print scan) has d ~ 10 and scores 0.5.
    Faces smaller than the crop are upscaled into it and score low, as they should.
  * noise: sigma, the noise level of the face's box in the photo's own pixels (Immerkaer's fast
    estimator: mean |I * [[1,-2,1],[-2,4,-2],[1,-2,1]]| * sqrt(pi/2) / 6, blind to edges and smooth
    shading). noise = 1 / (1 + (sigma / 5)^2): film grain (sigma ~ 1.5) costs little, sigma 7 halves it.
  * blocking: JPEG blocks and nearest-neighbour pixelation put the intensity steps on a grid of the
    photo's pixels. For each period p in 2..8 and each direction, the mean |difference| between
    neighbouring pixels is taken per phase (position mod p); b_p is the largest phase mean over the
    mean of the others (~1 for a real photo, 2-8 for JPEG quality 30-5 at p = 8, huge for
    pixelation). b is the largest of (b_x + b_y) / 2 over p, and blocking = 1 / (1 + ln(max(b, 1.25) / 1.25))
    (1.25: what chance gives small faces; the log keeps a pixelated face's score finite, ~0.1).
    Measured on the central 384x384 px of the box at most, so a huge face costs no more than that.

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
DETAIL_HALF_VARIANCE = 10.0
DETAIL_BAND_SIGMAS = (1.0, 2.0)
NOISE_HALF_SIGMA = 5.0
BLOCK_PERIODS = range(2, 9)
BLOCKINESS_TOLERANCE = 1.25
ARTEFACT_WINDOW_PX = 384
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
        sharpness=sharpness_score(rgb, detection),
        size=size_score(detection.eye_distance),
        pose=pose_score(detection.points),
        detection=float(np.clip(detection.score, 0.0, 1.0)),
    )


def _gray(rgb: np.ndarray) -> np.ndarray:
    """float32 gray on the 0..255 scale, for uint8 and uint16 pixels alike."""
    gray = rgb.astype(np.float32).mean(axis=2)
    if rgb.dtype == np.uint16:
        gray /= 257.0
    return gray


def detail_variance(rgb: np.ndarray, points: np.ndarray) -> float:
    """d of the module docstring: mid-band variance of the denoised, aligned inner face."""
    import cv2

    gray = _gray(align_face(rgb, points, size=SHARPNESS_CROP_SIZE).crop)
    gray = cv2.medianBlur(gray, 3)
    fine, coarse = (cv2.GaussianBlur(gray, (0, 0), sigma) for sigma in DETAIL_BAND_SIGMAS)
    y0, y1 = (round(f * SHARPNESS_CROP_SIZE) for f in _INNER_Y)
    x0, x1 = (round(f * SHARPNESS_CROP_SIZE) for f in _INNER_X)
    return float((fine - coarse)[y0:y1, x0:x1].var())


def face_window(rgb: np.ndarray, box: tuple[float, float, float, float]) -> tuple[np.ndarray, int, int]:
    """Gray pixels of the face box (its centre, ARTEFACT_WINDOW_PX at most) and their photo offsets."""
    height, width = rgb.shape[:2]
    x0, y0, x1, y1 = (float(v) for v in box)
    cx, cy = (x0 + x1) / 2.0, (y0 + y1) / 2.0
    half_w = min(x1 - x0, ARTEFACT_WINDOW_PX) / 2.0
    half_h = min(y1 - y0, ARTEFACT_WINDOW_PX) / 2.0
    left, top = max(int(round(cx - half_w)), 0), max(int(round(cy - half_h)), 0)
    right, bottom = min(int(round(cx + half_w)), width), min(int(round(cy + half_h)), height)
    return _gray(rgb[top:max(bottom, top), left:max(right, left)]), left, top


def noise_sigma(gray: np.ndarray) -> float:
    """Immerkaer's (1996) estimate of the standard deviation of additive noise in ``gray``."""
    import cv2

    if min(gray.shape) < 3:
        return 0.0
    kernel = np.array([[1, -2, 1], [-2, 4, -2], [1, -2, 1]], dtype=np.float32)
    response = cv2.filter2D(gray, cv2.CV_32F, kernel)[1:-1, 1:-1]
    return float(np.abs(response).mean() * math.sqrt(math.pi / 2.0) / 6.0)


def blockiness(gray: np.ndarray, left: int = 0, top: int = 0) -> float:
    """b of the module docstring; ``left``/``top`` place ``gray`` in the photo, whose grid the blocks follow."""
    worst = 1.0
    steps_x = np.abs(np.diff(gray, axis=1)).mean(axis=0)  # per column boundary
    steps_y = np.abs(np.diff(gray, axis=0)).mean(axis=1)  # per row boundary
    for period in BLOCK_PERIODS:
        ratios = [_phase_ratio(steps, offset, period) for steps, offset in ((steps_x, left), (steps_y, top))]
        if None not in ratios:
            worst = max(worst, (ratios[0] + ratios[1]) / 2.0)
    return worst


def _phase_ratio(steps: np.ndarray, offset: int, period: int) -> float | None:
    if steps.size < 4 * period:  # too few boundaries to tell a grid from chance
        return None
    phases = (np.arange(steps.size) + offset) % period
    means = np.bincount(phases, weights=steps, minlength=period) / np.bincount(phases, minlength=period)
    peak = int(np.argmax(means))
    others = float(np.delete(means, peak).mean())
    return float(means[peak]) / max(others, 1e-3)


def sharpness_score(rgb: np.ndarray, detection: Detection) -> float:
    """detail * noise * blocking (module docstring), in [0, 1]."""
    detail = detail_variance(rgb, detection.points)
    gray, left, top = face_window(rgb, detection.box)
    sigma = noise_sigma(gray)
    block_excess = math.log(max(blockiness(gray, left, top), BLOCKINESS_TOLERANCE) / BLOCKINESS_TOLERANCE)
    return (
        detail / (detail + DETAIL_HALF_VARIANCE)
        / (1.0 + (sigma / NOISE_HALF_SIGMA) ** 2)
        / (1.0 + block_excess)
    )


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

