"""Alignment to the FFHQ 512x512 five-point template with a similarity transform.

Pure functions of their inputs: ``align_face(rgb, points) -> AlignedFace``; the transform kept in the
result is what paste-back inverts.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

# Left eye, right eye, nose tip, left and right mouth corner in the 512x512 crop (FaceMe reference page).
FFHQ_TEMPLATE_512 = np.array(
    [
        [192.98, 239.95],
        [318.90, 240.19],
        [256.63, 314.02],
        [201.26, 371.41],
        [313.09, 371.15],
    ],
    dtype=np.float64,
)
ALIGNED_SIZE = 512


@dataclass(frozen=True)
class AlignedFace:
    crop: np.ndarray  # (size, size, 3), dtype of the source
    matrix: np.ndarray  # (2, 3) float64: photo coordinates -> crop coordinates
    size: int = ALIGNED_SIZE

    @property
    def scale(self) -> float:
        """Crop pixels per photo pixel (the similarity transform's uniform scale)."""
        return float(np.sqrt(abs(np.linalg.det(self.matrix[:, :2]))))

    def inverse_matrix(self) -> np.ndarray:
        return cv2.invertAffineTransform(self.matrix)


def estimate_similarity(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """Least-squares similarity transform (rotation, uniform scale, translation) mapping src onto dst.

    Umeyama's closed form; returns a (2, 3) matrix. Needs at least two distinct points.
    """
    src = np.asarray(src, dtype=np.float64)
    dst = np.asarray(dst, dtype=np.float64)
    if src.shape != dst.shape or src.ndim != 2 or src.shape[1] != 2 or src.shape[0] < 2:
        raise ValueError(f"points: expected two (N>=2, 2) arrays of equal shape, got {src.shape} and {dst.shape}")
    src_mean, dst_mean = src.mean(axis=0), dst.mean(axis=0)
    src_c, dst_c = src - src_mean, dst - dst_mean
    src_var = (src_c**2).sum() / len(src)
    if src_var <= 1e-12:
        raise ValueError("points: all source points coincide, no transform can be estimated")
    cov = dst_c.T @ src_c / len(src)
    u, s, vt = np.linalg.svd(cov)
    d = np.ones(2)
    if np.linalg.det(u) * np.linalg.det(vt) < 0:
        d[-1] = -1.0  # no reflections: faces are never mirrored by alignment
    rotation = u @ np.diag(d) @ vt
    scale = (s * d).sum() / src_var
    translation = dst_mean - scale * rotation @ src_mean
    return np.hstack([scale * rotation, translation[:, None]])


def template_for_size(size: int) -> np.ndarray:
    return FFHQ_TEMPLATE_512 * (size / ALIGNED_SIZE)


def align_face(image: np.ndarray, points: np.ndarray, size: int = ALIGNED_SIZE) -> AlignedFace:
    """Warp the face with these five points onto the FFHQ template; borders are reflected, as in FFHQ."""
    if points.shape != (5, 2):
        raise ValueError(f"points: expected shape (5, 2), got {points.shape}")
    matrix = estimate_similarity(points, template_for_size(size))
    crop = cv2.warpAffine(
        image, matrix, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT_101
    )
    return AlignedFace(crop=crop, matrix=matrix, size=size)
