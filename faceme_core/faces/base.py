"""The interface every face backend implements."""

from __future__ import annotations

from typing import Protocol

import numpy as np

from faceme_core.faces.types import Detection, Embedding


class FaceBackend(Protocol):
    """Detection and identity embedding on uint8 RGB (H, W, 3) arrays.

    Implementations load their models lazily and are safe to call from one thread at a time.
    """

    name: str  # "dlib" or "insightface"
    embedding_model_id: str  # recorded with every embedding it makes

    def detect(self, rgb: np.ndarray) -> list[Detection]:
        """Every face in the image, coordinates in the image's own pixel space."""
        ...

    def embed(self, rgb: np.ndarray, detection: Detection) -> Embedding:
        """The identity embedding of one detected face (L2-normalised)."""
        ...


def check_rgb8(rgb: np.ndarray, argument: str = "rgb") -> None:
    """Face code takes uint8 RGB (H, W, 3) arrays only (``Photo.rgb8()`` gives one)."""
    if not isinstance(rgb, np.ndarray) or rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
        shape = getattr(rgb, "shape", None)
        dtype = getattr(rgb, "dtype", type(rgb).__name__)
        raise ValueError(f"{argument}: expected a uint8 (H, W, 3) array, got shape {shape} dtype {dtype}")
