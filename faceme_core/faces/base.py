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
