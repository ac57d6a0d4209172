"""The insightface backend on the tiny antelopev2 pack: SCRFD decoding and the ArcFace embedding."""

from __future__ import annotations

import shutil

import numpy as np
import onnxruntime
import pytest
from insightface.utils.face_align import norm_crop

from faceme_core.cli.error_text import describe
from faceme_core.errors import ModelFormatError, ModelMissingError
from faceme_core.faces.insightface_backend import MODEL_ID, InsightFaceBackend, pack_is_installed
from faceme_core.faces.types import Detection
from tests.faces.conftest import load_rgb
from tests.support.tiny_insightface import (
    DETECTOR_FILE,
    FACE_SCORE,
    RECOGNIZER_FILE,
    build_tiny_antelopev2,
    detector_scale,
    expected_detection,
)

FACE_BOX = (203.0, 97.0, 331.0, 262.0)  # detector input coordinates; centre off the anchor grid
FACE_POINTS = np.array([[240.5, 160.0], [295.0, 158.5], [268.0, 195.0], [247.0, 228.0], [290.0, 226.5]])


@pytest.fixture(scope="module")
def pack(tmp_path_factory):
    return build_tiny_antelopev2(tmp_path_factory.mktemp("models") / "antelopev2", face_box=FACE_BOX, face_points=FACE_POINTS)


@pytest.fixture(scope="module")
def backend(pack):
    return InsightFaceBackend(pack, providers=["CPUExecutionProvider"])


@pytest.mark.parametrize("size_wh", [(1000, 600), (300, 500), (640, 640), (248, 189)])
def test_detection_decodes_the_encoded_face_at_photo_scale(backend, size_wh):
    width, height = size_wh
    rgb = np.random.default_rng(1).integers(0, 256, (height, width, 3), dtype=np.uint8)
    (detection,) = backend.detect(rgb)
    box, points = expected_detection(size_wh, FACE_BOX, FACE_POINTS)
    np.testing.assert_allclose(detection.box, box, atol=1e-3)
    np.testing.assert_allclose(detection.points, points, atol=1e-3)
    assert detection.score == pytest.approx(FACE_SCORE)
    assert detection.points.shape == (5, 2) and detection.points.dtype == np.float32


def test_letterbox_scale_follows_the_longer_side():
    assert detector_scale((1000, 600)) == pytest.approx(0.64, abs=2e-3)
    assert detector_scale((300, 500)) == pytest.approx(640 / 500)


@pytest.mark.filterwarnings("ignore:.*estimate.*deprecated:FutureWarning")  # inside insightface's norm_crop
def test_embedding_is_glintr100_on_the_standard_aligned_crop(backend, pack, faces_dir):
    rgb = load_rgb(faces_dir / "Hepburn01.png")
    (detection,) = backend.detect(rgb)
    embedding = backend.embed(rgb, detection)

    # Independently: insightface's 112 crop of the BGR image, (x - 127.5) / 127.5, the raw ONNX net.
    crop = norm_crop(np.ascontiguousarray(rgb[..., ::-1]), landmark=detection.points, image_size=112)
    blob = ((crop[..., ::-1].astype(np.float32) - 127.5) / 127.5).transpose(2, 0, 1)[None]
    session = onnxruntime.InferenceSession(str(pack / RECOGNIZER_FILE), providers=["CPUExecutionProvider"])
    raw = session.run(None, {"input.1": blob})[0][0]
    np.testing.assert_allclose(embedding.vector, raw / np.linalg.norm(raw), atol=1e-5)
    assert embedding.model_id == MODEL_ID
    assert embedding.vector.shape == (512,) and embedding.vector.dtype == np.float32
    assert np.linalg.norm(embedding.vector) == pytest.approx(1.0, abs=1e-5)


def test_embedding_is_deterministic_and_differs_between_faces(backend, faces_dir):
    hepburn, einstein = load_rgb(faces_dir / "Hepburn01.png"), load_rgb(faces_dir / "Einstein01.png")
    (detection,) = backend.detect(hepburn)  # same size, so the same box in both
    first, again = backend.embed(hepburn, detection), backend.embed(hepburn.copy(), detection)
    other = backend.embed(einstein, detection)
    np.testing.assert_array_equal(first.vector, again.vector)
    assert first.similarity(other) < 0.9


def test_missing_pack_files_name_the_file_and_the_fix(tmp_path):
    with pytest.raises(ModelMissingError, match="scrfd_10g_bnkps.onnx") as caught:
        InsightFaceBackend(tmp_path).detect(np.zeros((32, 32, 3), np.uint8))
    assert "faceme models download antelopev2" in describe(caught.value)
    assert not pack_is_installed(tmp_path)


def test_a_recognizer_in_place_of_the_detector_is_a_format_error(pack, tmp_path):
    shutil.copy(pack / RECOGNIZER_FILE, tmp_path / RECOGNIZER_FILE)
    shutil.copy(pack / RECOGNIZER_FILE, tmp_path / DETECTOR_FILE)
    with pytest.raises(ModelFormatError, match="scrfd_10g_bnkps.onnx is not a SCRFD model"):
        InsightFaceBackend(tmp_path, providers=["CPUExecutionProvider"]).detect(np.zeros((32, 32, 3), np.uint8))


def test_a_corrupt_model_file_is_a_format_error(pack, tmp_path):
    shutil.copy(pack / RECOGNIZER_FILE, tmp_path / RECOGNIZER_FILE)
    (tmp_path / DETECTOR_FILE).write_bytes(b"not an onnx model")
    with pytest.raises(ModelFormatError, match="cannot load"):
        InsightFaceBackend(tmp_path, providers=["CPUExecutionProvider"]).detect(np.zeros((32, 32, 3), np.uint8))


def test_embed_accepts_detections_from_elsewhere(backend):
    rgb = np.full((200, 200, 3), 128, np.uint8)
    detection = Detection(box=(50, 50, 150, 150), points=FACE_POINTS.astype(np.float32) / 2, score=0.9)
    assert np.linalg.norm(backend.embed(rgb, detection).vector) == pytest.approx(1.0, abs=1e-5)
