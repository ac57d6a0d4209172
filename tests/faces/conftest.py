"""Fixtures of the face tests: one dlib backend for the whole session (its models load once)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from faceme_core.faces.dlib_backend import DlibBackend


def load_rgb(path: Path) -> np.ndarray:
    """uint8 RGB pixels of a test photo (alpha dropped)."""
    with Image.open(path) as image:
        return np.ascontiguousarray(np.asarray(image.convert("RGB")))


@pytest.fixture(scope="session")
def dlib_backend() -> DlibBackend:
    return DlibBackend()
