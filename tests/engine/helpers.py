"""Small input builders shared by the engine tests."""

from __future__ import annotations

import numpy as np

FACE = 64  # face size of the engine tests (the released weights use 512): the networks are tiny anyway


def random_reference(rng, cache_key=None):
    from faceme_core.engine.identity import ReferenceFace

    image = rng.integers(0, 256, (180, 140, 3), dtype=np.uint8)
    arcface = rng.standard_normal(512).astype(np.float32)
    return ReferenceFace(image=image, box=(20.0, 30.0, 120.0, 160.0), arcface=arcface / np.linalg.norm(arcface),
                         cache_key=cache_key)


def smooth_face(rng, size=FACE):
    """A smooth colourful image (low frequencies dominate, like a blurry face crop)."""
    small = rng.integers(0, 256, (8, 8, 3), dtype=np.uint8)
    from PIL import Image

    return np.array(Image.fromarray(small).resize((size, size), Image.BICUBIC))


def _tiny_mix_config():
    from faceme_core.engine.mix import MixConfig

    # Real input and token widths (ArcFace 512, CLIP feature 2048, SDXL cross-attention 2048), narrow inside.
    return MixConfig(id_hidden_dim=16, hidden_dim=16)


TINY_MIX = _tiny_mix_config()
