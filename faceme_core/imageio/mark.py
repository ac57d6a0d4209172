"""How FaceMe marks the files it writes, so a re-run may replace its own outputs but nothing else.

- Formats with EXIF (JPEG, PNG, TIFF, WebP, HEIF): the EXIF ``Software`` tag (0x0131) reads
  ``"FaceMe Desktop <version>"``. PNG outputs also carry a ``Software`` tEXt chunk with the same text.
- BMP has no metadata; the 4 "reserved" bytes of its file header (offset 6, which the format leaves to
  the writing application and readers ignore) hold ``b"FMe1"``.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from faceme_core import __version__
from faceme_core.imageio.formats import register_heif
from faceme_core.imageio.metadata import TAG_SOFTWARE, parse_exif, with_exif_prefix

SOFTWARE_PREFIX = "FaceMe Desktop"
SOFTWARE = f"{SOFTWARE_PREFIX} {__version__}"
BMP_MARK = b"FMe1"
BMP_MARK_OFFSET = 6


def _is_mark(value: object) -> bool:
    if isinstance(value, bytes):
        value = value.decode("utf-8", errors="replace")
    return isinstance(value, str) and value.strip("\x00 ").startswith(SOFTWARE_PREFIX)


def is_faceme_output(path: str | Path) -> bool:
    """True if ``path`` is an image FaceMe wrote (see the module docstring). Never raises."""
    path = Path(path)
    try:
        # O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer forever. Only a
        # regular file can be one of our outputs.
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
        with os.fdopen(fd, "rb") as f:
            if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
                return False
            head = f.read(BMP_MARK_OFFSET + len(BMP_MARK))
        if head[:2] == b"BM":
            return head[BMP_MARK_OFFSET:] == BMP_MARK
        from PIL import Image

        register_heif()
        with Image.open(path) as im:
            if _is_mark(im.info.get("Software")):  # PNG tEXt chunk
                return True
            # Header-only EXIF: PNG's getexif() would decode the whole image when EXIF is absent.
            if im.format == "PNG":
                raw = im.info.get("exif")
                exif = parse_exif(with_exif_prefix(raw)) if raw else None
            else:
                exif = im.getexif()
            return exif is not None and _is_mark(exif.get(TAG_SOFTWARE))
    except Exception:  # noqa: BLE001 - unreadable or not an image: certainly not ours to replace
        return False
