"""Every bad input gives an ImageLoadError naming the file and the problem."""

from __future__ import annotations

import os
import sys

import numpy as np
import pytest
from PIL import Image, ImageFile

from faceme_core.errors import ImageLoadError
from faceme_core.imageio import MAX_PIXELS, MIN_SIDE, load_photo, probe_photo
from tests.io.helpers import gradient_rgb, noise, write_pil


def _expect_error(path, *words):
    with pytest.raises(ImageLoadError) as info:
        load_photo(path)
    message = str(info.value)
    assert str(path) in message
    for word in words:
        assert word in message.lower()
    return message


def test_missing_file(tmp_path):
    _expect_error(tmp_path / "nope.jpg", "not found")


def test_directory(tmp_path):
    folder = tmp_path / "album.jpg"
    folder.mkdir()
    _expect_error(folder, "folder")


@pytest.mark.skipif(sys.platform == "win32" or os.geteuid() == 0, reason="needs POSIX permissions, non-root")
def test_unreadable_file(tmp_path):
    path = write_pil(tmp_path / "locked.png", gradient_rgb())
    path.chmod(0)
    try:
        _expect_error(path, "permission denied")
    finally:
        path.chmod(0o644)


def test_read_permission_error_is_reported(tmp_path, monkeypatch):
    # The same path as a chmod 000 file, also when the tests run as root (who can read anything).
    path = write_pil(tmp_path / "locked.png", gradient_rgb())

    def denied(self):
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(type(path), "read_bytes", denied)
    _expect_error(path, "permission denied")


def test_empty_file(tmp_path):
    path = tmp_path / "empty.jpg"
    path.write_bytes(b"")
    _expect_error(path, "empty")


def test_text_file_named_jpg(tmp_path):
    path = tmp_path / "notes.jpg"
    path.write_text("shopping list: milk, eggs\n" * 20)
    _expect_error(path, "not an image")


def test_unsupported_format(tmp_path):
    path = tmp_path / "anim.gif"
    Image.fromarray(gradient_rgb()).save(path)
    _expect_error(path, "gif", "not supported")


@pytest.mark.parametrize("size_wh", [(1, 1), (MIN_SIDE - 1, 200), (200, MIN_SIDE - 1)])
def test_too_small(tmp_path, size_wh):
    path = write_pil(tmp_path / "tiny.png", noise((size_wh[1], size_wh[0], 3)))
    _expect_error(path, f"{size_wh[0]}x{size_wh[1]}", "at least")


def test_minimum_size_is_accepted(tmp_path):
    path = write_pil(tmp_path / "small.png", noise((MIN_SIDE, MIN_SIDE, 3)))
    assert load_photo(path).size_wh == (MIN_SIDE, MIN_SIDE)


def _declared_huge_png(path, width, height):
    """A valid PNG header declaring a huge size, with almost no data: decoding it would be a bomb."""
    import struct
    import zlib

    def chunk(kind, payload):
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b""))
    return path


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
def test_declared_size_over_limit_is_refused_before_decoding(tmp_path):
    side = int(MAX_PIXELS**0.5) + 100
    path = _declared_huge_png(tmp_path / "bomb.png", side, side)
    _expect_error(path, "megapixel")
    with pytest.raises(ImageLoadError, match="megapixel"):
        probe_photo(path)


def test_size_far_over_pillow_limit_gives_our_message(tmp_path):
    path = _declared_huge_png(tmp_path / "bomb2.png", 60_000, 60_000)
    _expect_error(path, "megapixel")


def _jpeg_bytes(tmp_path, **params):
    path = write_pil(tmp_path / "whole.jpg", noise((64, 80, 3)), quality=90, **params)
    return path.read_bytes()


@pytest.mark.parametrize("progressive", [False, True])
@pytest.mark.parametrize("keep", [0.5, 0.9, -2])
def test_truncated_jpeg(tmp_path, keep, progressive):
    data = _jpeg_bytes(tmp_path, progressive=progressive)
    cut = len(data) + keep if keep < 0 else int(len(data) * keep)
    path = tmp_path / "cut.jpg"
    path.write_bytes(data[:cut])
    _expect_error(path, "truncated")


def test_truncated_jpeg_refused_even_if_pillow_told_to_accept_it(tmp_path, monkeypatch):
    # Some libraries flip this process-wide switch; Pillow then fills the missing part with grey.
    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", True)
    data = _jpeg_bytes(tmp_path)
    path = tmp_path / "cut.jpg"
    path.write_bytes(data[: len(data) // 2])
    with Image.open(path) as im:
        im.load()  # proves the switch really makes Pillow accept it
    _expect_error(path, "truncated")


def test_truncated_png(tmp_path):
    data = write_pil(tmp_path / "whole.png", noise((64, 80, 3))).read_bytes()
    path = tmp_path / "cut.png"
    path.write_bytes(data[: len(data) * 2 // 3])
    _expect_error(path, "damaged")


def test_truncated_16bit_png(tmp_path):
    import cv2

    cv2.imwrite(str(tmp_path / "whole.png"), noise((64, 80, 3), np.uint16))
    data = (tmp_path / "whole.png").read_bytes()
    path = tmp_path / "cut.png"
    path.write_bytes(data[: len(data) // 2])
    _expect_error(path, "damaged")


def test_non_ascii_path(tmp_path):
    folder = tmp_path / "Großmutter"
    folder.mkdir()
    pixels = gradient_rgb()
    path = write_pil(folder / "фото 1.jpg", pixels, quality=95)
    photo = load_photo(path)
    assert photo.path == path
    assert photo.size_wh == (64, 48)
    assert np.abs(photo.pixels.astype(int) - pixels).max() <= 8
    assert probe_photo(str(path)).size_wh == (64, 48)


def test_probe_reports_missing_file(tmp_path):
    with pytest.raises(ImageLoadError, match="not found"):
        probe_photo(tmp_path / "gone.png")
