"""The quality score: worse copies of real faces score lower; each component behaves as documented."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from faceme_core.faces.align import FFHQ_TEMPLATE_512
from faceme_core.faces.quality import (
    FULL_EYE_DISTANCE_PX,
    MIN_EYE_DISTANCE_PX,
    QualityScore,
    face_quality,
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
