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


# --- 8-bit output, as the reference run produces it -------------------------------------------------

def to_uint8_rounded(images: torch.Tensor) -> torch.Tensor:
    """[-1, 1] float (B, C, H, W) -> uint8, rounded: diffusers' ``postprocess`` to PIL, which the
    reference applies to the decoded faces before any colour correction."""
    return ((images.float() / 2 + 0.5).clamp(0, 1) * 255).round().to(torch.uint8)


def wavelet_color_fix_uint8(restored: torch.Tensor, degraded: torch.Tensor) -> torch.Tensor:
    """The reference's colour correction on 8-bit images (B, C, H, W uint8 -> uint8).

    As the reference runs it (SeeSR's ``wavelet_color_fix`` on PIL images): both images scaled to
    [0, 1] (``ToTensor``), corrected in float, clamped and converted back with ``ToPILImage``, which
    truncates (``mul(255).byte()``) instead of rounding. Correcting the float output and rounding, as
    this engine once did, differs by up to 2 levels; we follow the reference so the released weights
    give the output they were evaluated with.
    """
    fixed = wavelet_color_fix(restored.float() / 255.0, degraded.float() / 255.0)
    return (fixed.clamp(0.0, 1.0) * 255).to(torch.uint8)  # .to(uint8) truncates, like Tensor.byte()
