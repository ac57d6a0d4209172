"""Orientation, EXIF dates and header-only probing."""

from __future__ import annotations

from datetime import datetime

import cv2
import numpy as np
import pytest
from PIL import Image, ImageOps

from faceme_core.imageio import date_taken, load_photo, probe_photo, save_photo
from tests.io.helpers import exif_with, gradient_rgb, noise, write_pil


def _pillow_upright(stored: np.ndarray, orientation: int) -> np.ndarray:
    """``stored`` turned by Pillow's ImageOps.exif_transpose (the reference), for any dtype/channels:
    transpose an image of pixel coordinates, then gather."""
    height, width = stored.shape[:2]
    rows, cols = np.mgrid[0:height, 0:width]
    coords = np.dstack([rows, cols, np.zeros_like(rows)]).astype(np.uint8)
    image = Image.fromarray(coords)
    exif = image.getexif()
    exif[0x0112] = orientation
    turned = np.asarray(ImageOps.exif_transpose(image))
    return stored[turned[:, :, 0], turned[:, :, 1]]


def _png_with_exif(path, data: bytes, exif: bytes):
    """Insert an eXIf chunk after IHDR of an existing PNG (as cameras and editors store it)."""
    import struct
    import zlib

    body = exif.removeprefix(b"Exif\x00\x00")
    chunk = struct.pack(">I", len(body)) + b"eXIf" + body + struct.pack(">I", zlib.crc32(b"eXIf" + body))
    ihdr_end = 8 + 8 + 13 + 4
    path.write_bytes(data[:ihdr_end] + chunk + data[ihdr_end:])
    return path


def _write_oriented(tmp_path, kind: str, stored: np.ndarray, orientation: int):
    import tifffile

    if kind.startswith("tif"):
        path = tmp_path / "o.tif"
        extratags = [(274, "H", 1, orientation, True)]
        tifffile.imwrite(path, stored, photometric="rgb", extratags=extratags)  # uncompressed
        return path
    path = tmp_path / "o.png"
    if kind == "png8":
        return write_pil(path, stored, exif=exif_with(orientation=orientation).tobytes())
    ok, encoded = cv2.imencode(".png", np.ascontiguousarray(stored[:, :, ::-1]))
    assert ok
    return _png_with_exif(path, encoded.tobytes(), exif_with(orientation=orientation).tobytes())


@pytest.mark.parametrize("kind,dtype", [("png8", np.uint8), ("png16", np.uint16), ("tif8", np.uint8), ("tif16", np.uint16)])
@pytest.mark.parametrize("orientation", range(1, 9))
def test_orientation_matches_pillow_exif_transpose(tmp_path, orientation, kind, dtype):
    # Pillow turns TIFFs itself, OpenCV turns TIFFs but not PNGs: every path must end up the same.
    stored = noise((20, 30, 3), dtype, seed=orientation)
    source = _write_oriented(tmp_path, kind, stored, orientation)
    photo = load_photo(source)
    assert photo.pixels.dtype == dtype
    assert photo.pixels.flags.c_contiguous and photo.pixels.flags.writeable  # callers may paint on it
    np.testing.assert_array_equal(photo.pixels, _pillow_upright(stored, orientation))
    assert probe_photo(source).size_wh == photo.size_wh
    if orientation != 1:
        exif = Image.Exif()
        exif.load(photo.exif)
        assert exif.get(0x0112) == 1


def test_orientation_applied_to_alpha_too(tmp_path):
    rgba = noise((20, 30, 4), np.uint16, seed=7)
    ok, encoded = cv2.imencode(".png", np.ascontiguousarray(rgba[:, :, [2, 1, 0, 3]]))
    source = _png_with_exif(tmp_path / "a.png", encoded.tobytes(), exif_with(orientation=8).tobytes())
    photo = load_photo(source)
    assert photo.size_wh == (20, 30)
    np.testing.assert_array_equal(photo.pixels, _pillow_upright(rgba[:, :, :3], 8))
    np.testing.assert_array_equal(photo.alpha, _pillow_upright(rgba[:, :, 3], 8))


def test_orientation_6_jpeg_is_rotated_and_reset(tmp_path):
    pixels = gradient_rgb(48, 64)  # red grows to the right, green downwards
    source = write_pil(tmp_path / "phone.jpg", pixels, quality=95, exif=exif_with(orientation=6).tobytes())
    assert probe_photo(source).size_wh == (48, 64)
    photo = load_photo(source)
    assert photo.size_wh == (48, 64)
    # Rotated clockwise: the stored top-left corner (dark) is now top-right.
    assert photo.pixels[0, -1].sum() < 40 and photo.pixels[0, 0].sum() > 200
    exif = Image.Exif()
    exif.load(photo.exif)
    assert exif[0x0112] == 1
    out = save_photo(photo, tmp_path / "out.jpg")
    with Image.open(out) as im:
        assert im.size == (48, 64) and im.getexif()[0x0112] == 1
    again = load_photo(out)
    assert np.abs(again.pixels.astype(int) - photo.pixels).max() <= 10  # not rotated a second time


def test_exif_date_kept_and_parsed(tmp_path):
    exif = exif_with(original="2001:02:03 04:05:06", t0132="2019:01:01 00:00:00", t010f="Olympus")
    source = write_pil(tmp_path / "old.jpg", gradient_rgb(), exif=exif.tobytes())
    assert probe_photo(source).date_taken == datetime(2001, 2, 3, 4, 5, 6)
    photo = load_photo(source)
    assert date_taken(photo.exif) == datetime(2001, 2, 3, 4, 5, 6)
    for suffix in (".jpg", ".png", ".webp", ".tif"):
        out = save_photo(photo, tmp_path / f"restored{suffix}")
        again = load_photo(out)
        assert date_taken(again.exif) == datetime(2001, 2, 3, 4, 5, 6), suffix
        assert probe_photo(out).date_taken == datetime(2001, 2, 3, 4, 5, 6), suffix
        parsed = Image.Exif()
        parsed.load(again.exif)
        assert parsed[0x010F] == "Olympus", suffix


def test_date_taken_fallbacks_and_junk():
    assert date_taken(None) is None
    assert date_taken(b"") is None
    assert date_taken(b"not exif at all") is None
    assert date_taken(Image.Exif()) is None
    digitized = Image.Exif()
    digitized.get_ifd(0x8769)[0x9004] = "2010:05:06 07:08:09"
    digitized[0x0132] = "2020:01:01 00:00:00"
    assert date_taken(digitized) == datetime(2010, 5, 6, 7, 8, 9)
    only_datetime = exif_with(t0132="2015:12:24 18:30:00")
    assert date_taken(only_datetime.tobytes()) == datetime(2015, 12, 24, 18, 30)
    junk_first = exif_with(original="0000:00:00 00:00:00", t0132="2012:03:04 05:06:07")
    assert date_taken(junk_first) == datetime(2012, 3, 4, 5, 6, 7)
    assert date_taken(exif_with(original="    :  :     :  :  ")) is None
    assert date_taken(exif_with(original="2012:13:45 99:00:00")) is None
    assert date_taken(exif_with(original="2012-03-04T05:06:07")) == datetime(2012, 3, 4, 5, 6, 7)
    assert date_taken(exif_with(original="1999:12:31")) == datetime(1999, 12, 31)
    # Raw bytes without the "Exif\0\0" prefix (as WebP and PNG store them) are accepted too.
    raw = exif_with(original="2001:02:03 04:05:06").tobytes()
    assert date_taken(raw[6:]) == datetime(2001, 2, 3, 4, 5, 6)


def test_probe_does_not_decode_pixels(tmp_path):
    # A truncated JPEG still has a complete header: probing succeeds, loading fails.
    path = write_pil(tmp_path / "x.jpg", noise((64, 80, 3)), exif=exif_with(original="2005:06:07 08:09:10").tobytes())
    data = path.read_bytes()
    path.write_bytes(data[: len(data) * 3 // 4])
    info = probe_photo(path)
    assert info.size_wh == (80, 64) and info.format == "JPEG" and info.date_taken.year == 2005
