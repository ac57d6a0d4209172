"""Small input builders shared by the engine tests."""

from __future__ import annotations

import numpy as np


def random_reference(rng, cache_key=None):
    from faceme_core.engine.identity import ReferenceFace

    image = rng.integers(0, 256, (180, 140, 3), dtype=np.uint8)
    arcface = rng.standard_normal(512).astype(np.float32)
    return ReferenceFace(image=image, box=(20.0, 30.0, 120.0, 160.0), arcface=arcface / np.linalg.norm(arcface),
                         cache_key=cache_key)


def smooth_face(rng, size=512):
    """A smooth colourful image (low frequencies dominate, like a blurry face crop)."""
    small = rng.integers(0, 256, (8, 8, 3), dtype=np.uint8)
    from PIL import Image

    return np.array(Image.fromarray(small).resize((size, size), Image.BICUBIC))
