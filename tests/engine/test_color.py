"""Wavelet colour correction: restored high band + degraded low band."""

from __future__ import annotations

import numpy as np
import torch

from faceme_core.engine.color import wavelet_color_fix, wavelet_low, wavelet_split


def numpy_low_band(image: np.ndarray) -> np.ndarray:
    """Independent reference: 5 passes of [1,2,1]x[1,2,1]/16 dilated 1..16, edge padding, chained."""
    weights = np.outer([1, 2, 1], [1, 2, 1]) / 16.0
    low = image.astype(np.float64)
    for level in range(5):
        d = 2**level
        padded = np.pad(low, ((0, 0), (d, d), (d, d)), mode="edge")
        height, width = low.shape[1:]
        low = sum(weights[i, j] * padded[:, i * d:i * d + height, j * d:j * d + width]
                  for i in range(3) for j in range(3))
    return low


def test_low_band_matches_reference_and_split_reconstructs():
    image = torch.rand(1, 3, 48, 40, generator=torch.Generator().manual_seed(0))
    high, low = wavelet_split(image)
    np.testing.assert_allclose(low[0].numpy(), numpy_low_band(image[0].numpy()), atol=1e-5)
    torch.testing.assert_close(high + low, image)
    assert high.abs().mean() > 0.05  # noise lives in the high band


def test_constant_image_is_all_low_band():
    image = torch.full((2, 3, 32, 32), 0.3)
    high, low = wavelet_split(image)
    torch.testing.assert_close(low, image)
    assert high.abs().max() < 1e-6


def test_colour_fix_keeps_degraded_low_band_and_restored_high_band():
    generator = torch.Generator().manual_seed(1)
    # the restored face: fine detail on a colour cast; the degraded one: the true colours, no detail
    detail = torch.rand(1, 3, 64, 64, generator=generator) - 0.5
    restored = detail + torch.tensor([0.4, -0.3, 0.2]).view(1, 3, 1, 1)
    degraded = wavelet_low(torch.rand(1, 3, 64, 64, generator=generator))
    fixed = wavelet_color_fix(restored, degraded)
    torch.testing.assert_close(fixed - wavelet_split(restored)[0], wavelet_low(degraded))
    # the colour cast is gone: channel means follow the degraded image, not the restored one
    torch.testing.assert_close(fixed.mean(dim=(2, 3)), degraded.mean(dim=(2, 3)), atol=0.02, rtol=0)
    assert (restored.mean(dim=(2, 3)) - degraded.mean(dim=(2, 3))).abs().max() > 0.2
    # and the output's low band is (close to) the degraded low band
    low_error = (wavelet_low(fixed) - wavelet_low(degraded)).abs().mean()
    cast_error = (wavelet_low(restored) - wavelet_low(degraded)).abs().mean()
    assert low_error < 0.05 * cast_error


def test_colour_fix_resizes_the_degraded_image():
    restored = torch.zeros(1, 3, 64, 64)
    degraded = torch.full((1, 3, 32, 32), 0.5)
    torch.testing.assert_close(wavelet_color_fix(restored, degraded), torch.full((1, 3, 64, 64), 0.5))


def reference_output(decoded: torch.Tensor, lq: np.ndarray) -> np.ndarray:
    """The reference's path, independently: diffusers' postprocess to PIL (round), then SeeSR's colour
    fix on PIL images (ToTensor = /255, ToPILImage = mul(255) then truncation to bytes)."""
    from PIL import Image

    rounded = np.round(np.clip(decoded[0].permute(1, 2, 0).double().numpy() / 2 + 0.5, 0, 1) * 255).astype(np.uint8)
    target = np.asarray(Image.fromarray(rounded), dtype=np.float64).transpose(2, 0, 1) / 255
    source = np.asarray(Image.fromarray(lq), dtype=np.float64).transpose(2, 0, 1) / 255
    fixed = (target - numpy_low_band(target)) + numpy_low_band(source)
    return np.floor(np.clip(fixed, 0, 1) * 255).astype(np.uint8).transpose(1, 2, 0)


def test_the_restorer_quantises_and_corrects_as_the_reference(tiny_restorer, monkeypatch):
    from faceme_core.engine import restorer as restorer_module
    from faceme_core.engine.options import RestoreOptions
    from faceme_core.engine.restorer import FaceRequest
    from tests.engine.helpers import smooth_face

    decoded = []
    real_decode = restorer_module.decode_latents
    monkeypatch.setattr(restorer_module, "decode_latents",
                        lambda vae, latents: decoded.append(real_decode(vae, latents)) or decoded[-1])
    lq = smooth_face(np.random.default_rng(3))
    (result,) = tiny_restorer([FaceRequest(lq, None)], RestoreOptions(steps=1, seed=0))
    expected = reference_output(decoded[0], lq)
    # float64 here, float32 in the engine: a level apart where a value sits on a rounding boundary
    differ = result.image.astype(int) - expected.astype(int)
    assert np.abs(differ).max() <= 1 and (differ != 0).mean() < 0.01
    # ... whereas correcting in float and rounding once (the engine's former way) is visibly different
    old = ((wavelet_color_fix(decoded[0].clamp(-1, 1), torch.from_numpy(lq).permute(2, 0, 1)[None] / 127.5 - 1)
            .clamp(-1, 1) + 1) * 127.5).round()[0].permute(1, 2, 0).numpy().astype(int)
    assert (old != result.image).mean() > 0.2 and np.abs(old - result.image).max() <= 2  # as issue 8 measured
