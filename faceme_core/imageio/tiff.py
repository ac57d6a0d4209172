"""TIFF details: our TIFF writer, and the orientation patch OpenCV's TIFF reader needs.

Pillow writes deflate-compressed TIFFs through libtiff, which rejects an EXIF sub-IFD (so the date
taken would be lost), and cannot write 16-bit RGB at all. This writer handles 8 and 16 bits, gray and
colour, with or without alpha, and keeps EXIF (sub-IFDs included) and the ICC profile.
"""

from __future__ import annotations

import struct
import zlib

import numpy as np
from PIL import Image

from faceme_core.imageio.metadata import EXIF_PREFIX, descriptive_exif


def tiff_orientation_reset(data: bytes) -> bytes:
    """``data`` with the Orientation tag of a (classic) TIFF's first IFD set to 1.

    OpenCV turns TIFFs upright by that tag whatever the flags say, while it leaves PNGs as stored;
    neutralising the tag gives one rule for both: pixels come back as stored and we apply it.
    """
    order = {b"II": "<", b"MM": ">"}.get(data[:2])
    if order is None or len(data) < 8 or struct.unpack(order + "H", data[2:4])[0] != 42:
        return data  # BigTIFF or junk: leave it to the decoder
    (ifd,) = struct.unpack(order + "I", data[4:8])
    if ifd + 2 > len(data):
        return data
    (count,) = struct.unpack(order + "H", data[ifd:ifd + 2])
    for i in range(count):
        entry = ifd + 2 + 12 * i
        if entry + 12 > len(data):
            break
        tag, kind = struct.unpack(order + "HH", data[entry:entry + 4])
        if tag == 0x0112 and kind == 3:  # SHORT, stored inline in the entry's value field
            patched = bytearray(data)
            patched[entry + 8:entry + 10] = struct.pack(order + "H", 1)
            return bytes(patched)
    return data


def encode_tiff(
    samples: np.ndarray,
    *,
    icc_profile: bytes | None,
    exif: Image.Exif,
    dpi: tuple[float, float] | None,
) -> bytes:
    """A deflate-compressed TIFF of ``samples`` (H, W, C) uint8 or uint16, C = 1 gray, 2 gray+alpha,
    3 RGB, 4 RGBA.

    The header and IFDs are serialised by Pillow's EXIF writer (it writes a complete TIFF directory,
    sub-IFDs included); the single strip of pixels follows it.
    """
    height, width, channels = samples.shape
    tags = descriptive_exif(exif)
    tags[256] = width
    tags[257] = height
    tags[258] = (8 * samples.dtype.itemsize,) * channels
    tags[259] = 8  # Adobe deflate
    tags[262] = 2 if channels >= 3 else 1  # RGB / BlackIsZero
    tags[273] = 0  # StripOffsets: Pillow's writer points it just past the directory it writes
    tags[277] = channels
    tags[278] = height
    tags[284] = 1
    tags[317] = 2  # horizontal differencing predictor: photos deflate far better
    if channels in (2, 4):
        tags[338] = (2,)  # unassociated alpha
    tags[339] = (1,) * channels
    if icc_profile:
        tags[34675] = icc_profile
    if dpi:
        tags[282], tags[283], tags[296] = float(dpi[0]), float(dpi[1]), 2
    head = tags.tobytes()[len(EXIF_PREFIX):]
    order = ">" if head[:2] == b"MM" else "<"
    differences = samples.copy()
    differences[:, 1:] -= samples[:, :-1]  # wraps modulo 2**bits, as the predictor specifies
    strip = zlib.compress(np.ascontiguousarray(differences, dtype=samples.dtype.newbyteorder(order)).tobytes(), 6)
    tags[279] = len(strip)
    head = tags.tobytes()[len(EXIF_PREFIX):]
    # Guard against a Pillow change in how it places strip offsets: a wrong file must never be written.
    if _inline_value(head, 273) != len(head):
        raise RuntimeError("TIFF writer: strip offset does not point past the directory")
    return head + strip


def _inline_value(data: bytes, wanted: int) -> int | None:
    """The single SHORT/LONG value of tag ``wanted`` in IFD0 of a classic TIFF, else None."""
    order = {b"II": "<", b"MM": ">"}.get(data[:2])
    if order is None or len(data) < 8:
        return None
    (ifd,) = struct.unpack(order + "I", data[4:8])
    (count,) = struct.unpack(order + "H", data[ifd:ifd + 2])
    for i in range(count):
        entry = ifd + 2 + 12 * i
        tag, kind, n = struct.unpack(order + "HHI", data[entry:entry + 8])
        if tag == wanted and n == 1 and kind in (3, 4):
            return struct.unpack(order + ("H" if kind == 3 else "I"), data[entry + 8:entry + (10 if kind == 3 else 12)])[0]
    return None
