"""16-bit PNG and TIFF, which Pillow cannot hold beyond single-channel gray ("I;16").

Pillow reduces 16-bit RGB to 8 bits on read and cannot write it. Reading goes through OpenCV; PNG
writing uses the small encoder below (TIFF: tiff.py), so the outputs carry the same metadata (ICC,
EXIF, FaceMe mark) as everything else we write.
"""

from __future__ import annotations

import struct
import zlib
from contextlib import contextmanager
from typing import Iterator

import numpy as np
from PIL import Image

from faceme_core.imageio.metadata import EXIF_PREFIX
from faceme_core.imageio.tiff import tiff_orientation_reset

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
SWAP_BAND_BYTES = 4 << 20  # rows swapped at a time (the temporary copy is 2/3 of that)


def _rawmode(im: Image.Image) -> str:
    """How the file stores its samples, in Pillow's words ("RGB;16B", "LA;16B", "RGBA;16N"...)."""
    for tile in im.tile:
        args = tile.args
        if isinstance(args, str):
            return args
        if args and isinstance(args[0], str):
            return args[0]
    return ""


def is_deep_color(im: Image.Image) -> bool:
    """True if Pillow would reduce this (not yet decoded) PNG/TIFF from 16 to 8 bits per sample."""
    if im.format not in ("PNG", "TIFF") or im.mode not in ("RGB", "RGBA", "LA"):
        return False
    if im.format == "TIFF":
        bits = im.tag_v2.get(258, (8,))
        bits = bits if isinstance(bits, tuple) else (bits,)
        return max(bits) > 8
    return ";16" in _rawmode(im)


def is_gray_source(im: Image.Image) -> bool:
    """True for gray(+alpha) files that Pillow presents as colour (16-bit gray+alpha PNG -> "RGBA")."""
    if im.format == "TIFF":
        return im.tag_v2.get(262) in (0, 1)
    return _rawmode(im).startswith(("L;", "LA", "I;16"))


def stored_size(im: Image.Image) -> tuple[int, int]:
    """(width, height) as stored in the file; Pillow reports TIFFs already turned upright."""
    if im.format == "TIFF":
        return int(im.tag_v2[256]), int(im.tag_v2[257])
    return im.size


def decode_deep(data: bytes, fmt: str) -> np.ndarray | None:
    """The file's samples as stored (no orientation applied), RGB order, as (H, W) gray,
    (H, W, 2) gray+alpha or (H, W, 3|4) RGB[A]; None if the decoder gives up."""
    import cv2

    if fmt == "TIFF":
        data = tiff_orientation_reset(data)
    # libpng prints its errors straight to stderr: give it only structurally sound files.
    if fmt == "PNG" and not png_is_intact(data):
        return None
    try:
        with _opencv_silenced():  # libtiff's and OpenCV's complaints; we raise our own error
            arr = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_UNCHANGED)  # 16 bits + alpha
    except cv2.error:
        return None
    if arr is None or arr.dtype != np.uint16:
        return None
    if arr.ndim == 3 and arr.shape[2] in (3, 4):
        _swap_red_and_blue(arr)
    return arr


def _swap_red_and_blue(arr: np.ndarray) -> None:
    """BGR(A) -> RGB(A) in place, a band of rows at a time: a copy of a 150 MP 16-bit photo is 900 MB."""
    rows = max(1, SWAP_BAND_BYTES // max(1, arr.strides[0]))
    for top in range(0, arr.shape[0], rows):
        band = arr[top : top + rows]
        band[:, :, [0, 2]] = band[:, :, [2, 0]]


def png_is_intact(data: bytes) -> bool:
    """Every chunk complete with a correct CRC, up to IEND: no truncation and no damaged bytes."""
    if not data.startswith(_PNG_SIGNATURE):
        return False
    view = memoryview(data)
    offset = len(_PNG_SIGNATURE)
    while offset + 12 <= len(data):
        (length,) = struct.unpack_from(">I", data, offset)
        end = offset + 12 + length
        if end > len(data):
            return False
        kind_and_payload = view[offset + 4:end - 4]
        if zlib.crc32(kind_and_payload) != struct.unpack_from(">I", data, end - 4)[0]:
            return False
        if bytes(kind_and_payload[:4]) == b"IEND":
            return True
        offset = end
    return False


@contextmanager
def _opencv_silenced() -> Iterator[None]:
    import cv2

    logging = cv2.utils.logging
    previous = logging.getLogLevel()
    logging.setLogLevel(logging.LOG_LEVEL_SILENT)
    try:
        yield
    finally:
        logging.setLogLevel(previous)


def _png_chunk(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


def encode_png16(
    samples: np.ndarray,
    *,
    icc_profile: bytes | None,
    exif: bytes | None,
    texts: dict[str, str],
    dpi: tuple[float, float] | None,
) -> bytes:
    """A 16-bit PNG of ``samples`` (H, W, C) uint16, C = 1 gray, 2 gray+alpha, 3 RGB, 4 RGBA."""
    height, width, channels = samples.shape
    color_type = {1: 0, 2: 4, 3: 2, 4: 6}[channels]
    rows = np.ascontiguousarray(samples, dtype=">u2").view(np.uint8).reshape(height, width * channels * 2)
    # PNG filter 1 ("Sub"): each byte minus the same byte of the previous pixel; photos compress
    # much better than unfiltered, and it vectorises.
    bpp = channels * 2
    filtered = rows.copy()
    filtered[:, bpp:] = rows[:, bpp:] - rows[:, :-bpp]
    scanlines = np.concatenate([np.ones((height, 1), dtype=np.uint8), filtered], axis=1)

    out = [_PNG_SIGNATURE, _png_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 16, color_type, 0, 0, 0))]
    if icc_profile:
        out.append(_png_chunk(b"iCCP", b"ICC Profile\x00\x00" + zlib.compress(icc_profile)))
    if dpi:
        per_metre = [int(round(d / 0.0254)) for d in dpi]
        out.append(_png_chunk(b"pHYs", struct.pack(">IIB", per_metre[0], per_metre[1], 1)))
    if exif:
        out.append(_png_chunk(b"eXIf", exif.removeprefix(EXIF_PREFIX)))
    for key, value in texts.items():
        out.append(_png_chunk(b"tEXt", key.encode("latin-1") + b"\x00" + value.encode("latin-1")))
    out.append(_png_chunk(b"IDAT", zlib.compress(scanlines.tobytes(), 6)))
    out.append(_png_chunk(b"IEND", b""))
    return b"".join(out)
