"""Photos with a face placed by a known transform, so tests know the exact five points.

tests/data/faces/*.png are FFHQ-aligned 512x512 crops: their five points are the template. Warping one
into a canvas with a similarity transform T puts its five points at T(template).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from faceme_core.faces.align import FFHQ_TEMPLATE_512

FACE_PNG = Path(__file__).parents[1] / "data" / "faces" / "Hepburn01.png"


@dataclass(frozen=True)
class PlacedFace:
    pixels: np.ndarray  # (H, W, 3) uint8 canvas holding the face
    points: np.ndarray  # (5, 2) exact five points in the canvas
    crop_to_photo: np.ndarray  # (2, 3) T


def face_crop() -> np.ndarray:
    return np.asarray(Image.open(FACE_PNG).convert("RGB")).copy()


def similarity(scale: float, degrees: float, tx: float, ty: float) -> np.ndarray:
    angle = np.deg2rad(degrees)
    c, s = scale * np.cos(angle), scale * np.sin(angle)
    return np.array([[c, -s, tx], [s, c, ty]], dtype=np.float64)


def background(height: int, width: int, seed: int = 0) -> np.ndarray:
    """Textured background: smooth gradients plus noise, so every pixel has its own value."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    base = np.stack([xx / width * 200, yy / height * 200, (xx + yy) / (width + height) * 255], axis=2)
    return np.clip(base + rng.normal(0, 12, base.shape), 0, 255).astype(np.uint8)


def place_face(
    height: int = 300, width: int = 400, *, scale: float = 0.4, degrees: float = 15.0,
    center: tuple[float, float] = (200.0, 150.0), seed: int = 0,
) -> PlacedFace:
    """The test face, ``scale`` photo pixels per crop pixel, rotated, its crop centre at ``center``."""
    crop = face_crop()
    transform = similarity(scale, degrees, 0.0, 0.0)
    transform[:, 2] = np.asarray(center) - transform[:, :2] @ np.array([255.5, 255.5])
    canvas = background(height, width, seed)
    warped = cv2.warpAffine(crop, transform, (width, height), flags=cv2.INTER_LINEAR)
    inside = cv2.warpAffine(np.ones((512, 512), np.float32), transform, (width, height))[:, :, None]
    pixels = np.clip(warped * inside + canvas * (1 - inside) + 0.5, 0, 255).astype(np.uint8)
    points = FFHQ_TEMPLATE_512 @ transform[:, :2].T + transform[:, 2]
    return PlacedFace(pixels=pixels, points=points, crop_to_photo=transform)


def psnr(a: np.ndarray, b: np.ndarray, peak: float) -> float:
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return float("inf") if mse == 0 else 10.0 * np.log10(peak * peak / mse)
