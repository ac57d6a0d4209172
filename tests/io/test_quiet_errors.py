"""Damaged files fail with our ImageLoadError alone: no decoder warnings or library messages on the
terminal, so the CLI's error stays one line."""

from __future__ import annotations

import struct
import warnings
import zlib
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from faceme_core.errors import ImageLoadError
from faceme_core.imageio import load_photo, probe_photo
from faceme_core.imageio.deep import png_is_intact
from tests.io.helpers import gradient_rgb


def _load_quietly(capfd, path: Path, loader=load_photo) -> str:
    """The ImageLoadError message; fails if anything was printed or warned on the way."""
    capfd.readouterr()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(ImageLoadError) as info:
            loader(path)
    out, err = capfd.readouterr()
    assert (out, err) == ("", "")
    assert [str(w.message) for w in caught] == []
    assert str(path) in str(info.value)
    return str(info.value)


def _photo16(path: Path) -> bytes:
    cv2.imwrite(str(path), gradient_rgb(96, 128, np.uint16))  # TIFF: LZW-compressed
    return path.read_bytes()


def test_truncated_16bit_png_prints_nothing(capfd, tmp_path):
    data = _photo16(tmp_path / "whole.png")
    (tmp_path / "cut.png").write_bytes(data[: len(data) * 2 // 3])  # libpng: "input buffer is incomplete"
    _load_quietly(capfd, tmp_path / "cut.png")


def test_damaged_16bit_png_prints_nothing(capfd, tmp_path):
    data = bytearray(_photo16(tmp_path / "whole.png"))
    idat = data.index(b"IDAT")
    data[idat + 40: idat + 48] = b"\xff" * 8  # libpng: "IDAT: CRC error"
    (tmp_path / "bad.png").write_bytes(data)
    _load_quietly(capfd, tmp_path / "bad.png")


def test_damaged_16bit_tiff_prints_nothing(capfd, tmp_path):
    data = bytearray(_photo16(tmp_path / "whole.tif"))
    with Image.open(tmp_path / "whole.tif") as im:
        strip = im.tag_v2[273][0]  # StripOffsets
    data[strip + 20: strip + 60] = b"\xff" * 40  # libtiff: "LZWDecode: ... code not yet in table"
    (tmp_path / "bad.tif").write_bytes(data)
    _load_quietly(capfd, tmp_path / "bad.tif")


def test_truncated_16bit_tiff_prints_nothing(capfd, tmp_path):
    data = _photo16(tmp_path / "whole.tif")
    (tmp_path / "cut.tif").write_bytes(data[: len(data) // 3])  # Pillow: "UserWarning: Corrupt EXIF data"
    _load_quietly(capfd, tmp_path / "cut.tif")
    _load_quietly(capfd, tmp_path / "cut.tif", probe_photo)


def test_large_declared_png_gives_no_decompression_bomb_warning(capfd, tmp_path):
    # 100 MP: under our limit, over Pillow's warning threshold; the data is missing.
    def chunk(kind: bytes, payload: bytes) -> bytes:
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))

    ihdr = struct.pack(">IIBBBBB", 10_000, 10_000, 8, 0, 0, 0, 0)
    path = tmp_path / "big.png"
    idat = zlib.compress(b"\0" * 64)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b""))
    _load_quietly(capfd, path)


def test_png_is_intact():
    data = cv2.imencode(".png", gradient_rgb(32, 32, np.uint16))[1].tobytes()
    assert png_is_intact(data)
    assert not png_is_intact(data[:-1])  # IEND cut
    assert not png_is_intact(data[:-12])  # no IEND at all
    flipped = bytearray(data)
    flipped[60] ^= 1
    assert not png_is_intact(bytes(flipped))
    assert not png_is_intact(b"GIF89a" + data[6:])
