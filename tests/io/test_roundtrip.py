"""Load -> save -> load keeps pixels, depth, gray, alpha and metadata, for every format we write."""

from __future__ import annotations

from dataclasses import replace

import cv2
import numpy as np
import pytest
from PIL import Image

from faceme_core.imageio import load_photo, save_photo
from tests.io.helpers import exif_with, gradient_rgb, noise, srgb_icc, write_pil


# Lossy formats: the source and our output are each encoded once, so the error can add up twice.
@pytest.mark.parametrize("suffix,max_error", [(".jpg", 12), (".png", 0), (".webp", 16), (".tif", 0), (".bmp", 0)])
def test_rgb8_round_trip(tmp_path, suffix, max_error):
    pixels = gradient_rgb()
    source = write_pil(tmp_path / f"in{suffix}", pixels, **({"quality": 95} if suffix in (".jpg", ".webp") else {}))
    photo = load_photo(source)
    assert photo.pixels.dtype == np.uint8 and photo.pixels.shape == (48, 64, 3)
    assert photo.pixels.flags.c_contiguous and photo.pixels.flags.writeable
    assert not photo.is_gray and photo.alpha is None
    out = save_photo(photo, tmp_path / "out" / f"restored{suffix}")
    again = load_photo(out)
    assert again.source_format == photo.source_format
    assert np.abs(again.pixels.astype(int) - pixels).max() <= max_error


def test_gray16_png(tmp_path):
    gray = noise((40, 50), np.uint16, seed=1)
    source = tmp_path / "scan.png"
    Image.fromarray(gray).save(source)  # Pillow writes mode I;16 as a 16-bit gray PNG
    photo = load_photo(source)
    assert photo.is_gray and photo.pixels.dtype == np.uint16 and photo.bit_depth == 16
    for c in range(3):
        np.testing.assert_array_equal(photo.pixels[:, :, c], gray)
    out = save_photo(photo, tmp_path / "out.png")
    with Image.open(out) as im:
        assert im.mode == "I;16"  # stored as gray, not as three equal channels
        np.testing.assert_array_equal(np.asarray(im), gray)
    np.testing.assert_array_equal(load_photo(out).pixels, photo.pixels)


@pytest.mark.parametrize("suffix", [".png", ".tif"])
def test_rgb16_round_trip_keeps_16_bits(tmp_path, suffix):
    rgb = noise((30, 40, 3), np.uint16, seed=2)
    source = tmp_path / f"deep{suffix}"
    assert cv2.imwrite(str(source), np.ascontiguousarray(rgb[:, :, ::-1]))  # OpenCV writes BGR
    photo = load_photo(source)
    assert photo.pixels.dtype == np.uint16
    np.testing.assert_array_equal(photo.pixels, rgb)
    out = save_photo(photo, tmp_path / f"out{suffix}")
    back = cv2.imread(str(out), cv2.IMREAD_UNCHANGED)  # an independent decoder
    assert back.dtype == np.uint16
    np.testing.assert_array_equal(back[:, :, ::-1], rgb)
    np.testing.assert_array_equal(load_photo(out).pixels, rgb)


@pytest.mark.parametrize("suffix", [".png", ".tif"])
def test_rgba16_with_icc_and_exif(tmp_path, suffix):
    rgba = noise((24, 32, 4), np.uint16, seed=3)
    source = tmp_path / f"deep{suffix}"
    assert cv2.imwrite(str(source), np.ascontiguousarray(rgba[:, :, [2, 1, 0, 3]]))
    photo = load_photo(source)
    np.testing.assert_array_equal(photo.alpha, rgba[:, :, 3])
    icc = srgb_icc()
    exif = exif_with(original="2003:04:05 06:07:08").tobytes()
    out = save_photo(replace(photo, icc_profile=icc, exif=exif), tmp_path / f"out{suffix}")
    again = load_photo(out)
    np.testing.assert_array_equal(again.pixels, rgba[:, :, :3])
    np.testing.assert_array_equal(again.alpha, rgba[:, :, 3])
    assert again.icc_profile == icc
    from faceme_core.imageio import date_taken, probe_photo

    assert date_taken(again.exif).year == 2003
    assert probe_photo(out).date_taken.isoformat() == "2003-04-05T06:07:08"


def test_gray_jpeg(tmp_path):
    gray = gradient_rgb()[:, :, 0]
    source = write_pil(tmp_path / "bw.jpg", gray, quality=95)
    photo = load_photo(source)
    assert photo.is_gray and photo.source_mode == "L"
    assert np.array_equal(photo.pixels[:, :, 0], photo.pixels[:, :, 2])
    out = save_photo(photo, tmp_path / "bw_out.jpg")
    with Image.open(out) as im:
        assert im.mode == "L"
    assert load_photo(out).is_gray


def test_rgba_png_keeps_alpha(tmp_path):
    rgba = np.dstack([gradient_rgb(), noise((48, 64), seed=4)])
    source = write_pil(tmp_path / "cutout.png", rgba)
    photo = load_photo(source)
    np.testing.assert_array_equal(photo.alpha, rgba[:, :, 3])
    np.testing.assert_array_equal(photo.pixels, rgba[:, :, :3])
    out = save_photo(photo, tmp_path / "cutout_out.png")
    with Image.open(out) as im:
        assert im.mode == "RGBA"
        np.testing.assert_array_equal(np.asarray(im), rgba)


def test_jpeg_output_drops_alpha_and_keeps_colour(tmp_path):
    rgba = np.dstack([gradient_rgb(), np.zeros((48, 64), np.uint8)])  # fully transparent
    photo = load_photo(write_pil(tmp_path / "cutout.png", rgba))
    out = save_photo(photo, tmp_path / "flat.jpg")
    again = load_photo(out)
    assert again.alpha is None
    assert np.abs(again.pixels.astype(int) - rgba[:, :, :3]).max() <= 8  # not blended onto black/white


def test_palette_with_transparency(tmp_path):
    im = Image.fromarray(gradient_rgb()).quantize(16)
    im.info["transparency"] = 0
    source = tmp_path / "pal.png"
    im.save(source, transparency=0)
    photo = load_photo(source)
    assert photo.alpha is not None and (photo.alpha == 0).any() and (photo.alpha == 255).any()
    assert photo.pixels.shape == (48, 64, 3)


def test_gray_alpha_png(tmp_path):
    la = np.dstack([gradient_rgb()[:, :, 0], noise((48, 64), seed=5)])
    source = write_pil(tmp_path / "la.png", la)
    photo = load_photo(source)
    assert photo.is_gray
    np.testing.assert_array_equal(photo.alpha, la[:, :, 1])
    out = save_photo(photo, tmp_path / "la_out.png")
    with Image.open(out) as im:
        assert im.mode == "LA"
        np.testing.assert_array_equal(np.asarray(im), la)


def test_one_bit_tiff_is_gray(tmp_path):
    bits = noise((32, 32), seed=6) > 127
    source = tmp_path / "fax.tif"
    Image.fromarray(bits).save(source)
    photo = load_photo(source)
    assert photo.is_gray and photo.pixels.dtype == np.uint8
    np.testing.assert_array_equal(photo.pixels[:, :, 0], np.where(bits, 255, 0))


def test_cmyk_jpeg_without_profile_becomes_rgb(tmp_path):
    cmyk = np.zeros((32, 32, 4), np.uint8)
    cmyk[:16, :, 0] = 255  # pure cyan on top
    cmyk[16:, :, 3] = 255  # pure black below
    source = tmp_path / "print.jpg"
    Image.fromarray(cmyk, mode="CMYK").save(source, quality=95)
    photo = load_photo(source)
    assert photo.source_mode == "CMYK" and photo.icc_profile is None
    assert photo.pixels.shape == (32, 32, 3)
    top, bottom = photo.pixels[4, 4].astype(int), photo.pixels[28, 4].astype(int)
    assert top[0] < 30 and top[1] > 225 and top[2] > 225  # cyan
    assert bottom.max() < 30  # black


def test_cmyk_jpeg_with_profile_uses_it(tmp_path):
    from tests.io.cmyk_profile import inverted_cmyk_profile

    cmyk = np.zeros((32, 32, 4), np.uint8)
    cmyk[:, :, 0] = 255  # cyan: the test profile maps C to red instead (a recognisably odd profile)
    source = tmp_path / "print.jpg"
    Image.fromarray(cmyk, mode="CMYK").save(source, quality=95, icc_profile=inverted_cmyk_profile())
    photo = load_photo(source)
    assert photo.icc_profile is None  # pixels are sRGB now
    r, g, b = photo.pixels[16, 16].astype(int)
    assert r > 200 and g < 60 and b < 60, (r, g, b)


def test_icc_profile_kept(tmp_path):
    icc = srgb_icc()
    for suffix in (".jpg", ".png", ".webp", ".tif"):
        source = write_pil(tmp_path / f"icc{suffix}", gradient_rgb(), icc_profile=icc)
        photo = load_photo(source)
        assert photo.icc_profile == icc
        out = save_photo(photo, tmp_path / f"out{suffix}")
        with Image.open(out) as im:
            assert im.info.get("icc_profile") == icc, suffix


def test_album_photos_load(album_dir):
    photos = sorted(album_dir.glob("*.jpg"))
    assert len(photos) >= 5
    for path in photos:
        photo = load_photo(path)
        with Image.open(path) as im:
            assert photo.size_wh == im.size
        assert photo.pixels.dtype == np.uint8 and photo.pixels.shape[2] == 3
        assert photo.source_format == "JPEG"


def test_album_photo_round_trip_keeps_exif_date(album_dir, tmp_path):
    from faceme_core.imageio import date_taken

    photo = load_photo(album_dir / "two_sisters_print_scan.jpg")
    taken = date_taken(photo.exif)
    assert taken is not None
    out = save_photo(photo, tmp_path / "restored.jpg")
    assert date_taken(load_photo(out).exif) == taken


def test_dpi_kept(tmp_path):
    source = write_pil(tmp_path / "scan.png", gradient_rgb(), dpi=(600, 600))
    photo = load_photo(source)
    out = save_photo(photo, tmp_path / "scan.jpg")
    with Image.open(out) as im:
        assert tuple(round(v) for v in im.info["dpi"]) == (600, 600)
    deep = save_photo(photo.with_pixels(photo.pixels.astype(np.uint16) * 257), tmp_path / "deep.png")
    with Image.open(deep) as im:
        assert tuple(round(v) for v in im.info["dpi"]) == (600, 600)


def test_supported_suffixes():
    from faceme_core.imageio import SUPPORTED_SUFFIXES
    from faceme_core.imageio.formats import HEIF_AVAILABLE

    assert {".jpg", ".jpeg", ".png", ".tif", ".tiff", ".webp", ".bmp"} <= SUPPORTED_SUFFIXES
    assert ({".heic", ".heif"} <= SUPPORTED_SUFFIXES) == HEIF_AVAILABLE
    assert all(s == s.lower() and s.startswith(".") for s in SUPPORTED_SUFFIXES)


def test_gray_bmp_and_tiff_stay_gray(tmp_path):
    gray = gradient_rgb()[:, :, 1]
    for suffix in (".bmp", ".tif"):
        photo = load_photo(write_pil(tmp_path / f"g{suffix}", gray))
        assert photo.is_gray
        out = save_photo(photo, tmp_path / f"out{suffix}")
        again = load_photo(out)
        assert again.is_gray, suffix
        np.testing.assert_array_equal(again.pixels[:, :, 0], gray)


def test_heic_round_trip_and_orientation(tmp_path):
    pytest.importorskip("pillow_heif")
    from faceme_core.imageio import date_taken, probe_photo
    from faceme_core.imageio.formats import register_heif

    register_heif()
    pixels = gradient_rgb()
    source = tmp_path / "phone.heic"
    # pillow-heif stores EXIF orientation 6 as the container's rotation; either way it must come upright.
    Image.fromarray(pixels).save(source, quality=95, exif=exif_with(orientation=6, original="2022:07:08 09:10:11").tobytes())
    photo = load_photo(source)
    assert photo.source_format == "HEIF" and photo.size_wh == (48, 64)
    assert np.abs(photo.pixels.astype(int) - np.rot90(pixels, k=-1)).max() <= 12
    assert probe_photo(source).size_wh == (48, 64)
    assert probe_photo(source).date_taken.year == 2022
    out = save_photo(photo, tmp_path / "restored.heif")
    again = load_photo(out)
    assert again.size_wh == (48, 64)
    assert date_taken(again.exif).year == 2022


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
@pytest.mark.parametrize("suffix", [".png", ".tif"])
def test_gray_with_alpha_and_gray16_tiff(tmp_path, suffix, dtype):
    from faceme_core.image_types import Photo

    gray = noise((20, 30), dtype, seed=12)
    alpha = noise((20, 30), dtype, seed=13)
    photo = Photo(pixels=np.repeat(gray[:, :, None], 3, axis=2), alpha=alpha, is_gray=True)
    again = load_photo(save_photo(photo, tmp_path / f"ga{suffix}"))
    assert again.pixels.dtype == dtype
    np.testing.assert_array_equal(again.pixels, photo.pixels)
    np.testing.assert_array_equal(again.alpha, alpha)
    # Documented exception: 16-bit gray+alpha TIFF is written as RGBA (Pillow cannot open it).
    assert again.is_gray == (suffix == ".png" or dtype == np.uint8)
    plain = load_photo(save_photo(replace(photo, alpha=None), tmp_path / f"g{suffix}"))
    assert plain.is_gray and plain.pixels.dtype == dtype
    np.testing.assert_array_equal(plain.pixels, photo.pixels)
