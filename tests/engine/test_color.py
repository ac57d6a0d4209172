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
