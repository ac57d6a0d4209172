"""EXIF helpers: the date a photo was taken, orientation, and the tags worth carrying to outputs.

``Photo.exif`` holds raw EXIF as Pillow writes it into a JPEG's APP1 segment: ``b"Exif\\0\\0"``
followed by a TIFF header and IFD0 (with the Exif and GPS sub-IFDs). Every decoder and encoder we use
accepts that layout.
"""

from __future__ import annotations

import re
from datetime import datetime

from PIL import Image

EXIF_PREFIX = b"Exif\x00\x00"

TAG_ORIENTATION = 0x0112
TAG_SOFTWARE = 0x0131
TAG_DATETIME = 0x0132
TAG_DATETIME_ORIGINAL = 0x9003
TAG_DATETIME_DIGITIZED = 0x9004
IFD_EXIF = 0x8769
IFD_GPS = 0x8825
TAG_INTEROP_IFD = 0xA005

# IFD0 tags that describe the photo rather than the pixel layout. A TIFF's IFD0 mixes both; copying
# its strip offsets or bit depths into another file would corrupt that file, so only these travel.
_DESCRIPTIVE_IFD0_TAGS = frozenset({
    0x010E,  # ImageDescription
    0x010F,  # Make
    0x0110,  # Model
    TAG_ORIENTATION,
    0x011A, 0x011B, 0x0128,  # XResolution, YResolution, ResolutionUnit
    TAG_SOFTWARE,
    TAG_DATETIME,
    0x013B,  # Artist
    0x8298,  # Copyright
})

_DATE_RE = re.compile(
    r"^\s*(\d{4})[:\-/.](\d{1,2})[:\-/.](\d{1,2})(?:[ T]+(\d{1,2}):(\d{1,2})(?::(\d{1,2}))?)?"
)


def parse_exif(exif: bytes | Image.Exif | None) -> Image.Exif | None:
    """An ``Image.Exif`` from raw bytes (with or without the ``Exif\\0\\0`` prefix); None for junk."""
    if exif is None or isinstance(exif, Image.Exif):
        return exif
    if not exif:
        return None
    parsed = Image.Exif()
    try:
        parsed.load(bytes(exif))
    except Exception:  # noqa: BLE001 - any EXIF parser failure means "no usable metadata"
        return None
    return parsed


def with_exif_prefix(raw: bytes) -> bytes:
    """WebP and PNG store EXIF without the JPEG ``Exif\\0\\0`` prefix; normalise to having it."""
    return raw if raw.startswith(EXIF_PREFIX) else EXIF_PREFIX + raw


def parse_exif_datetime(value: object) -> datetime | None:
    """``"2001:02:03 04:05:06"`` (and common variants) as a naive datetime; None for junk."""
    if isinstance(value, bytes):
        value = value.decode("ascii", errors="replace")
    if not isinstance(value, str):
        return None
    match = _DATE_RE.match(value.replace("\x00", " "))
    if not match:
        return None
    parts = [int(p) if p else 0 for p in match.groups()]
    try:
        return datetime(*parts)  # type: ignore[arg-type]
    except ValueError:  # "0000:00:00 00:00:00" and other placeholders cameras write
        return None


def date_taken(exif: bytes | Image.Exif | None) -> datetime | None:
    """When the photo was taken: DateTimeOriginal, then DateTimeDigitized, then DateTime.

    Naive (the camera's local clock, as EXIF records it), so dates from any photo compare with each
    other. Junk values are skipped, never raised.
    """
    parsed = parse_exif(exif)
    if parsed is None:
        return None
    try:
        sub = parsed.get_ifd(IFD_EXIF)
    except Exception:  # noqa: BLE001 - a broken sub-IFD pointer: fall back to IFD0
        sub = {}
    # Some writers put the Exif-IFD dates into IFD0; accept them there as a fallback.
    candidates = (
        sub.get(TAG_DATETIME_ORIGINAL),
        parsed.get(TAG_DATETIME_ORIGINAL),
        sub.get(TAG_DATETIME_DIGITIZED),
        parsed.get(TAG_DATETIME_DIGITIZED),
        parsed.get(TAG_DATETIME),
    )
    for value in candidates:
        parsed_date = parse_exif_datetime(value)
        if parsed_date is not None:
            return parsed_date
    return None


def orientation(exif: Image.Exif | None) -> int:
    """The EXIF orientation (1..8); 1 when absent or invalid."""
    if exif is None:
        return 1
    value = exif.get(TAG_ORIENTATION, 1)
    if isinstance(value, tuple) and value:
        value = value[0]
    return value if isinstance(value, int) and 1 <= value <= 8 else 1


def descriptive_exif(source: Image.Exif) -> Image.Exif:
    """A copy of ``source`` without pixel-layout tags (see ``_DESCRIPTIVE_IFD0_TAGS``), sub-IFDs kept."""
    out = Image.Exif()
    for tag, value in source.items():
        if tag in _DESCRIPTIVE_IFD0_TAGS:
            out[tag] = value
    for ifd_tag in (IFD_EXIF, IFD_GPS):
        try:
            sub = dict(source.get_ifd(ifd_tag))
        except Exception:  # noqa: BLE001 - unreadable sub-IFD: drop it rather than fail the photo
            continue
        # The interoperability pointer is an offset into the source file: meaningless elsewhere.
        sub.pop(TAG_INTEROP_IFD, None)
        if sub:
            out.get_ifd(ifd_tag).update(sub)
    return out
