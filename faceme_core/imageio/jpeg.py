"""A structural check that a JPEG file is complete.

Pillow refuses truncated JPEGs only while ``ImageFile.LOAD_TRUNCATED_IMAGES`` is False, a process-wide
switch any library may flip; then libjpeg fills the missing part with grey and nobody notices. Walking
the marker structure up to the end-of-image marker does not depend on that switch.
"""

from __future__ import annotations

_SOI, _EOI, _SOS = 0xD8, 0xD9, 0xDA
_STANDALONE = frozenset({0x01, _SOI, *range(0xD0, 0xD8)})  # TEM, SOI, RST0-7: no length field


def _skip_entropy_data(data: bytes, pos: int) -> int:
    """Index of the marker that ends the entropy-coded data starting at ``pos``, or -1 at end of data."""
    n = len(data)
    while True:
        i = data.find(b"\xff", pos)
        if i < 0 or i + 1 >= n:
            return -1
        following = data[i + 1]
        if following == 0x00 or 0xD0 <= following <= 0xD7:  # stuffed 0xFF byte or restart marker
            pos = i + 2
        elif following == 0xFF:  # fill byte before a marker
            pos = i + 1
        else:
            return i


def jpeg_is_complete(data: bytes) -> bool:
    """True if ``data`` is a JPEG whose first image runs to its end-of-image marker."""
    n = len(data)
    if n < 4 or data[0] != 0xFF or data[1] != _SOI:
        return False
    pos = 2
    while pos < n:
        if data[pos] != 0xFF:  # stray bytes between segments (tolerated by decoders too): resync
            pos = data.find(b"\xff", pos)
            if pos < 0:
                return False
        while pos < n and data[pos] == 0xFF:  # a marker may be preceded by fill bytes
            pos += 1
        if pos >= n:
            return False
        marker = data[pos]
        pos += 1
        if marker == _EOI:
            return True
        if marker in _STANDALONE:
            continue
        if pos + 2 > n:
            return False
        length = int.from_bytes(data[pos:pos + 2], "big")
        if length < 2 or pos + length > n:
            return False
        pos += length
        if marker == _SOS:
            pos = _skip_entropy_data(data, pos)
            if pos < 0:
                return False
    return False
