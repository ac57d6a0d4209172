"""Reading photos: ``load_photo`` (pixels + metadata) and ``probe_photo`` (header only, for scans).

Every failure a user can meet (missing, unreadable, empty, damaged, truncated, not an image, too small,
absurdly large) becomes an ``ImageLoadError`` that names the file and the problem.
"""

from __future__ import annotations

import functools
import io
import struct
import warnings
import zlib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Callable, ParamSpec, TypeVar

import numpy as np
from PIL import Image, ImageCms, UnidentifiedImageError

from faceme_core.errors import ImageLoadError
from faceme_core.image_types import Photo
from faceme_core.imageio import deep
from faceme_core.imageio.formats import READABLE_FORMATS, register_heif
from faceme_core.imageio.jpeg import jpeg_is_complete
from faceme_core.imageio.memory import MAX_LOAD_BYTES, load_peak_bytes
from faceme_core.imageio.metadata import (
    TAG_ORIENTATION,
    date_taken,
    descriptive_exif,
    orientation,
    parse_exif,
    with_exif_prefix,
)
from faceme_core.imageio.orientation import apply_orientation, oriented_size

P = ParamSpec("P")
R = TypeVar("R")

# Checked from the header, before decoding. 150 MP holds a 1200 dpi scan of an A4 page (139 MP) and
# stays below Pillow's own hard limit (2 x Image.MAX_IMAGE_PIXELS = 179 MP), so ours is the one users
# meet, with our message. Memory is checked too (memory.py): 150 MP of 16-bit RGBA would need 2.4 GB.
MAX_PIXELS = 150_000_000
# Smaller than this cannot hold a face worth restoring; it also rejects 1x1 tracking pixels and icons.
MIN_SIDE = 16

# What a damaged file makes Pillow's decoders raise.
_DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, struct.error, zlib.error, IndexError)


@dataclass(frozen=True)
class PhotoInfo:
    size_wh: tuple[int, int]  # as displayed, i.e. after the EXIF orientation
    format: str  # Pillow's name: "JPEG", "PNG", ...
    date_taken: datetime | None


def _check_file(path: Path) -> None:
    """Rule out the problems we can name before opening the file."""
    try:
        st = path.stat()
    except FileNotFoundError:
        raise ImageLoadError(f"{path}: file not found") from None
    except PermissionError:
        raise ImageLoadError(f"{path}: permission denied (cannot access the file)") from None
    except OSError as exc:
        raise ImageLoadError(f"{path}: cannot access the file ({exc.strerror or exc})") from None
    if path.is_dir():
        raise ImageLoadError(f"{path}: is a folder, not a photo")
    if st.st_size == 0:
        raise ImageLoadError(f"{path}: the file is empty (0 bytes)")


def _read_bytes(path: Path) -> bytes:
    _check_file(path)
    try:
        return path.read_bytes()
    except PermissionError:
        raise ImageLoadError(f"{path}: permission denied (cannot read the file)") from None
    except OSError as exc:
        raise ImageLoadError(f"{path}: cannot read the file ({exc.strerror or exc})") from None


def _open(source: Path | io.BytesIO, path: Path) -> Image.Image:
    register_heif()
    try:
        im = Image.open(source)
    except PermissionError:
        raise ImageLoadError(f"{path}: permission denied (cannot read the file)") from None
    except Image.DecompressionBombError:
        # Pillow's own hard limit (far above ours unless someone lowered it): same message as ours.
        raise ImageLoadError(
            f"{path}: the image declares more than the {MAX_PIXELS // 1_000_000} megapixel limit "
            "(a damaged or malicious file?)"
        ) from None
    except UnidentifiedImageError:
        raise ImageLoadError(f"{path}: not an image FaceMe can read (damaged, or an unsupported format)") from None
    except _DECODE_ERRORS as exc:
        raise ImageLoadError(f"{path}: the file is damaged ({exc})") from None
    if im.format not in READABLE_FORMATS:
        fmt = im.format
        im.close()
        raise ImageLoadError(f"{path}: {fmt} images are not supported (use JPEG, PNG, TIFF, WebP, BMP or HEIC)")
    return im


def _format_name(im: Image.Image) -> str:
    # Pillow calls camera JPEGs with an embedded preview "MPO"; to everyone else they are JPEGs.
    return "JPEG" if im.format == "MPO" else im.format or ""


def _check_size(size_wh: tuple[int, int], path: Path) -> None:
    width, height = size_wh
    if width * height > MAX_PIXELS:
        raise ImageLoadError(
            f"{path}: the image declares {width}x{height} pixels ({width * height / 1e6:.0f} megapixels), "
            f"more than the {MAX_PIXELS // 1_000_000} megapixel limit (a damaged or malicious file?)"
        )
    if width < MIN_SIDE or height < MIN_SIDE:
        raise ImageLoadError(
            f"{path}: the image is only {width}x{height} pixels; photos must be at least {MIN_SIDE}x{MIN_SIDE}"
        )


def _check_memory(im: Image.Image, turn: int, path: Path) -> None:
    width, height = deep.stored_size(im)
    bands = len(im.getbands())
    alpha = "A" in im.getbands() or (im.mode == "P" and "transparency" in im.info)
    needed = load_peak_bytes(width, height, bands=bands, deep=deep.is_deep_color(im), alpha=alpha, turned=turn != 1)
    if needed > MAX_LOAD_BYTES:
        raise ImageLoadError(
            f"{path}: opening this {width}x{height} image would take about {needed / 1e9:.1f} GB of memory, more "
            f"than the {MAX_LOAD_BYTES / 1e9:.1f} GB limit (a damaged or malicious file, or an unusually large one?)"
        )


def _header_exif(im: Image.Image) -> Image.Exif | None:
    """EXIF readable without decoding pixels (PNG's getexif() would decode them when there is none)."""
    if im.format == "PNG":
        raw = im.info.get("exif")
        return parse_exif(with_exif_prefix(raw)) if raw else None
    try:
        return im.getexif()
    except Exception:  # noqa: BLE001 - broken EXIF must not make the photo unreadable
        return None


def _without_warnings(function: Callable[P, R]) -> Callable[P, R]:
    """Decoders warn about what we report ourselves (corrupt EXIF, truncated reads, decompression
    bombs below our own MAX_PIXELS): those warnings would break the CLI's one-line errors."""

    @functools.wraps(function)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return function(*args, **kwargs)

    return wrapper


@_without_warnings
def probe_photo(path: str | Path) -> PhotoInfo:
    """Size (as displayed), format and date taken, from the header only: fast enough for album scans.

    Raises ``ImageLoadError`` for the same reasons as ``load_photo`` that the header reveals (it does
    not decode, so a truncated file only fails at load).
    """
    path = Path(path)
    _check_file(path)
    with _open(path, path) as im:
        exif = _header_exif(im)
        size = _displayed_size(im, orientation(exif))
        _check_size(size, path)
        return PhotoInfo(size_wh=size, format=_format_name(im), date_taken=date_taken(exif))


def _cmyk_to_rgb(im: Image.Image) -> Image.Image:
    """sRGB through the embedded CMYK profile when there is a usable one, else Pillow's plain formula."""
    icc = im.info.get("icc_profile")
    if icc:
        try:
            source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            if source.profile.xcolor_space.strip() == "CMYK":
                return ImageCms.profileToProfile(
                    im, source, ImageCms.createProfile("sRGB"), outputMode="RGB",
                    renderingIntent=ImageCms.Intent.PERCEPTUAL,
                )
        except (ImageCms.PyCMSError, OSError, ValueError):
            pass  # a broken profile: better approximate colours than no photo
    return im.convert("RGB")


def _as_array(im: Image.Image, mode: str) -> np.ndarray:
    # np.array, not asarray: Pillow hands out read-only buffers, and callers may paint on photos.
    return np.array(im if im.mode == mode else im.convert(mode))


def _pillow_planes(im: Image.Image, path: Path) -> tuple[np.ndarray, np.ndarray | None, bool, bytes | None]:
    """(colour or gray samples, alpha or None, is_gray, ICC profile describing the samples)."""
    mode = im.mode
    icc = im.info.get("icc_profile") or None
    if mode in ("1", "L"):
        return _as_array(im, "L"), None, True, icc
    if mode.startswith("I;16"):
        return np.asarray(im).astype(np.uint16), None, True, icc  # astype copies: writeable
    if mode == "I":  # 16-bit gray from some decoders, 32-bit int TIFF from others: clip to 16 bits
        return np.clip(np.asarray(im), 0, 65535).astype(np.uint16), None, True, icc
    if mode in ("LA", "La"):
        la = _as_array(im, "LA")
        return la[:, :, 0], la[:, :, 1], True, icc
    if mode in ("RGBA", "RGBa", "PA") or (mode == "P" and "transparency" in im.info):
        rgba = _as_array(im, "RGBA")
        return rgba[:, :, :3], rgba[:, :, 3], False, icc
    if mode == "CMYK":
        return np.array(_cmyk_to_rgb(im)), None, False, None
    if mode == "LAB":
        srgb = ImageCms.applyTransform(im, ImageCms.buildTransform(
            ImageCms.createProfile("LAB"), ImageCms.createProfile("sRGB"), "LAB", "RGB"))
        return np.array(srgb), None, False, None
    if mode in ("RGB", "RGBX", "P", "YCbCr", "HSV"):
        return _as_array(im, "RGB"), None, False, icc
    raise ImageLoadError(f"{path}: pixel format {mode!r} is not supported")


def _deep_planes(im: Image.Image, data: bytes, path: Path) -> tuple[np.ndarray, np.ndarray | None, bool, bytes | None]:
    samples = deep.decode_deep(data, im.format or "")
    if samples is None or samples.shape[1::-1] != deep.stored_size(im):
        raise ImageLoadError(
            f"{path}: could not decode its 16-bit pixels (damaged, truncated, or an unusual layout)"
        )
    icc = im.info.get("icc_profile") or None
    if samples.ndim == 2:
        return samples, None, True, icc
    channels = samples.shape[2]
    if channels == 2:
        return samples[:, :, 0], samples[:, :, 1], True, icc
    alpha = samples[:, :, 3] if channels == 4 else None
    # OpenCV expands gray+alpha PNGs to BGRA: the file's own colour type tells us it was gray.
    return samples[:, :, :3], alpha, deep.is_gray_source(im), icc


def _displayed_size(im: Image.Image, turn: int) -> tuple[int, int]:
    # Pillow reports a TIFF's size already upright (it turns TIFFs itself on load).
    return oriented_size(deep.stored_size(im), turn)


def _photo_exif(im: Image.Image, exif: Image.Exif | None, source_turn: int) -> bytes | None:
    """The EXIF to keep: raw when untouched; rewritten when the orientation was reset or it is a TIFF's."""
    if not exif:  # None or no tags at all
        return None
    if im.format == "TIFF":
        exif = descriptive_exif(exif)
    elif source_turn == 1 and im.info.get("exif"):
        return with_exif_prefix(im.info["exif"])  # untouched: keeps maker notes byte for byte
    if source_turn != 1 or TAG_ORIENTATION in exif:
        exif[TAG_ORIENTATION] = 1
    return exif.tobytes()


@_without_warnings
def load_photo(path: str | Path) -> Photo:
    """The photo at ``path``, upright, as the ``Photo`` convention (RGB uint8/uint16, alpha apart)."""
    path = Path(path)
    data = _read_bytes(path)
    with _open(io.BytesIO(data), path) as im:
        exif = _header_exif(im)
        source_turn = orientation(exif)
        _check_size(_displayed_size(im, source_turn), path)
        _check_memory(im, source_turn, path)
        # A truncated JPEG must fail even if some other library set ImageFile.LOAD_TRUNCATED_IMAGES.
        if im.format in ("JPEG", "MPO") and not jpeg_is_complete(data):
            raise ImageLoadError(f"{path}: the JPEG file is truncated (incomplete download or copy?)")
        try:
            if deep.is_deep_color(im):
                samples, alpha, is_gray, icc = _deep_planes(im, data, path)
                turn = source_turn
            else:
                im.load()
                samples, alpha, is_gray, icc = _pillow_planes(im, path)
                # Pillow turns some formats (TIFF) upright during load and then drops the tag:
                # what it still reports is what is left for us to do.
                after_load = _header_exif(im)
                if exif is None:  # PNG may store its EXIF after the pixels
                    exif, source_turn = after_load, orientation(after_load)
                turn = orientation(after_load)
        except _DECODE_ERRORS as exc:
            raise ImageLoadError(f"{path}: the file is damaged or truncated ({exc})") from None
        samples = apply_orientation(samples, turn)
        if alpha is not None:
            alpha = apply_orientation(alpha, turn)
        if samples.ndim == 2:
            samples = np.repeat(samples[:, :, None], 3, axis=2)
        dpi = im.info.get("dpi")
        extra = {"dpi": (float(dpi[0]), float(dpi[1]))} if dpi and min(dpi) > 0 else {}
        return Photo(
            pixels=np.ascontiguousarray(samples),
            alpha=None if alpha is None else np.ascontiguousarray(alpha, dtype=samples.dtype),
            source_mode=im.mode,
            is_gray=is_gray,
            icc_profile=icc,
            exif=_photo_exif(im, exif, source_turn),
            source_format=_format_name(im),
            path=path,
            extra=extra,
        )
