"""Writing photos: ``save_photo``, atomic, metadata-preserving, and refusing to destroy anything.

Choices worth knowing:
- The format comes from the suffix (``.jpg`` -> JPEG...). Missing parent folders are created: outputs
  usually go to a new folder next to the album.
- Never over the photo the pixels came from (``photo.path``), even with ``overwrite=True``. An existing
  file is replaced only when FaceMe wrote it (see mark.py) or ``overwrite=True``.
- EXIF and the ICC profile are kept; Orientation is written as 1 (the pixels are already upright) and
  Software as "FaceMe Desktop <version>" (the output mark).
- Gray photos are saved as gray (8-bit L or 16-bit) where the format has gray (not WebP/HEIF), except
  16-bit gray with alpha in TIFF, written as RGBA because Pillow cannot open that layout.
- Alpha is kept for PNG, TIFF, WebP and HEIF. JPEG and BMP outputs drop it: the colour pixels are
  written as they are, not blended onto a background, because what lies under a photo's transparent
  areas is usually real image content.
- 16-bit photos stay 16-bit in PNG and TIFF; other formats get 8 bits (rounded, ``Photo.rgb8``).
- The encoded file is built in memory, then written by ``atomic.write_atomically`` (temp file in the
  target folder, fsync, ``os.replace``): readers see the old file or the new one, never half of one.
"""

from __future__ import annotations

import io
import os
from contextlib import suppress
from pathlib import Path

import numpy as np
from PIL import Image, PngImagePlugin

from faceme_core.errors import ImageSaveError
from faceme_core.image_types import Photo
from faceme_core.imageio import deep, tiff
from faceme_core.imageio.atomic import write_atomically
from faceme_core.imageio.formats import ALPHA_FORMATS, DEEP_FORMATS, SUPPORTED_SUFFIXES, format_for_suffix, register_heif
from faceme_core.imageio.mark import BMP_MARK, BMP_MARK_OFFSET, SOFTWARE, is_faceme_output
from faceme_core.imageio.metadata import TAG_ORIENTATION, TAG_SOFTWARE, parse_exif
from faceme_core.imageio.output_path import check_output_path

_GRAY_FORMATS = frozenset({"JPEG", "PNG", "TIFF", "BMP"})


def _check_arrays(photo: Photo) -> None:
    """Programming errors, not user errors: the Photo convention is broken."""
    pixels = photo.pixels
    if pixels.ndim != 3 or pixels.shape[2] != 3 or pixels.dtype not in (np.uint8, np.uint16):
        raise ValueError(f"photo.pixels must be (H, W, 3) uint8 or uint16, got {pixels.shape} {pixels.dtype}")
    if photo.alpha is not None and photo.alpha.shape != pixels.shape[:2]:
        raise ValueError(f"photo.alpha must be {pixels.shape[:2]}, got {photo.alpha.shape}")


def _same_file(a: Path, b: Path) -> bool:
    with suppress(OSError):
        return os.path.samefile(a, b)  # also catches hard links and case-insensitive file systems
    return os.path.normcase(os.path.abspath(a)) == os.path.normcase(os.path.abspath(b))


def _check_target(target: Path, photo: Photo, overwrite: bool, replace_own: bool) -> None:
    if photo.path is not None and _same_file(target, photo.path):
        raise ImageSaveError(f"{target}: refusing to overwrite the original photo; choose another file name")
    check_output_path(target)  # a folder, or a FIFO that would hang every open
    if target.exists() and not overwrite and not replace_own:
        raise ImageSaveError("already exists", subject=target, setting="overwrite",
                             hint="choose another name or folder, or allow overwriting")
    if target.exists() and not overwrite and not is_faceme_output(target):
        raise ImageSaveError(
            f"{target}: a file that FaceMe did not write already exists; "
            "choose another name or folder, or allow overwriting"
        )


def _to_dtype(plane: np.ndarray, dtype: np.dtype) -> np.ndarray:
    if plane.dtype == dtype:
        return plane
    if dtype == np.uint8:
        return (plane.astype(np.float32) / 257.0 + 0.5).astype(np.uint8)
    return plane.astype(np.uint16) * 257


def _gray(pixels: np.ndarray) -> np.ndarray:
    """One plane from the RGB pixels: exact for gray sources, ITU-R 601 luma if colour crept in."""
    r, g, b = (pixels[:, :, i].astype(np.int64) for i in range(3))
    return ((r * 299 + g * 587 + b * 114 + 500) // 1000).astype(pixels.dtype)


def _samples(pixels: np.ndarray, alpha: np.ndarray | None, gray: bool) -> np.ndarray:
    """(H, W, C): C = 1 gray, 2 gray+alpha, 3 RGB, 4 RGBA."""
    planes = [_gray(pixels)[:, :, None]] if gray else [pixels]
    if alpha is not None:
        planes.append(_to_dtype(alpha, pixels.dtype)[:, :, None])
    return np.ascontiguousarray(np.concatenate(planes, axis=2))


def _output_exif(photo: Photo) -> Image.Exif:
    exif = parse_exif(photo.exif) or Image.Exif()
    exif[TAG_ORIENTATION] = 1
    exif[TAG_SOFTWARE] = SOFTWARE
    return exif


def _encode(photo: Photo, fmt: str, quality: int) -> bytes:
    exif = _output_exif(photo)
    dpi = photo.extra.get("dpi")
    alpha = photo.alpha if fmt in ALPHA_FORMATS else None
    gray = photo.is_gray and fmt in _GRAY_FORMATS
    if gray and alpha is not None and fmt == "TIFF" and photo.pixels.dtype == np.uint16:
        gray = False  # 16-bit gray+alpha TIFF: valid, but Pillow (and tools built on it) cannot open it
    deep_pixels = photo.pixels.dtype == np.uint16 and fmt in DEEP_FORMATS
    samples = _samples(photo.pixels if deep_pixels else photo.rgb8(), alpha, gray)

    if fmt == "TIFF":
        return tiff.encode_tiff(samples, icc_profile=photo.icc_profile, exif=exif, dpi=dpi)
    if deep_pixels:
        return deep.encode_png16(
            samples, icc_profile=photo.icc_profile, exif=exif.tobytes(), texts={"Software": SOFTWARE}, dpi=dpi
        )
    data = _encode_with_pillow(samples, fmt, quality, exif=exif, icc_profile=photo.icc_profile, dpi=dpi)
    if fmt == "BMP":
        data = data[:BMP_MARK_OFFSET] + BMP_MARK + data[BMP_MARK_OFFSET + len(BMP_MARK):]
    return data


def _encode_with_pillow(
    samples: np.ndarray,
    fmt: str,
    quality: int,
    *,
    exif: Image.Exif,
    icc_profile: bytes | None,
    dpi: tuple[float, float] | None,
) -> bytes:
    """JPEG, 8-bit PNG, WebP, BMP and HEIF from 8-bit ``samples`` (H, W, 1..4)."""
    image = Image.fromarray(samples[:, :, 0] if samples.shape[2] == 1 else samples)  # L, LA, RGB, RGBA
    params: dict = {}
    if icc_profile:
        params["icc_profile"] = icc_profile
    if dpi and fmt in ("JPEG", "PNG", "BMP"):
        params["dpi"] = dpi
    if fmt != "BMP":
        params["exif"] = exif.tobytes()
    if fmt in ("JPEG", "WEBP", "HEIF"):
        params["quality"] = quality
    if fmt == "JPEG" and quality >= 90:
        params["subsampling"] = 0  # full-resolution colour: restored faces are all fine detail
    if fmt == "PNG":
        info = PngImagePlugin.PngInfo()
        info.add_text("Software", SOFTWARE)
        params["pnginfo"] = info
    if fmt == "HEIF":
        register_heif()
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **params)
    return buffer.getvalue()


def save_photo(
    photo: Photo, path: str | Path, *, overwrite: bool = False, quality: int = 95, replace_own: bool = True
) -> Path:
    """Write ``photo`` to ``path`` (format from the suffix); returns the path written. See module doc.

    ``replace_own=False`` refuses any existing file without ``overwrite``, even one FaceMe wrote."""
    target = Path(path)
    fmt = format_for_suffix(target)
    if fmt is None:
        supported = ", ".join(sorted(SUPPORTED_SUFFIXES))
        raise ImageSaveError(f"{target}: cannot save as {target.suffix or 'a file without suffix'!r} (use one of {supported})")
    if not 1 <= quality <= 100:
        raise ImageSaveError(f"{target}: quality must be between 1 and 100, got {quality}")
    _check_arrays(photo)
    _check_target(target, photo, overwrite, replace_own)
    try:
        payload = _encode(photo, fmt, quality)
    except (OSError, ValueError) as exc:
        raise ImageSaveError(f"{target}: could not encode the image as {fmt} ({exc})") from exc
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(target, payload)
    except OSError as exc:
        raise ImageSaveError(f"{target}: could not write the file ({exc.strerror or exc})") from exc
    return target
