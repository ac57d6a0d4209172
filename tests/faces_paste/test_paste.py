"""paste_faces on faces placed with known transforms: masks, round trips, bit depths, gray, alpha, upscale."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from faceme_core.faces.align import align_face
from faceme_core.faces.paste import (
    MASK_ERODE_FRACTION,
    MASK_FEATHER_FRACTION,
    RestoredFace,
    crop_to_output_matrix,
    face_mask,
    paste_faces,
    paste_into_photo,
    upscale_image,
)
from faceme_core.image_types import Photo
from tests.faces_paste.synthetic import place_face, psnr


def _aligned(placed, pixels=None):
    return align_face(placed.pixels if pixels is None else pixels, placed.points)


# ---- the mask -----------------------------------------------------------------------------------


@pytest.mark.parametrize("size", [512, 256])
def test_mask_is_zero_in_the_border_band_and_one_in_the_middle(size):
    mask = face_mask(size)
    zero_band = int(MASK_ERODE_FRACTION * size)  # whole pixels entirely inside the band
    full_from = int(np.ceil((MASK_ERODE_FRACTION + MASK_FEATHER_FRACTION) * size))
    assert mask.shape == (size, size) and mask.dtype == np.float32
    for edge in (mask[:zero_band], mask[-zero_band:], mask[:, :zero_band], mask[:, -zero_band:]):
        assert np.all(edge == 0.0)
    assert np.all(mask[full_from:-full_from, full_from:-full_from] == 1.0)
    row = mask[size // 2, : size // 2]
    assert np.all(np.diff(row) >= 0) and 0 < row[zero_band + 1] < 1
    assert not mask.flags.writeable  # cached and shared


def test_feather_in_the_photo_grows_with_the_face():
    def ramp_width(scale):
        placed = place_face(600, 600, scale=scale, degrees=0.0, center=(300.0, 300.0))
        mask = paste_faces(placed.pixels, [RestoredFace.from_aligned(_aligned(placed))]).mask
        row = mask[300]
        return int(np.count_nonzero((row > 0) & (row < 1))), int(np.count_nonzero(row > 0))

    small_ramp, small_extent = ramp_width(0.4)
    large_ramp, large_extent = ramp_width(0.8)
    assert large_ramp / small_ramp == pytest.approx(2.0, rel=0.1)
    # Where the mask starts: 5% inside each side of a square 512 * scale wide.
    assert small_extent == pytest.approx(512 * 0.4 * (1 - 2 * MASK_ERODE_FRACTION), abs=3)


# ---- round trips and edits ----------------------------------------------------------------------


def test_unchanged_crop_round_trip_keeps_the_photo():
    placed = place_face(scale=0.45, degrees=20.0)
    before = placed.pixels.copy()
    result = paste_faces(placed.pixels, [RestoredFace.from_aligned(_aligned(placed))])
    assert np.array_equal(placed.pixels, before)  # the input is never written to
    outside = result.mask == 0
    assert 0 < np.count_nonzero(~outside) < outside.size
    assert np.array_equal(result.pixels[outside], before[outside])
    assert psnr(result.pixels, before, 255) >= 35.0
    assert result.alpha is None and result.pixels.dtype == np.uint8


def test_edited_crop_changes_only_pixels_inside_its_mask():
    placed = place_face(scale=0.5, degrees=-10.0)
    aligned = _aligned(placed)
    painted = np.zeros_like(aligned.crop)
    painted[...] = (250, 20, 30)
    result = paste_faces(placed.pixels, [RestoredFace.from_aligned(aligned, painted)])
    changed = np.any(result.pixels != placed.pixels, axis=2)
    assert np.all(result.mask[changed] > 0)
    full = result.mask == 1.0
    assert np.all(np.abs(result.pixels[full].astype(int) - (250, 20, 30)) <= 1)
    # The full-weight part is the inner (1 - 2 * (erode + feather)) of the face's square.
    inner_side = 512 * 0.5 * (1 - 2 * (MASK_ERODE_FRACTION + MASK_FEATHER_FRACTION))
    assert np.count_nonzero(full) == pytest.approx(inner_side**2, rel=0.05)


def test_later_faces_go_on_top_and_the_mask_is_their_union():
    placed = place_face(300, 500, scale=0.4, degrees=0.0, center=(250.0, 150.0))
    aligned = _aligned(placed)
    first = RestoredFace.from_aligned(aligned, np.full_like(aligned.crop, 10))
    shifted = aligned.matrix.copy()
    shifted[0, 2] -= 60 * aligned.scale  # the same face 60 photo pixels to the right
    second = RestoredFace(crop=np.full_like(aligned.crop, 200), matrix=shifted)
    both = paste_faces(placed.pixels, [first, second])
    only_first = paste_faces(placed.pixels, [first])
    only_second = paste_faces(placed.pixels, [second])
    assert np.array_equal(both.mask, np.maximum(only_first.mask, only_second.mask))
    assert np.all(both.pixels[150, 250] == 200)  # inside both squares: the second face wins


def test_faces_partly_or_wholly_outside_the_photo():
    placed = place_face(200, 200, scale=0.6, center=(20.0, 180.0))
    aligned = _aligned(placed)
    result = paste_faces(placed.pixels, [RestoredFace.from_aligned(aligned, np.zeros_like(aligned.crop))])
    assert result.mask.max() == 1.0 and result.pixels[180, 20].max() == 0
    away = aligned.matrix.copy()
    away[:, 2] += 5000 * aligned.scale  # crop origin maps 5000 px up-left of the photo
    gone = paste_faces(placed.pixels, [RestoredFace(crop=aligned.crop, matrix=away)])
    assert np.array_equal(gone.pixels, placed.pixels) and not gone.mask.any()


# ---- bit depth, gray, alpha ----------------------------------------------------------------------


def test_16_bit_round_trip_stays_16_bit():
    placed = place_face(scale=0.45)
    rng = np.random.default_rng(1)
    pixels16 = (placed.pixels.astype(np.uint16) * 257 + rng.integers(0, 200, placed.pixels.shape)).astype(np.uint16)
    aligned = _aligned(placed, pixels16)
    assert aligned.crop.dtype == np.uint16
    result = paste_faces(pixels16, [RestoredFace.from_aligned(aligned)])
    assert result.pixels.dtype == np.uint16
    outside = result.mask == 0
    assert np.array_equal(result.pixels[outside], pixels16[outside])
    assert psnr(result.pixels, pixels16, 65535) >= 35.0


def test_8_bit_crop_into_16_bit_photo_is_expanded():
    placed = place_face(scale=0.45)
    pixels16 = placed.pixels.astype(np.uint16) * 257
    aligned = _aligned(placed)
    crop8 = np.zeros((512, 512, 3), np.uint8)
    crop8[...] = (255, 128, 3)
    result = paste_faces(pixels16, [RestoredFace.from_aligned(aligned, crop8)])
    full = result.mask == 1.0
    assert result.pixels.dtype == np.uint16
    assert np.all(np.abs(result.pixels[full].astype(int) - (65535, 128 * 257, 3 * 257)) <= 1)


def test_gray_photo_gets_gray_faces_and_keeps_equal_channels():
    placed = place_face(scale=0.45)
    gray = np.repeat(cv2.cvtColor(placed.pixels, cv2.COLOR_RGB2GRAY)[:, :, None], 3, axis=2)
    photo = Photo(pixels=gray, is_gray=True, source_mode="L")
    aligned = _aligned(placed, gray)
    tinted = np.clip(aligned.crop.astype(int) + (40, 0, -40), 0, 255).astype(np.uint8)
    result = paste_into_photo(photo, [RestoredFace.from_aligned(aligned, tinted)])
    assert result.is_gray
    assert np.array_equal(result.pixels[:, :, 0], result.pixels[:, :, 1])
    assert np.array_equal(result.pixels[:, :, 1], result.pixels[:, :, 2])
    assert not np.array_equal(result.pixels, gray)  # the face did change


@pytest.mark.parametrize("upscale", [1, 2])
def test_alpha_is_kept(upscale):
    placed = place_face(scale=0.45)
    alpha = np.zeros(placed.pixels.shape[:2], np.uint8)
    alpha[:, 100:] = 255
    alpha[50:80] = 128
    result = paste_faces(placed.pixels, [RestoredFace.from_aligned(_aligned(placed))], upscale=upscale, alpha=alpha)
    expected = alpha if upscale == 1 else cv2.resize(alpha, None, fx=2, fy=2, interpolation=cv2.INTER_LANCZOS4)
    assert np.array_equal(result.alpha, expected)


# ---- upscale ------------------------------------------------------------------------------------


def test_upscale_matrix_maps_photo_points_to_resized_pixel_centres():
    placed = place_face(scale=0.45, degrees=30.0)
    matrix = _aligned(placed).matrix
    photo_points = placed.points
    crop_points = photo_points @ matrix[:, :2].T + matrix[:, 2]
    to_output = crop_to_output_matrix(matrix, 2)
    output_points = crop_points @ to_output[:, :2].T + to_output[:, 2]
    # cv2.resize by 2 puts photo pixel centre x at 2x + 0.5.
    np.testing.assert_allclose(output_points, 2 * photo_points + 0.5, atol=1e-6)


def test_upscale_2_round_trip():
    placed = place_face(scale=0.8, degrees=10.0)
    result = paste_faces(placed.pixels, [RestoredFace.from_aligned(_aligned(placed))], upscale=2)
    background = upscale_image(placed.pixels, 2)
    assert result.pixels.shape == (600, 800, 3) and result.mask.shape == (600, 800)
    outside = result.mask == 0
    assert np.array_equal(result.pixels[outside], background[outside])
    assert psnr(result.pixels, background, 255) >= 35.0


# ---- bad input ----------------------------------------------------------------------------------


def test_bad_arguments_are_named():
    placed = place_face()
    face = RestoredFace.from_aligned(_aligned(placed))
    with pytest.raises(ValueError, match="upscale"):
        paste_faces(placed.pixels, [face], upscale=3)
    with pytest.raises(ValueError, match="pixels"):
        paste_faces(placed.pixels[:, :, 0], [face])
    with pytest.raises(ValueError, match="alpha"):
        paste_faces(placed.pixels, [face], alpha=np.zeros((3, 3), np.uint8))
    with pytest.raises(ValueError, match="crop"):
        RestoredFace(crop=np.zeros((512, 500, 3), np.uint8), matrix=face.matrix)
    with pytest.raises(ValueError, match="matrix"):
        RestoredFace(crop=face.crop, matrix=np.zeros((2, 3)))
