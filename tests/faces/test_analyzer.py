"""The analyzer: backend choice, small faces skipped with a reason, faces embedded and scored."""

from __future__ import annotations

import numpy as np
import pytest

from faceme_core.errors import ModelMissingError
from faceme_core.faces.analyzer import MIN_EYE_DISTANCE_PX, FaceAnalyzer, create_analyzer
from faceme_core.faces.types import Detection, Embedding
from faceme_core.image_types import Photo
from faceme_core.models.layout import ANTELOPEV2_DIRNAME
from tests.faces.conftest import load_rgb
from tests.support.tiny_insightface import build_tiny_antelopev2, default_points


class ListBackend:
    """A backend that returns given detections and records which ones it was asked to embed."""

    name = "list"
    embedding_model_id = "test/list"

    def __init__(self, detections):
        self.detections = detections
        self.embedded = []

    def detect(self, rgb):
        return list(self.detections)

    def embed(self, rgb, detection):
        self.embedded.append(detection)
        return Embedding(model_id=self.embedding_model_id, vector=np.ones(4, np.float32) / 2)


def _detection(x: float, eye_distance: float) -> Detection:
    points = np.array([[x, 50], [x + eye_distance, 50], [x + eye_distance / 2, 60], [x, 70], [x + eye_distance, 70]],
                      dtype=np.float32)
    return Detection(box=(x - 5, 40, x + eye_distance + 5, 80), points=points, score=0.9)


def test_small_faces_are_skipped_with_the_reason_and_faces_come_left_to_right():
    tiny, right, left = _detection(150, 4.1), _detection(100, 30), _detection(10, 40)
    backend = ListBackend([tiny, right, left])
    result = FaceAnalyzer(backend).analyze_rgb(np.full((120, 220, 3), 90, np.uint8))

    assert [face.detection for face in result.faces] == [left, right]
    assert [s.detection for s in result.skipped] == [tiny]
    assert result.skipped[0].reason == "too small to restore: eye distance 4.1 px < 8 px"
    assert backend.embedded == [left, right]  # skipped faces cost no embedding
    assert all(0.0 <= face.quality <= 1.0 for face in result.faces)
    assert result.size_wh == (220, 120) and result.backend == "list"


def test_threshold_is_inclusive_of_the_minimum():
    at_minimum = _detection(10, MIN_EYE_DISTANCE_PX)
    result = FaceAnalyzer(ListBackend([at_minimum])).analyze_rgb(np.zeros((100, 100, 3), np.uint8))
    assert len(result.faces) == 1 and not result.skipped


def test_auto_is_dlib_without_the_insightface_pack(tmp_path):
    analyzer = create_analyzer("auto", models_dir=tmp_path)
    assert analyzer.name == "dlib" and analyzer.embedding_model_id == "dlib/resnet-v1"


def test_auto_is_insightface_when_the_pack_is_installed(tmp_path, monkeypatch):
    build_tiny_antelopev2(tmp_path / ANTELOPEV2_DIRNAME)
    assert create_analyzer("auto", models_dir=tmp_path).name == "insightface"
    monkeypatch.setenv("FACEME_MODELS", str(tmp_path))  # the app's model folder is the default
    analyzer = create_analyzer()
    assert analyzer.name == "insightface"
    assert analyzer.embedding_model_id == "insightface/antelopev2/glintr100"
    assert create_analyzer("dlib", models_dir=tmp_path).name == "dlib"


def test_insightface_without_the_pack_says_where_and_how_to_install(tmp_path):
    with pytest.raises(ModelMissingError) as error:
        create_analyzer("insightface", models_dir=tmp_path)
    assert str(tmp_path / ANTELOPEV2_DIRNAME) in str(error.value)
    assert "faceme models download antelopev2" in str(error.value)


def test_unknown_backend_is_rejected():
    with pytest.raises(ValueError, match="backend='mtcnn'"):
        create_analyzer("mtcnn")


def test_insightface_analyzer_skips_a_face_too_small(tmp_path):
    box = (300.0, 300.0, 320.0, 322.0)  # a 20 px face in a 640x640 photo: eye distance 6.3 px
    build_tiny_antelopev2(tmp_path / ANTELOPEV2_DIRNAME, face_box=box, face_points=default_points(box))
    result = create_analyzer("insightface", models_dir=tmp_path).analyze_rgb(np.zeros((640, 640, 3), np.uint8))
    assert result.faces == [] and len(result.skipped) == 1
    assert result.skipped[0].reason == "too small to restore: eye distance 6.3 px < 8 px"


def test_dlib_analyzer_on_a_real_photo(album_dir):
    rgb = load_rgb(album_dir / "two_boys.jpg")
    analyzer = create_analyzer("dlib")
    result = analyzer.analyze_rgb(rgb)
    assert len(result.faces) == 2 and not result.skipped
    left, right = result.faces
    assert left.box[0] < right.box[0]
    assert left.embedding.similarity(right.embedding) < 0.9  # two different boys
    assert all(0.3 < face.quality <= 1.0 for face in result.faces)

    # A 16-bit photo is analysed on its 8-bit version: same faces.
    from_photo = analyzer.analyze(Photo(pixels=rgb.astype(np.uint16) * 257))
    np.testing.assert_allclose([f.box for f in from_photo.faces], [f.box for f in result.faces])


@pytest.mark.parametrize("backend", ["dlib", "insightface"])
def test_an_analyzers_spec_rebuilds_one_with_the_same_results(tmp_path, backend):
    import pickle

    build_tiny_antelopev2(tmp_path / ANTELOPEV2_DIRNAME)
    original = create_analyzer(backend, models_dir=tmp_path)
    spec = pickle.loads(pickle.dumps(original.spec))  # what a worker process receives
    rebuilt = spec.build(threads=1)  # one ONNX Runtime thread, as in a scan's workers
    assert (rebuilt.name, rebuilt.embedding_model_id, rebuilt.spec) == (original.name, original.embedding_model_id, spec)
    rgb = np.random.default_rng(0).integers(0, 255, (480, 640, 3), dtype=np.uint8)
    first, second = original.analyze_rgb(rgb), rebuilt.analyze_rgb(rgb)
    assert len(first.faces) == len(second.faces)
    for a, b in zip(first.faces, second.faces):
        assert a.box == b.box and np.array_equal(a.embedding.vector, b.embedding.vector)
