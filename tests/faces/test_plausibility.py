"""False faces: detections on text, brick and foliage are rejected; every real test face is kept."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from faceme_core.faces.align import FFHQ_TEMPLATE_512
from faceme_core.faces.analyzer import FaceAnalyzer
from faceme_core.faces.plausibility import implausibility
from faceme_core.faces.types import Detection, Embedding

DATA = Path(__file__).resolve().parents[1] / "data"


def _face(box=(100.0, 100.0, 228.0, 228.0), score=0.9, points=None) -> Detection:
    """A plausible detection: the FFHQ template's points scaled into ``box``."""
    x0, y0, x1, y1 = box
    if points is None:
        points = FFHQ_TEMPLATE_512 / 512 * [x1 - x0, y1 - y0] + [x0, y0]
    return Detection(box=box, points=np.asarray(points, np.float32), score=score)


def test_a_template_face_is_plausible():
    assert implausibility(_face()) is None


@pytest.mark.parametrize(
    "make, reason",
    [
        (lambda f: _face(points=f.points * [0.2, 1] + [f.box[0] * 0.8 + 50, 0]), "box widths apart"),
        (lambda f: _face(points=f.points + [0, 90]), "box height"),
        (lambda f: _face(points=(f.points - 164) @ np.array([[0, 1], [-1, 0]]) + 164), "tilted"),
        (lambda f: _face(points=f.points * [1, -1] + [0, 2 * 164]), "below the eyes"),
        (lambda f: _face(box=(0.0, 0.0, 30.0, 30.0), score=0.55), "low detector score"),
    ],
    ids=["eyes-too-close", "eyes-at-the-bottom", "rolled-90", "upside-down", "small-and-unsure"],
)
def test_implausible_detections_say_why(make, reason):
    assert reason in (implausibility(make(_face())) or "")


def test_small_faces_with_a_clear_score_are_kept():
    assert implausibility(_face(box=(0.0, 0.0, 30.0, 30.0), score=0.71)) is None


def test_every_real_face_of_the_test_photos_is_plausible(dlib_backend):
    photos = sorted((DATA / "album").iterdir()) + sorted((DATA / "faces").glob("*.png"))
    found = 0
    for path in photos:
        rgb = np.ascontiguousarray(np.asarray(Image.open(path).convert("RGB")))
        for detection in dlib_backend.detect(rgb):
            assert implausibility(detection) is None, path.name
            found += 1
    assert found >= 25


class _TextureDetector:
    """A backend standing in for a detector that fires on a backdrop's letters: one real-looking
    face and one hit on the lettering (small, unsure, eyes not where eyes go)."""

    name = "fake"
    embedding_model_id = "fake/v1"

    def detect(self, rgb):
        return [_face(), _face(box=(300.0, 20.0, 330.0, 50.0), score=0.52, points=np.tile([[305.0, 48.0]], (5, 1)))]

    def embed(self, rgb, detection):
        return Embedding(model_id="fake/v1", vector=np.ones(4, np.float32) / 2)


def test_the_analyzer_drops_implausible_detections():
    faces = FaceAnalyzer(_TextureDetector()).analyze_rgb(np.zeros((400, 400, 3), np.uint8))
    assert [face.box for face in faces.faces] == [(100.0, 100.0, 228.0, 228.0)]
    assert faces.skipped == []  # not a face: nothing to report as "too small to restore"


def _lettering(rng: np.random.Generator) -> np.ndarray:
    image = np.full((480, 720, 3), int(rng.integers(150, 256)), np.uint8)
    for _ in range(6):
        word = "".join(rng.choice(list("OQCGDUV08@BSAMHEX ovuc"), int(rng.integers(2, 6))))
        position = (int(rng.integers(0, 600)), int(rng.integers(60, 470)))
        colour = tuple(int(c) for c in rng.integers(0, 110, 3))
        cv2.putText(image, word, position, int(rng.integers(0, 8)), float(rng.uniform(1, 4)), colour,
                    int(rng.integers(2, 9)))
    return image


def _brick(rng: np.random.Generator) -> np.ndarray:
    image = np.full((480, 720, 3), 190, np.uint8)
    height, width = int(rng.integers(25, 70)), int(rng.integers(60, 160))
    for row, y in enumerate(range(0, 480, height)):
        for x in range(-(row % 2) * width // 2, 720, width):
            colour = tuple(int(v) for v in np.array([150, 60, 40]) + rng.integers(-30, 30, 3))
            cv2.rectangle(image, (x + 3, y + 3), (x + width - 3, y + height - 3), colour, -1)
    return np.clip(image + rng.normal(0, 8, image.shape), 0, 255).astype(np.uint8)


def _foliage(rng: np.random.Generator) -> np.ndarray:
    image = np.zeros((480, 720, 3), np.uint8)
    image[:] = (30, 70, 25)
    for _ in range(800):
        colour = (int(rng.integers(20, 120)), int(rng.integers(80, 200)), int(rng.integers(10, 80)))
        centre = (int(rng.integers(0, 720)), int(rng.integers(0, 480)))
        axes = (int(rng.integers(5, 40)), int(rng.integers(3, 15)))
        cv2.ellipse(image, centre, axes, float(rng.uniform(0, 180)), 0, 360, colour, -1)
    return image


@pytest.mark.parametrize("texture", [_lettering, _brick, _foliage])
def test_textures_have_no_faces(dlib_backend, texture):
    rng = np.random.default_rng(7)
    for _ in range(3):
        assert FaceAnalyzer(dlib_backend).analyze_rgb(texture(rng)).faces == []
