"""Which files FaceMe reads and writes, by suffix and by decoded format."""

from __future__ import annotations

import functools
import importlib.util
from pathlib import Path

# pillow-heif is an optional extra: HEIC/HEIF appear only when it is installed. find_spec does not
# import it, so this module stays cheap to import.
HEIF_AVAILABLE = importlib.util.find_spec("pillow_heif") is not None

_FORMAT_BY_SUFFIX = {
    ".jpg": "JPEG",
    ".jpeg": "JPEG",
    ".png": "PNG",
    ".tif": "TIFF",
    ".tiff": "TIFF",
    ".webp": "WEBP",
    ".bmp": "BMP",
}
if HEIF_AVAILABLE:
    _FORMAT_BY_SUFFIX.update({".heic": "HEIF", ".heif": "HEIF"})

SUPPORTED_SUFFIXES: frozenset[str] = frozenset(_FORMAT_BY_SUFFIX)

# Pillow's format names of what we decode. The content decides, not the suffix: a PNG named .jpg
# loads. MPO is how Pillow reports the multi-picture JPEGs many cameras write.
READABLE_FORMATS = frozenset({"JPEG", "MPO", "PNG", "TIFF", "WEBP", "BMP", "DIB"} | ({"HEIF"} if HEIF_AVAILABLE else set()))

# Formats that can carry an alpha channel on save (JPEG and BMP outputs drop it, see save.py).
ALPHA_FORMATS = frozenset({"PNG", "TIFF", "WEBP", "HEIF"})
# Formats saved with 16 bits per sample when the photo has them; the others are written as 8-bit.
DEEP_FORMATS = frozenset({"PNG", "TIFF"})


def format_for_suffix(path: Path) -> str | None:
    """The format ``save_photo`` writes for this file name, or None if the suffix is not supported."""
    return _FORMAT_BY_SUFFIX.get(path.suffix.lower())


@functools.cache
def register_heif() -> bool:
    """Teach Pillow to open HEIC/HEIF (once, on first use, so importing faceme_core stays fast)."""
    if not HEIF_AVAILABLE:
        return False
    import pillow_heif

    pillow_heif.register_heif_opener()
    return True
