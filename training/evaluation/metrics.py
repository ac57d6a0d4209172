"""Per-image metrics of Table 1 that need no downloaded network: PSNR, SSIM, IDS and LMD.

PSNR and SSIM are computed on 8-bit RGB (data range 255; SSIM as Wang et al. and BasicSR define it).
Identical images have an infinite PSNR; we cap it at ``PSNR_CAP`` dB so averages stay finite (and say
so in the report).
IDS is the ArcFace cosine similarity between restored face and ground truth (antelopev2's glintr100 on
the aligned crop); LMD the mean distance, in pixels of the 512 crop, between their 68 landmarks.
"""

from __future__ import annotations

import math
from typing import Callable

import numpy as np

PSNR_CAP = 100.0

# An aligned 512 face -> its (68, 2) landmarks in crop pixels.
Landmarker = Callable[[np.ndarray], np.ndarray]
# An aligned 512 face -> its L2-normalised ArcFace vector.
IdentityEmbedder = Callable[[np.ndarray], np.ndarray]


def _check_pair(a: np.ndarray, b: np.ndarray) -> None:
    if a.shape != b.shape or a.ndim != 3 or a.shape[2] != 3:
        raise ValueError(f"expected two (H, W, 3) images of one size, got {a.shape} and {b.shape}")


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    """Peak signal-to-noise ratio in dB of two uint8 images (capped at PSNR_CAP for identical images)."""
    _check_pair(a, b)
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    if mse == 0.0:
        return PSNR_CAP
    return min(PSNR_CAP, 10.0 * math.log10(255.0**2 / mse))


def ssim(a: np.ndarray, b: np.ndarray) -> float:
    """Wang et al.'s SSIM (11x11 Gaussian window, sigma 1.5, K1 0.01, K2 0.03) as BasicSR computes it for
    face restoration papers: per RGB channel over the window positions fully inside the image, averaged.
    Equal to scikit-image's Gaussian SSIM on that interior; OpenCV filtering keeps it fast at 512 px."""
    import cv2

    _check_pair(a, b)
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    window = cv2.getGaussianKernel(11, 1.5)  # separable: two 1-D passes
    values = []
    for channel in range(3):
        x, y = a[..., channel].astype(np.float64), b[..., channel].astype(np.float64)

        def blur(image: np.ndarray) -> np.ndarray:
            return cv2.sepFilter2D(image, -1, window, window)[5:-5, 5:-5]  # "valid" positions only

        mu_x, mu_y = blur(x), blur(y)
        var_x, var_y, cov = blur(x * x) - mu_x**2, blur(y * y) - mu_y**2, blur(x * y) - mu_x * mu_y
        ssim_map = ((2 * mu_x * mu_y + c1) * (2 * cov + c2)) / ((mu_x**2 + mu_y**2 + c1) * (var_x + var_y + c2))
        values.append(float(ssim_map.mean()))
    return float(np.mean(values))


def identity_similarity(embed: IdentityEmbedder, restored: np.ndarray, ground_truth: np.ndarray) -> float:
    """IDS: cosine similarity of the two faces' ArcFace vectors."""
    x, y = np.asarray(embed(restored), np.float64), np.asarray(embed(ground_truth), np.float64)
    return float(x @ y / (np.linalg.norm(x) * np.linalg.norm(y)))


def landmark_distance(landmarks: Landmarker, restored: np.ndarray, ground_truth: np.ndarray) -> float:
    """LMD: mean Euclidean distance between corresponding landmarks of the two faces, in pixels."""
    x, y = np.asarray(landmarks(restored), np.float64), np.asarray(landmarks(ground_truth), np.float64)
    if x.shape != y.shape:
        raise ValueError(f"landmarks: {x.shape} vs {y.shape}")
    return float(np.linalg.norm(x[:, :2] - y[:, :2], axis=1).mean())


def antelopev2_identity_embedder(backend) -> IdentityEmbedder:
    """ArcFace of an aligned 512 face with the engine's own embedder (template points, glintr100)."""
    from faceme_core.restore.photo_restore import aligned_face_embedder

    embed = aligned_face_embedder(backend)
    return lambda crop: embed(crop).vector


def antelopev2_landmarker(extractor) -> Landmarker:
    """68 landmarks of an aligned 512 face from 1k3d68 (``training.refpool.attributes.Landmark3DExtractor``),
    with the whole crop as the face box (the faces are aligned, so no detection is needed)."""
    from faceme_core.faces.align import FFHQ_TEMPLATE_512
    from faceme_core.faces.types import Detection

    def landmarks(crop: np.ndarray) -> np.ndarray:
        h, w = crop.shape[:2]
        # The face box of an FFHQ-aligned crop: the template face with a margin, as a detector would give.
        scale = w / 512.0
        box = (96.0 * scale, 120.0 * scale, 416.0 * scale, 460.0 * scale)
        detection = Detection(box=box, points=(FFHQ_TEMPLATE_512 * scale).astype(np.float32), score=1.0)
        return extractor.landmarks(crop, detection)[:, :2]

    return landmarks
