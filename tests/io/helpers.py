"""Synthetic test images, written with Pillow/OpenCV directly (never through the code under test)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageCms


def gradient_rgb(height: int = 48, width: int = 64, dtype=np.uint8) -> np.ndarray:
    """A smooth picture whose corners all differ, so any flip or rotation shows."""
    top = np.iinfo(dtype).max
    y, x = np.mgrid[0:height, 0:width]
    r = x / (width - 1)
    g = y / (height - 1)
    b = (x + 2 * y) / (width - 1 + 2 * (height - 1))
    return (np.stack([r, g, b], axis=2) * top + 0.5).astype(dtype)


def noise(shape, dtype=np.uint8, seed: int = 0) -> np.ndarray:
    top = int(np.iinfo(dtype).max)
    return np.random.default_rng(seed).integers(0, top + 1, size=shape, dtype=np.int64).astype(dtype)


def srgb_icc() -> bytes:
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def exif_with(orientation: int | None = None, original: str | None = None, **ifd0: object) -> Image.Exif:
    exif = Image.Exif()
    if orientation is not None:
        exif[0x0112] = orientation
    for tag, value in ifd0.items():
        exif[int(tag.removeprefix("t"), 16)] = value
    if original is not None:
        exif.get_ifd(0x8769)[0x9003] = original
    return exif


def write_pil(path: Path, array: np.ndarray, **params) -> Path:
    Image.fromarray(array).save(path, **params)
    return path
