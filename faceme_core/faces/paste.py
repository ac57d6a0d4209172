"""Paste restored face crops back into the whole photo.

Image convention: RGB, HWC, 3 channels, uint8 or uint16 (see ``faceme_core.image_types``); a face crop
is square, (S, S, 3), uint8 or uint16, in the aligned (template) space given by its 2x3 matrix.

Each crop is warped back with the inverse of its alignment transform and blended through a soft mask
built in crop space and warped the same way. The mask is the crop's square, eroded and feathered by
fixed fractions of the crop side; since every aligned crop frames the face the same way, the border
band and the feather are proportional to the face's size in the photo, whatever its resolution.

Only the bounding box of each warped square is read and written, so the cost per face depends on the
face's size, not the photo's; pixels where every mask is exactly 0 are bit-identical to the input.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Sequence

import cv2
import numpy as np

from faceme_core.faces.align import AlignedFace
from faceme_core.image_types import Photo

# Fractions of the crop side S. FFHQ-aligned crops put the face's outline roughly 0.2 S inside each
# border, so the restored pixels are fully used from 0.15 S inwards and fade out before the border,
# where warped crops hold reflected or interpolated pixels (facexlib uses about the same 5% + 10%).
MASK_ERODE_FRACTION = 0.05  # band along the crop border where the mask is exactly 0
MASK_FEATHER_FRACTION = 0.10  # width of the smooth 0 -> 1 ramp inside that band

# Background filter for --upscale 2: Lanczos (8x8 taps) keeps more detail than bicubic; cv2 saturates
# its slight overshoot to the dtype's range.
UPSCALE_INTERPOLATION = cv2.INTER_LANCZOS4
ALLOWED_UPSCALES = (1, 2)

_MAX_VALUE = {np.dtype(np.uint8): 255.0, np.dtype(np.uint16): 65535.0}


@dataclass(frozen=True)
class RestoredFace:
    """A restored (or edited) aligned crop and the photo -> crop transform it was aligned with."""

    crop: np.ndarray  # (S, S, 3) RGB, uint8 or uint16
    matrix: np.ndarray  # (2, 3) float64, photo coordinates -> crop coordinates
    # (S, S) float32 in [0, 1], the crop's own alpha (a crop partly erased in an image editor):
    # multiplies the paste mask, so fully transparent crop pixels leave the photo unchanged. None: opaque.
    opacity: np.ndarray | None = None

    def __post_init__(self) -> None:
        crop, matrix = self.crop, np.asarray(self.matrix)
        if crop.ndim != 3 or crop.shape[2] != 3 or crop.shape[0] != crop.shape[1] or crop.shape[0] < 8:
            raise ValueError(f"crop: expected a square (S, S, 3) RGB array, got shape {crop.shape}")
        if crop.dtype not in _MAX_VALUE:
            raise ValueError(f"crop: expected uint8 or uint16 pixels, got {crop.dtype}")
        if matrix.shape != (2, 3) or not np.all(np.isfinite(matrix)):
            raise ValueError(f"matrix: expected a finite (2, 3) affine matrix, got {matrix!r}")
        if abs(np.linalg.det(matrix[:, :2].astype(np.float64))) < 1e-12:
            raise ValueError("matrix: singular transform, it cannot be inverted")
        if self.opacity is not None:
            opacity = self.opacity
            if opacity.shape != crop.shape[:2] or opacity.dtype != np.float32:
                raise ValueError(f"opacity: expected a {crop.shape[:2]} float32 array, got {opacity.shape} {opacity.dtype}")
            if not (np.all(opacity >= 0.0) and np.all(opacity <= 1.0)):
                raise ValueError("opacity: values must lie in [0, 1]")

    @classmethod
    def from_aligned(cls, aligned: AlignedFace, crop: np.ndarray | None = None) -> "RestoredFace":
        """The restored ``crop`` (default: the aligned crop itself) placed where ``aligned`` came from."""
        return cls(crop=aligned.crop if crop is None else crop, matrix=aligned.matrix)

    @property
    def size(self) -> int:
        return int(self.crop.shape[0])

    def mask(self) -> np.ndarray:
        """The paste mask in crop space: the soft border mask times the crop's opacity."""
        if self.opacity is None:
            return face_mask(self.size)
        return face_mask(self.size) * self.opacity


@dataclass(frozen=True)
class PasteResult:
    pixels: np.ndarray  # (H * upscale, W * upscale, 3), the input's dtype
    alpha: np.ndarray | None  # resized with the pixels, never changed by pasting
    mask: np.ndarray  # (H * upscale, W * upscale) float32 in [0, 1]: the maximum of the face masks


def paste_faces(
    pixels: np.ndarray,
    faces: Sequence[RestoredFace],
    *,
    upscale: int = 1,
    alpha: np.ndarray | None = None,
) -> PasteResult:
    """Blend every restored crop into (a possibly 2x upscaled copy of) ``pixels``; later faces go on top."""
    # 1. check inputs
    if pixels.ndim != 3 or pixels.shape[2] != 3 or pixels.dtype not in _MAX_VALUE:
        raise ValueError(f"pixels: expected (H, W, 3) uint8 or uint16, got {pixels.shape} {pixels.dtype}")
    if upscale not in ALLOWED_UPSCALES:
        raise ValueError(f"upscale: expected one of {ALLOWED_UPSCALES}, got {upscale!r}")
    if alpha is not None and alpha.shape != pixels.shape[:2]:
        raise ValueError(f"alpha: expected shape {pixels.shape[:2]}, got {alpha.shape}")

    # 2. background (and alpha) at the output size; the input is never modified
    out = upscale_image(pixels, upscale)
    out_alpha = None if alpha is None else upscale_image(alpha, upscale)
    union = np.zeros(out.shape[:2], dtype=np.float32)

    # 3. each face, inside its own bounding box only
    for face in faces:
        to_output = crop_to_output_matrix(face.matrix, upscale)
        box = warped_square_box(to_output, face.size, out.shape[1], out.shape[0])
        if box is None:  # entirely outside the photo
            continue
        x0, y0, x1, y1 = box
        to_box = to_output.copy()
        to_box[:, 2] -= (x0, y0)
        size_wh = (x1 - x0, y1 - y0)
        mask = cv2.warpAffine(
            face.mask(), to_box, size_wh, flags=cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_CONSTANT, borderValue=0.0,
        )
        restored = cv2.warpAffine(
            _to_float_scale(face.crop, out.dtype), to_box, size_wh, flags=cv2.INTER_CUBIC,
            borderMode=cv2.BORDER_REPLICATE,
        )
        region = out[y0:y1, x0:x1]
        region[...] = blend(region, restored, mask)
        np.maximum(union[y0:y1, x0:x1], mask, out=union[y0:y1, x0:x1])
    return PasteResult(pixels=out, alpha=out_alpha, mask=union)


def paste_into_photo(photo: Photo, faces: Sequence[RestoredFace], *, upscale: int = 1) -> Photo:
    """``paste_faces`` on a Photo: keeps alpha and metadata; gray photos get gray faces.

    A restored face may come back slightly tinted; in a gray photo it is reduced to its luminance so
    the result still has three equal channels, as the rest of the photo.
    """
    if photo.is_gray:
        faces = [replace(face, crop=gray_like(face.crop)) for face in faces]
    result = paste_faces(photo.pixels, faces, upscale=upscale, alpha=photo.alpha)
    return photo.with_pixels(result.pixels, result.alpha)


def upscale_image(image: np.ndarray, upscale: int) -> np.ndarray:
    """A copy of ``image`` enlarged ``upscale`` times (``UPSCALE_INTERPOLATION``)."""
    if upscale == 1:
        return image.copy()
    height, width = image.shape[:2]
    return cv2.resize(image, (width * upscale, height * upscale), interpolation=UPSCALE_INTERPOLATION)


def crop_to_output_matrix(matrix: np.ndarray, upscale: int) -> np.ndarray:
    """The crop -> output transform: the inverse alignment, then the photo -> upscaled photo map.

    cv2 puts pixel centres at integer coordinates, so resizing by u maps x to u * x + (u - 1) / 2.
    """
    inverse = cv2.invertAffineTransform(np.asarray(matrix, dtype=np.float64))
    scaled = inverse * upscale
    scaled[:, 2] += (upscale - 1) / 2.0
    return scaled


def warped_square_box(
    to_output: np.ndarray, size: int, width: int, height: int
) -> tuple[int, int, int, int] | None:
    """Integer box (x0, y0, x1 exclusive, y1 exclusive) holding the warped crop, clipped to the image."""
    corners = np.array([[0, 0, 1], [size, 0, 1], [0, size, 1], [size, size, 1]], dtype=np.float64)
    points = corners @ to_output.T
    x0 = max(int(np.floor(points[:, 0].min())) - 1, 0)
    y0 = max(int(np.floor(points[:, 1].min())) - 1, 0)
    x1 = min(int(np.ceil(points[:, 0].max())) + 2, width)
    y1 = min(int(np.ceil(points[:, 1].max())) + 2, height)
    if x1 <= x0 or y1 <= y0:
        return None
    return x0, y0, x1, y1


@lru_cache(maxsize=8)
def face_mask(size: int) -> np.ndarray:
    """The soft (size, size) float32 mask in crop space: 0 in the border band, smoothstep ramp, then 1.

    Read-only (it is cached and shared).
    """
    erode = MASK_ERODE_FRACTION * size
    feather = MASK_FEATHER_FRACTION * size
    centres = np.arange(size, dtype=np.float64) + 0.5
    distance = np.minimum(centres, size - centres)  # to the nearest border, per axis
    ramp = np.clip((distance - erode) / feather, 0.0, 1.0)
    ramp = ramp * ramp * (3.0 - 2.0 * ramp)  # smoothstep: no visible edge where the ramp starts or ends
    mask = np.minimum.outer(ramp, ramp).astype(np.float32)
    mask.setflags(write=False)
    return mask


def blend(region: np.ndarray, restored: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """region * (1 - mask) + restored * mask in float, rounded back to region's dtype.

    Computed as region + (restored - region) * mask so that mask == 0 gives region exactly; works in
    place in ``restored`` (float32, owned by the caller) to keep large faces fast.
    """
    base = region.astype(np.float32)
    np.subtract(restored, base, out=restored)
    np.multiply(restored, mask[:, :, None], out=restored)
    np.add(restored, base, out=restored)
    np.rint(restored, out=restored)
    np.clip(restored, 0.0, _MAX_VALUE[region.dtype], out=restored)
    return restored.astype(region.dtype)


def _to_float_scale(crop: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """float32 crop in the value range of ``dtype``: 8-bit crops are expanded x257 into 16-bit photos."""
    values = crop.astype(np.float32)
    if crop.dtype == dtype:
        return values
    return values * 257.0 if dtype == np.uint16 else values / 257.0


def gray_like(crop: np.ndarray) -> np.ndarray:
    """Three equal channels holding the luminance (ITU-R 601-2 weights, as PIL's "L" conversion)."""
    luma = crop.astype(np.float32) @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
    luma = np.clip(np.rint(luma), 0, _MAX_VALUE[crop.dtype]).astype(crop.dtype)
    return np.repeat(luma[:, :, None], 3, axis=2)
