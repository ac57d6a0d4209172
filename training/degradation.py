"""The paper's degradation model (Eq. 6), shared by training, evaluation and tests.

y = JPEG_q( (x * k_sigma) downsampled by r  +  n_delta ), resized back to x's size:

1. blur with a 41-tap Gaussian kernel, isotropic or anisotropic (50/50), sigma in [0.2, 10], rotated
   by a random angle;
2. downsample by r in [1, 16] (bilinear);
3. add Gaussian noise, sigma in [0, 15] on the 0..255 scale;
4. JPEG-compress at quality 30..100;
5. resize back to the input's size (bilinear).

Randomness is split from the work: ``sample_degradation(seed, epoch, index)`` draws every random
choice (the noise too, as a seed) into a frozen ``DegradationParams``; ``degrade(image, params)`` is a
pure function of its arguments. The draw depends on the whole triple, so a run is reproducible, every
epoch sees new degradations, and processes and data-loader workers (which hold different sample
indices) never share draws.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

KERNEL_SIZE = 41
BLUR_SIGMA_RANGE = (0.2, 10.0)
ISOTROPIC_PROBABILITY = 0.5
DOWNSAMPLE_RANGE = (1.0, 16.0)
NOISE_SIGMA_RANGE = (0.0, 15.0)  # of 255
JPEG_QUALITY_RANGE = (30, 100)  # inclusive


@dataclass(frozen=True)
class DegradationParams:
    """Every choice of one degradation; ``degrade`` is a pure function of an image and these."""

    blur_sigma_x: float  # along the kernel's rotated x axis, pixels
    blur_sigma_y: float  # equals blur_sigma_x for an isotropic kernel
    blur_angle: float  # radians, rotation of the kernel's x axis
    downsample: float  # r >= 1: the image is shrunk to size / r
    noise_sigma: float  # Gaussian noise standard deviation on the 0..255 scale
    noise_seed: int  # seeds the noise pattern (so ``degrade`` stays pure)
    jpeg_quality: int  # 1..100 (OpenCV's scale)
    kernel_size: int = KERNEL_SIZE

    def __post_init__(self):
        if self.kernel_size < 1 or self.kernel_size % 2 == 0:
            raise ValueError(f"kernel_size={self.kernel_size}: must be odd and positive")
        if not (self.blur_sigma_x > 0 and self.blur_sigma_y > 0):
            raise ValueError(f"blur sigmas ({self.blur_sigma_x}, {self.blur_sigma_y}): must be positive")
        if not self.downsample >= 1.0:
            raise ValueError(f"downsample={self.downsample}: must be at least 1")
        if not self.noise_sigma >= 0.0:
            raise ValueError(f"noise_sigma={self.noise_sigma}: must be at least 0")
        if not 1 <= self.jpeg_quality <= 100:
            raise ValueError(f"jpeg_quality={self.jpeg_quality}: must be between 1 and 100")

    @property
    def isotropic(self) -> bool:
        return self.blur_sigma_x == self.blur_sigma_y


def sample_degradation(seed: int, epoch: int, index: int) -> DegradationParams:
    """The degradation of sample ``index`` in ``epoch`` of a run seeded with ``seed`` (deterministic)."""
    for name, value in (("seed", seed), ("epoch", epoch), ("index", index)):
        if int(value) < 0:
            raise ValueError(f"{name}={value}: must be a non-negative integer")
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), int(epoch), int(index)]))
    sigma_x = float(rng.uniform(*BLUR_SIGMA_RANGE))
    if rng.random() < ISOTROPIC_PROBABILITY:
        sigma_y, angle = sigma_x, 0.0
    else:
        sigma_y = float(rng.uniform(*BLUR_SIGMA_RANGE))
        angle = float(rng.uniform(-math.pi, math.pi))
    return DegradationParams(
        blur_sigma_x=sigma_x,
        blur_sigma_y=sigma_y,
        blur_angle=angle,
        downsample=float(rng.uniform(*DOWNSAMPLE_RANGE)),
        noise_sigma=float(rng.uniform(*NOISE_SIGMA_RANGE)),
        noise_seed=int(rng.integers(0, 2**63 - 1)),
        jpeg_quality=int(rng.integers(JPEG_QUALITY_RANGE[0], JPEG_QUALITY_RANGE[1] + 1)),
    )


def blur_kernel(params: DegradationParams) -> np.ndarray:
    """The (kernel_size, kernel_size) Gaussian kernel, rotated by blur_angle, summing to 1."""
    half = params.kernel_size // 2
    grid = np.arange(-half, half + 1, dtype=np.float64)
    xx, yy = np.meshgrid(grid, grid)
    cos, sin = math.cos(params.blur_angle), math.sin(params.blur_angle)
    u = cos * xx + sin * yy  # coordinates along the kernel's own axes
    v = -sin * xx + cos * yy
    kernel = np.exp(-0.5 * ((u / params.blur_sigma_x) ** 2 + (v / params.blur_sigma_y) ** 2))
    return (kernel / kernel.sum()).astype(np.float32)


def degrade(image_rgb_uint8: np.ndarray, params: DegradationParams) -> np.ndarray:
    """The degraded image, uint8 RGB of the input's size (the input is not modified)."""
    import cv2

    image = image_rgb_uint8
    if not isinstance(image, np.ndarray) or image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise ValueError(f"image_rgb_uint8: expected a uint8 (H, W, 3) array, got "
                         f"{getattr(image, 'dtype', type(image).__name__)} {getattr(image, 'shape', None)}")
    height, width = image.shape[:2]
    # 1. blur (float, reflected borders as BasicSR's cv2.filter2D)
    out = cv2.filter2D(image.astype(np.float32), -1, blur_kernel(params), borderType=cv2.BORDER_REFLECT_101)
    # 2. downsample
    small = (max(1, round(width / params.downsample)), max(1, round(height / params.downsample)))
    out = cv2.resize(out, small, interpolation=cv2.INTER_LINEAR)
    # 3. noise (colour noise, one draw per channel value)
    if params.noise_sigma > 0:
        noise = np.random.default_rng(params.noise_seed).standard_normal(out.shape).astype(np.float32)
        out = out + noise * np.float32(params.noise_sigma)
    out = np.clip(np.rint(out), 0, 255).astype(np.uint8)
    # 4. JPEG: OpenCV encodes BGR, so convert (the reference passed RGB and swapped chroma weights)
    ok, encoded = cv2.imencode(".jpg", np.ascontiguousarray(out[..., ::-1]),
                               [int(cv2.IMWRITE_JPEG_QUALITY), int(params.jpeg_quality)])
    if not ok:
        raise RuntimeError("OpenCV could not JPEG-encode the degraded image")
    out = cv2.imdecode(encoded, cv2.IMREAD_COLOR)[..., ::-1]
    # 5. back to the input's size
    if out.shape[:2] != (height, width):
        out = cv2.resize(out, (width, height), interpolation=cv2.INTER_LINEAR)
    return np.ascontiguousarray(out)
