"""The quality score: worse copies of real faces score lower; each component behaves as documented."""

from __future__ import annotations

import io
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from faceme_core.faces.align import FFHQ_TEMPLATE_512
from faceme_core.faces.quality import (
    FULL_EYE_DISTANCE_PX,
    MIN_EYE_DISTANCE_PX,
    QualityScore,
    blockiness,
    face_quality,
    noise_sigma,
    pose_score,
    size_score,
)
from tests.faces.conftest import load_rgb


def _quality(backend, rgb):
    (detection,) = backend.detect(rgb)
    return face_quality(rgb, detection)


@pytest.mark.parametrize("name", ["Hepburn01", "Einstein02"])
def test_blurred_and_downscaled_copies_score_lower(dlib_backend, faces_dir, name):
    rgb = load_rgb(faces_dir / f"{name}.png")
    original = _quality(dlib_backend, rgb)
    blurred = _quality(dlib_backend, cv2.GaussianBlur(rgb, (0, 0), 3))
    small = _quality(dlib_backend, cv2.resize(rgb, (160, 160), interpolation=cv2.INTER_AREA))

    assert blurred.sharpness < original.sharpness
    assert blurred.value < original.value
    assert small.size < original.size
    assert small.value < original.value
    for score in (original, blurred, small):
        assert 0.0 <= score.value <= 1.0


def _jpeg(rgb: np.ndarray, quality: int) -> np.ndarray:
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, "JPEG", quality=quality)
    with Image.open(buffer) as image:
        return np.asarray(image.convert("RGB"))


def _pixelated(rgb: np.ndarray, factor: int) -> np.ndarray:
    height, width = rgb.shape[:2]
    small = cv2.resize(rgb, (width // factor, height // factor), interpolation=cv2.INTER_AREA)
    return cv2.resize(small, (width, height), interpolation=cv2.INTER_NEAREST)


ARTEFACTS = {
    "noise sigma 12": lambda rgb: np.clip(
        rgb + np.random.default_rng(0).normal(0, 12, rgb.shape), 0, 255
    ).astype(np.uint8),
    "JPEG quality 10": lambda rgb: _jpeg(rgb, 10),
    "JPEG quality 5": lambda rgb: _jpeg(rgb, 5),
    "pixelated 4x": lambda rgb: _pixelated(rgb, 4),
    "pixelated 2x": lambda rgb: _pixelated(rgb, 2),
}


@pytest.fixture(scope="module")
def album_faces(dlib_backend):
    """(name, rgb, detections) of album photos whose faces are sharp enough to lose detail."""
    album = Path(__file__).parents[1] / "data" / "album"
    photos = []
    for name in ("two_boys", "two_sisters_print_scan"):
        rgb = load_rgb(album / f"{name}.jpg")
        photos.append((name, rgb, dlib_backend.detect(rgb)))
    return photos


@pytest.mark.parametrize("artefact", sorted(ARTEFACTS))
def test_noise_and_compression_artefacts_do_not_count_as_detail(album_faces, artefact):
    # Scored at the original's detections, so only the pixels differ. These copies used to score
    # higher than their originals (noise and block edges look like fine detail to a Laplacian).
    for name, rgb, detections in album_faces:
        degraded = ARTEFACTS[artefact](rgb)
        assert len(detections) == 2
        for detection in detections:
            original, copy = face_quality(rgb, detection), face_quality(degraded, detection)
            assert copy.sharpness < 0.8 * original.sharpness, (name, artefact)
            assert copy.value < original.value, (name, artefact)


def test_noise_sigma_estimates_added_noise_and_ignores_smooth_shading():
    ys, xs = np.mgrid[0:200, 0:200]
    shading = (60 + 0.5 * xs + 30 * np.sin(ys / 25.0)).astype(np.float32)
    noise = np.random.default_rng(1).normal(0, 8, shading.shape).astype(np.float32)
    assert noise_sigma(shading) < 0.5
    assert noise_sigma(shading + noise) == pytest.approx(8.0, rel=0.1)


def test_blockiness_finds_grid_aligned_steps_at_any_offset(faces_dir):
    gray = load_rgb(faces_dir / "Einstein01.png").astype(np.float32).mean(axis=2)[100:400, 100:400]
    assert blockiness(gray) < 1.25  # a real face: no grid
    for factor, offset in ((3, 0), (5, 2)):
        blocks = np.repeat(np.repeat(gray[::factor, ::factor], factor, axis=0), factor, axis=1)
        # The grid follows the photo: the window starts ``offset`` pixels into a block.
        window = blocks[offset:offset + 250, offset:offset + 250]
        assert blockiness(window, left=offset, top=offset) > 5.0
        shifted_by_blocks = blockiness(window, left=offset + factor * 7, top=offset)
        assert blockiness(window, left=offset, top=offset) == shifted_by_blocks


def test_a_sharp_portrait_outscores_a_soft_low_resolution_one(dlib_backend, faces_dir, album_dir):
    hepburn_hq = _quality(dlib_backend, load_rgb(faces_dir / "Hepburn01.png"))
    hepburn_lowres = _quality(dlib_backend, load_rgb(album_dir / "hepburn_portrait_lowres.jpg"))
    assert hepburn_lowres.value < hepburn_hq.value


def test_uint16_pixels_score_like_their_uint8_version(dlib_backend, faces_dir):
    rgb = load_rgb(faces_dir / "Hepburn02.png")
    (detection,) = dlib_backend.detect(rgb)
    as_16bit = rgb.astype(np.uint16) * 257
    assert face_quality(as_16bit, detection).sharpness == pytest.approx(face_quality(rgb, detection).sharpness, rel=1e-3)


def test_size_score_is_zero_at_the_minimum_and_one_at_the_template_size():
    assert size_score(MIN_EYE_DISTANCE_PX) == 0.0
    assert size_score(FULL_EYE_DISTANCE_PX) == pytest.approx(1.0)
    assert size_score(400.0) == 1.0
    assert 0.0 < size_score(20.0) < size_score(40.0) < 1.0


def test_pose_score_drops_as_the_nose_moves_towards_one_eye():
    frontal = FFHQ_TEMPLATE_512.copy()
    frontal[1, 1] = frontal[0, 1]  # level eyes
    frontal[2, 0] = (frontal[0, 0] + frontal[1, 0]) / 2  # nose exactly between them
    turned = frontal.copy()
    turned[2, 0] += 30.0
    profile = frontal.copy()
    profile[2, 0] = frontal[1, 0]  # nose under an eye
    assert pose_score(frontal) == pytest.approx(1.0)
    assert 0.0 < pose_score(turned) < 1.0
    assert pose_score(profile) == pytest.approx(0.0)
    # Rotation in the image plane is not a pose problem.
    angle = np.deg2rad(35)
    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    assert pose_score(turned @ rotation.T) == pytest.approx(pose_score(turned))


def test_value_is_a_weighted_geometric_mean():
    perfect = QualityScore(sharpness=1.0, size=1.0, pose=1.0, detection=1.0)
    assert perfect.value == pytest.approx(1.0)
    assert QualityScore(sharpness=0.0, size=1.0, pose=1.0, detection=1.0).value == 0.0
    half_sharp = QualityScore(sharpness=0.5, size=1.0, pose=1.0, detection=1.0).value
    half_pose = QualityScore(sharpness=1.0, size=1.0, pose=0.5, detection=1.0).value
    assert half_sharp < half_pose < 1.0  # sharpness weighs more than pose
