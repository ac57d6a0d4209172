"""A tiny but valid ICC v2 CMYK printer profile, built in code (no binary files in the repository).

Its A2B0 table maps pure cyan to red, something no real press does: if a loader's output is red, it
must have used the embedded profile rather than Pillow's profile-less CMYK formula (which gives cyan).
"""

from __future__ import annotations

import struct


def _s15f16(value: float) -> bytes:
    return struct.pack(">i", int(round(value * 65536)))


def _lab8(lightness: float, a: float, b: float) -> bytes:
    """lut8 Lab encoding (ICC v2): L 0..100 -> 0..255, a/b -128..127 -> 0..255."""
    return bytes([round(lightness * 255 / 100), round(a + 128), round(b + 128)])


def _corner_lab(c: int, m: int, y: int, k: int) -> bytes:
    if k:
        return _lab8(0, 0, 0)
    if c and not (m or y):
        return _lab8(54.3, 80.8, 69.9)  # sRGB red, in D50 Lab
    if c or m or y:
        return _lab8(40, 0, 0)
    return _lab8(100, 0, 0)


def _lut8() -> bytes:
    identity = bytes(range(256))
    matrix = b"".join(_s15f16(1.0 if i % 4 == 0 else 0.0) for i in range(9))
    grid = b"".join(
        _corner_lab(c, m, y, k) for c in (0, 1) for m in (0, 1) for y in (0, 1) for k in (0, 1)
    )  # first input channel varies slowest
    return b"mft1" + b"\0" * 4 + bytes([4, 3, 2, 0]) + matrix + identity * 4 + grid + identity * 3


def _desc(text: str) -> bytes:
    ascii_text = text.encode("ascii") + b"\0"
    return (b"desc" + b"\0" * 4 + struct.pack(">I", len(ascii_text)) + ascii_text
            + b"\0" * 8 + b"\0" * 3 + b"\0" * 67)  # empty Unicode and ScriptCode parts


def _xyz(x: float, y: float, z: float) -> bytes:
    return b"XYZ " + b"\0" * 4 + _s15f16(x) + _s15f16(y) + _s15f16(z)


def inverted_cmyk_profile() -> bytes:
    d50 = (0.9642, 1.0, 0.8249)
    tags = [
        (b"desc", _desc("FaceMe test CMYK")),
        (b"cprt", b"text" + b"\0" * 4 + b"public domain\0"),
        (b"wtpt", _xyz(*d50)),
        (b"A2B0", _lut8()),
    ]
    table_size = 4 + 12 * len(tags)
    offset = 128 + table_size
    entries, blobs = [], []
    for signature, blob in tags:
        blob += b"\0" * (-len(blob) % 4)
        entries.append(signature + struct.pack(">II", offset, len(blob)))
        blobs.append(blob)
        offset += len(blob)
    body = struct.pack(">I", len(tags)) + b"".join(entries) + b"".join(blobs)
    header = bytearray(128)
    header[0:4] = struct.pack(">I", 128 + len(body))
    header[8:12] = bytes([2, 0x10, 0, 0])
    header[12:16] = b"prtr"
    header[16:20] = b"CMYK"
    header[20:24] = b"Lab "
    header[24:36] = struct.pack(">6H", 2026, 1, 1, 0, 0, 0)
    header[36:40] = b"acsp"
    header[68:80] = _s15f16(d50[0]) + _s15f16(d50[1]) + _s15f16(d50[2])
    return bytes(header) + body
