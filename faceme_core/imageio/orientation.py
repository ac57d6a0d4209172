"""Applying the EXIF orientation to pixel arrays (the same transforms as ``ImageOps.exif_transpose``).

Done on numpy arrays rather than PIL images so 16-bit sources decoded by OpenCV, and alpha planes,
go through exactly the same code.
"""

from __future__ import annotations

import numpy as np


def apply_orientation(pixels: np.ndarray, orientation: int) -> np.ndarray:
    """``pixels`` (H, W[, C]) turned upright for EXIF orientation 1..8 (other values: unchanged)."""
    if orientation == 2:  # mirrored
        out = pixels[:, ::-1]
    elif orientation == 3:  # rotated 180
        out = pixels[::-1, ::-1]
    elif orientation == 4:  # mirrored vertically
        out = pixels[::-1]
    elif orientation == 5:  # transpose
        out = pixels.swapaxes(0, 1)
    elif orientation == 6:  # camera turned 90 degrees clockwise: rotate the pixels back clockwise
        out = np.rot90(pixels, k=-1)
    elif orientation == 7:  # transverse
        out = pixels[::-1, ::-1].swapaxes(0, 1)
    elif orientation == 8:
        out = np.rot90(pixels, k=1)
    else:
        return pixels
    return np.ascontiguousarray(out)


def oriented_size(size_wh: tuple[int, int], orientation: int) -> tuple[int, int]:
    """The displayed (width, height) of a stored ``size_wh`` image: orientations 5..8 swap the sides."""
    width, height = size_wh
    return (height, width) if orientation in (5, 6, 7, 8) else (width, height)
