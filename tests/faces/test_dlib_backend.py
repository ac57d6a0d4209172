"""The dlib backend on the real test photos: the faces SOURCES.md describes, no false positives."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from faceme_core.faces.align import FFHQ_TEMPLATE_512, align_face, estimate_similarity
from faceme_core.faces.dlib_backend import (
    MODEL_ID,
    NOSE_BASE_FFHQ_512,
    five_points_from_dlib,
    models_folder,
)
from faceme_core.faces.types import LEFT_EYE, RIGHT_EYE
from tests.faces.conftest import load_rgb

# Face centres (x, y) in each album photo, established by looking at the photos (boxes drawn on them).
FACE_CENTRES = {
    "band_four_b.jpg": [(223, 135), (486, 179), (691, 179), (924, 194)],
    "band_four_lowres_a.jpg": [(58, 79), (125, 47), (120, 144), (187, 99)],
    "boy_at_railing_lowres.jpg": [(98, 79)],
    "film_still_two.jpg": [(165, 102)],  # the second person is seen from behind
    "group_four_conference.jpg": [(82, 109), (194, 109), (300, 106), (410, 95)],
    "hepburn_portrait_lowres.jpg": [(111, 85)],
    "same_woman_child_and_adult.jpg": [(168, 217), (500, 218)],
    "two_boys.jpg": [(222, 330), (475, 252)],
    "two_sisters_print_scan.jpg": [(586, 876), (858, 494)],
}
# Faces HOG may miss: eye distances of 15-22 px in 250-490 px wide photos, near its detection limit.
# (This dlib build finds them all; one miss each is tolerated, not more.)
ALLOWED_MISSES = {"band_four_lowres_a.jpg": 1, "group_four_conference.jpg": 1}


def _contains(box, point) -> bool:
    x0, y0, x1, y1 = box
    return x0 <= point[0] <= x1 and y0 <= point[1] <= y1


@pytest.mark.parametrize("filename", sorted(FACE_CENTRES))
def test_finds_the_faces_and_nothing_else(dlib_backend, album_dir, filename):
    rgb = load_rgb(album_dir / filename)
    detections = dlib_backend.detect(rgb)
    centres = FACE_CENTRES[filename]

    for detection in detections:  # no false positive, no duplicate
        inside = [c for c in centres if _contains(detection.box, c)]
        assert len(inside) == 1, f"{filename}: box {detection.box} covers {len(inside)} known faces"
        assert all(_contains(detection.box, p) for p in detection.points[[LEFT_EYE, RIGHT_EYE]])
        assert 0.5 <= detection.score <= 1.0
    found = [c for c in centres if any(_contains(d.box, c) for d in detections)]
    assert len(found) == len(detections)
    assert len(centres) - len(found) <= ALLOWED_MISSES.get(filename, 0), f"{filename}: missed {set(centres) - set(found)}"


def test_embeddings_are_closer_for_the_same_person(dlib_backend, faces_dir):
    embeddings = {}
    for name in ("Hepburn01", "Hepburn02", "Einstein01", "Einstein02"):
        rgb = load_rgb(faces_dir / f"{name}.png")
        (detection,) = dlib_backend.detect(rgb)
        embeddings[name] = dlib_backend.embed(rgb, detection)

    for embedding in embeddings.values():
        assert embedding.model_id == MODEL_ID
        assert embedding.vector.shape == (128,) and embedding.vector.dtype == np.float32
        assert np.linalg.norm(embedding.vector) == pytest.approx(1.0, abs=1e-5)
    same = [embeddings["Hepburn01"].similarity(embeddings["Hepburn02"]),
            embeddings["Einstein01"].similarity(embeddings["Einstein02"])]
    across = [embeddings[a].similarity(embeddings[b])
              for a in ("Hepburn01", "Hepburn02") for b in ("Einstein01", "Einstein02")]
    assert min(same) > max(across)


def test_embedding_is_deterministic(dlib_backend, faces_dir):
    rgb = load_rgb(faces_dir / "Hepburn01.png")
    (detection,) = dlib_backend.detect(rgb)
    first, second = dlib_backend.embed(rgb, detection), dlib_backend.embed(rgb.copy(), detection)
    np.testing.assert_array_equal(first.vector, second.vector)


def test_aligned_crop_of_an_ffhq_face_matches_the_template(dlib_backend, faces_dir):
    # tests/data/faces hold FFHQ-aligned 512 crops: re-aligning them must be close to the identity.
    for name in ("Hepburn01", "Einstein02"):
        rgb = load_rgb(faces_dir / f"{name}.png")
        (detection,) = dlib_backend.detect(rgb)
        aligned = align_face(rgb, detection.points)
        assert aligned.scale == pytest.approx(1.0, abs=0.08)
        eyes_in_crop = detection.points[[LEFT_EYE, RIGHT_EYE]] @ aligned.matrix[:, :2].T + aligned.matrix[:, 2]
        np.testing.assert_allclose(eyes_in_crop, FFHQ_TEMPLATE_512[[LEFT_EYE, RIGHT_EYE]], atol=12)


def test_five_points_follow_the_face_similarity():
    # A face whose dlib points are the template's own points seen through a known similarity:
    # the estimated five points must be the whole template through that same similarity.
    angle, scale, shift = np.deg2rad(20), 0.3, np.array([400.0, 150.0])
    rotation = scale * np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    to_photo = lambda p: np.asarray(p) @ rotation.T + shift  # noqa: E731
    eye_half_width = np.array([20.0, 0.0])
    dlib_points = np.array([
        to_photo(FFHQ_TEMPLATE_512[RIGHT_EYE] + eye_half_width), to_photo(FFHQ_TEMPLATE_512[RIGHT_EYE] - eye_half_width),
        to_photo(FFHQ_TEMPLATE_512[LEFT_EYE] - eye_half_width), to_photo(FFHQ_TEMPLATE_512[LEFT_EYE] + eye_half_width),
        to_photo(NOSE_BASE_FFHQ_512),
    ])
    points = five_points_from_dlib(dlib_points)
    np.testing.assert_allclose(points, to_photo(FFHQ_TEMPLATE_512), atol=1e-3)
    matrix = estimate_similarity(points, FFHQ_TEMPLATE_512)
    np.testing.assert_allclose(abs(np.linalg.det(matrix[:, :2])) ** 0.5, 1 / scale, rtol=1e-5)


def test_models_are_found_without_importing_face_recognition_models():
    folder = models_folder()
    assert (folder / "shape_predictor_5_face_landmarks.dat").is_file()
    assert "face_recognition_models" not in sys.modules


def test_rejects_non_rgb_arrays(dlib_backend):
    with pytest.raises(ValueError, match="rgb: expected a uint8"):
        dlib_backend.detect(np.zeros((10, 10), np.uint8))
    with pytest.raises(ValueError, match="rgb: expected a uint8"):
        dlib_backend.detect(np.zeros((10, 10, 3), np.float32))
