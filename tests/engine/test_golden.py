"""Golden output: one full tiny restoration with a fixed seed against numbers stored when it was right.

Everything a restoration depends on runs: CLIP tower and Mix (4 references), the identity splice,
ControlNet + UNet with the SDXL added conditions, identity guidance at the default strength, the
sampler, VAE decoding, 8-bit quantisation and colour correction. Verified to fail when the
ControlNet conditioning scale becomes 0.9, the time ids' target size 512 instead of the face size, or
the default guidance strength 5.5. Not caught: the start timestep 990 instead of 999 (the tiny VAE's
latents are too small next to the noise for that to show); test_sampling checks it directly.

The networks are random and tiny, so the numbers mean nothing in themselves; they are deterministic
on the CPU (float32, fixed seeds). After an intended change, regenerate them with
``python -m tests.engine.test_golden`` and say why in the commit.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from faceme_core.engine.options import RestoreOptions
from faceme_core.engine.restorer import FaceRequest
from tests.engine.helpers import random_reference, smooth_face

GOLDEN = {
    "tokens_mean": 0.00054422,
    "tokens_std": 1.02203764,
    "tokens_head": [1.53830433, -0.75175738, -0.16011557, 0.44414276],
    "decoded_mean": 0.14544845,
    "decoded_std": 0.30626485,
    "decoded_pattern": -0.00344557,
    "output_channel_means": [128.5337, 136.1541, 135.5505],
}
FLOAT_TOLERANCE = 1e-5  # the guidance strength moved by 0.1 changes decoded_std by ~1e-4
OUTPUT_TOLERANCE = 0.02  # grey levels: ~80 of 4096 pixels one level apart


def summarise(restorer) -> dict:
    from faceme_core.engine import restorer as restorer_module

    rng = np.random.default_rng(2024)
    lq = smooth_face(rng)
    references = [random_reference(rng) for _ in range(4)]
    decoded = []
    real_decode = restorer_module.decode_latents
    restorer_module.decode_latents = lambda vae, latents: decoded.append(real_decode(vae, latents)) or decoded[-1]
    try:
        identity = restorer.encode_identity(references)
        (result,) = restorer([FaceRequest(lq, identity)], RestoreOptions(steps=3, seed=7))
    finally:
        restorer_module.decode_latents = real_decode
    tokens, image = identity.tokens.double(), decoded[0].double()
    pattern = torch.randn(image.shape, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    return {
        "tokens_mean": round(tokens.mean().item(), 8),
        "tokens_std": round(tokens.std().item(), 8),
        "tokens_head": [round(v, 8) for v in tokens[0, :4].tolist()],
        "decoded_mean": round(image.mean().item(), 8),
        "decoded_std": round(image.std().item(), 8),
        "decoded_pattern": round((image * pattern).mean().item(), 8),
        "output_channel_means": [round(float(v), 4) for v in result.image.reshape(-1, 3).astype(np.float64).mean(0)],
    }


def test_a_tiny_restoration_matches_the_stored_numbers(tiny_restorer):
    found = summarise(tiny_restorer)
    for key in ("tokens_mean", "tokens_std", "tokens_head", "decoded_mean", "decoded_std", "decoded_pattern"):
        assert found[key] == pytest.approx(GOLDEN[key], abs=FLOAT_TOLERANCE), (key, found)
    assert found["output_channel_means"] == pytest.approx(GOLDEN["output_channel_means"], abs=OUTPUT_TOLERANCE)


if __name__ == "__main__":
    import tempfile
    from pathlib import Path

    from faceme_core.engine.restorer import Restorer
    from tests.engine.helpers import FACE
    from tests.support.tiny_models import cached_tiny_model_paths

    print(summarise(Restorer.load(cached_tiny_model_paths(), device="cpu", face_size=FACE,
                                  cache_dir=Path(tempfile.mkdtemp()))))
