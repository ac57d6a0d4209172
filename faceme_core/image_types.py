"""The in-memory photo that crosses module boundaries.

Convention everywhere in faceme_core: pixels are RGB, HWC, 3 channels, C-contiguous numpy arrays of
dtype uint8 or uint16 (16-bit sources stay 16-bit). Grayscale sources are expanded to 3 equal channels
and collapsed back on save; alpha is carried separately and re-attached on save. So face code deals
with one layout only, and every source format still comes back in its own format.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np


@dataclass(frozen=True)
class Photo:
    pixels: np.ndarray  # (H, W, 3) RGB, uint8 or uint16
    alpha: np.ndarray | None = None  # (H, W), same dtype as pixels, or None
    source_mode: str = "RGB"  # the source's PIL mode, e.g. "L", "I;16", "RGBA", "CMYK"
    is_gray: bool = False  # the source had no colour: save back as grayscale
    icc_profile: bytes | None = None  # profile describing ``pixels`` (sRGB-converted sources: None)
    exif: bytes | None = None  # raw EXIF, orientation already applied to ``pixels``
    source_format: str | None = None  # "JPEG", "PNG", ...
    path: Path | None = None  # where it was loaded from, if anywhere
    extra: dict = field(default_factory=dict)  # format-specific info worth keeping (dpi, ...)

    @property
    def size_wh(self) -> tuple[int, int]:
        return int(self.pixels.shape[1]), int(self.pixels.shape[0])

    @property
    def bit_depth(self) -> int:
        return 16 if self.pixels.dtype == np.uint16 else 8

    def rgb8(self) -> np.ndarray:
        """The pixels as uint8 RGB, for detection and the networks."""
        if self.pixels.dtype == np.uint8:
            return self.pixels
        return (self.pixels.astype(np.float32) / 257.0 + 0.5).astype(np.uint8)

    def with_pixels(self, pixels: np.ndarray, alpha: np.ndarray | None = None) -> "Photo":
        """The same photo (metadata, format) with new pixels, e.g. after paste-back or upscaling."""
        return replace(self, pixels=pixels, alpha=alpha if alpha is not None else self.alpha)
