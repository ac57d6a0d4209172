"""numpy photos to QImages, and face crops for thumbnails (made on worker threads; QPixmaps on the GUI thread)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage

from faceme_core.image_types import Photo

Box = tuple[float, float, float, float]
CROP_MARGIN = 0.35  # around a face box, so a thumbnail shows hair and chin too


def qimage_from_pixels(pixels: np.ndarray) -> QImage:
    """An RGB (H, W, 3) uint8/uint16 array as a QImage that owns its bytes."""
    if pixels.dtype == np.uint16:
        pixels = (pixels.astype(np.float32) / 257.0 + 0.5).astype(np.uint8)
    pixels = np.ascontiguousarray(pixels)
    height, width = pixels.shape[:2]
    image = QImage(pixels.data, width, height, 3 * width, QImage.Format.Format_RGB888)
    return image.copy()  # detach from the numpy buffer


def qimage_from_photo(photo: Photo) -> QImage:
    return qimage_from_pixels(photo.pixels)


def crop_box(box: Box, size_wh: tuple[int, int], margin: float = CROP_MARGIN) -> tuple[int, int, int, int]:
    """A square around ``box`` with ``margin`` on each side, clipped to the photo."""
    x0, y0, x1, y1 = box
    side = max(x1 - x0, y1 - y0) * (1 + 2 * margin)
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    left, top = int(max(0, cx - side / 2)), int(max(0, cy - side / 2))
    right, bottom = int(min(size_wh[0], cx + side / 2)), int(min(size_wh[1], cy + side / 2))
    return left, top, max(right, left + 1), max(bottom, top + 1)


def face_thumbnail(pixels: np.ndarray, box: Box | None, size: int, scale: float = 1.0) -> QImage:
    """The face at ``box`` (photo pixels; ``scale`` maps them onto ``pixels``, e.g. 2 for an upscaled
    result), or the whole image when ``box`` is None, fitted in ``size`` x ``size``."""
    height, width = pixels.shape[:2]
    if box is not None:
        scaled = tuple(v * scale for v in box)
        left, top, right, bottom = crop_box(scaled, (width, height))
        pixels = pixels[top:bottom, left:right]
    image = qimage_from_pixels(pixels)
    return image.scaled(size, size, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation)


def reference_thumbnail(path: Path, box: Box | None, size: int) -> QImage:
    """A reference's face (an album face's box, or a whole reference file), loaded upright."""
    from faceme_core.imageio import load_photo

    photo = load_photo(path)
    return face_thumbnail(photo.pixels, box, size)
