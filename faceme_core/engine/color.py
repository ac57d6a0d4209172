"""Wavelet colour correction (SeeSR/StableSR): keep the restored detail, take colours from the input.

An image splits into a low band and high bands with 5 passes of a 3x3 binomial blur dilated
1, 2, 4, 8, 16 (replicate padding), each pass blurring the previous result: low = the last result,
high = image - low. The corrected image is the restored image's high band plus the degraded input's
low band, so diffusion cannot shift the face's overall colours.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

WAVELET_LEVELS = 5


def _binomial_kernel(channels: int, dtype: torch.dtype, device: torch.device) -> torch.Tensor:
    row = torch.tensor([1.0, 2.0, 1.0], dtype=dtype, device=device)
    kernel = torch.outer(row, row) / 16.0
    return kernel.expand(channels, 1, 3, 3).contiguous()


def wavelet_low(image: torch.Tensor, levels: int = WAVELET_LEVELS) -> torch.Tensor:
    """(B, C, H, W) -> its low band: ``levels`` dilated blurs, each of the previous result."""
    channels = image.shape[1]
    kernel = _binomial_kernel(channels, image.dtype, image.device)
    low = image
    for level in range(levels):
        radius = 2**level
        padded = F.pad(low, (radius, radius, radius, radius), mode="replicate")
        low = F.conv2d(padded, kernel, groups=channels, dilation=radius)
    return low


def wavelet_split(image: torch.Tensor, levels: int = WAVELET_LEVELS) -> tuple[torch.Tensor, torch.Tensor]:
    """(high, low) with high + low == image."""
    low = wavelet_low(image, levels)
    return image - low, low


def wavelet_color_fix(restored: torch.Tensor, degraded: torch.Tensor) -> torch.Tensor:
    """Restored high band + degraded low band; the degraded image is resized to the restored size."""
    if degraded.shape[-2:] != restored.shape[-2:]:
        degraded = F.interpolate(degraded, size=restored.shape[-2:], mode="bicubic", align_corners=False)
    restored_high, _ = wavelet_split(restored)
    return restored_high + wavelet_low(degraded)
