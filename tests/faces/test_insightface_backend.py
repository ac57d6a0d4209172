"""The insightface backend on the tiny antelopev2 pack: SCRFD decoding and the ArcFace embedding."""

from __future__ import annotations

import shutil

import numpy as np
import onnxruntime
import pytest
from insightface.utils.face_align import norm_crop

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
    with pytest.raises(ModelMissingError, match="scrfd_10g_bnkps.onnx.*faceme models download antelopev2"):
        InsightFaceBackend(tmp_path).detect(np.zeros((32, 32, 3), np.uint8))
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


# --- FaceMe's identity input: the reference code's colour order and detector size -----------------------

def raw_glintr100(pack, crop_as_passed: np.ndarray) -> np.ndarray:
    """The ONNX net on what insightface makes of a crop: channels swapped (swapRB), (x - 127.5) / 127.5."""
    blob = ((crop_as_passed[..., ::-1].astype(np.float32) - 127.5) / 127.5).transpose(2, 0, 1)[None]
    session = onnxruntime.InferenceSession(str(pack / RECOGNIZER_FILE), providers=["CPUExecutionProvider"])
    raw = session.run(None, {"input.1": blob})[0][0]
    return raw / np.linalg.norm(raw)


@pytest.mark.filterwarnings("ignore:.*estimate.*deprecated:FutureWarning")  # inside insightface's norm_crop
def test_faceme_identity_hands_insightface_the_rgb_array_as_the_reference_did(backend, pack, faces_dir):
    # Tinted: the test portrait is black and white, and a grey face looks the same in any channel order.
    rgb = (load_rgb(faces_dir / "Hepburn01.png") * np.array([1.0, 0.7, 0.35])).astype(np.uint8)
    (documented,) = backend.detect(rgb)
    identity = backend.faceme_identity(rgb, documented)
    # The net sees the crop with its channels swapped, i.e. BGR: what Mix was trained on.
    crop = norm_crop(rgb, landmark=identity.points, image_size=112)
    np.testing.assert_allclose(identity.arcface, raw_glintr100(pack, crop), atol=1e-5)
    # ... which is not the documented embedding: the tiny net depends on the order, so a flip fails above.
    matching = backend.embed(rgb, Detection(identity.box, identity.points, 1.0)).vector
    assert float(identity.arcface @ matching) < 0.99
    np.testing.assert_allclose(matching, raw_glintr100(pack, crop[..., ::-1]), atol=1e-5)


@pytest.mark.parametrize("size_wh", [(1000, 600), (300, 500)])
def test_faceme_identity_detects_at_512_as_the_reference(backend, size_wh):
    width, height = size_wh
    rgb = np.random.default_rng(2).integers(0, 256, (height, width, 3), dtype=np.uint8)
    identity = backend.faceme_identity(rgb)
    scale = detector_scale(size_wh, det_size=512)  # the tiny detector's face is fixed in input pixels
    np.testing.assert_allclose(identity.box, np.array(FACE_BOX) / scale, atol=1e-3)
    np.testing.assert_allclose(identity.points, FACE_POINTS / scale, atol=1e-3)
    (documented,) = backend.detect(rgb)  # 640: another box in photo pixels
    assert not np.allclose(documented.box, identity.box, atol=1.0)


def test_faceme_identity_falls_back_to_other_detector_sizes(tmp_path):
    # A face whose centre lies beyond 512 detector pixels: not found at 512, found at 640, the first fallback.
    box = (500.0, 200.0, 620.0, 330.0)
    pack = build_tiny_antelopev2(tmp_path / "antelopev2", face_box=box)
    backend = InsightFaceBackend(pack, providers=["CPUExecutionProvider"])
    rgb = np.random.default_rng(3).integers(0, 256, (640, 640, 3), dtype=np.uint8)
    assert backend._detect(rgb, (512, 512)) == []
    identity = backend.faceme_identity(rgb)
    np.testing.assert_allclose(identity.box, box, atol=1e-3)  # 640 x 640 photo: detector pixels = photo pixels


def test_faceme_identity_keeps_the_chosen_face_when_it_finds_no_other(backend):
    rgb = np.random.default_rng(4).integers(0, 256, (400, 400, 3), dtype=np.uint8)
    elsewhere = Detection(box=(0.0, 0.0, 40.0, 40.0), points=FACE_POINTS.astype(np.float32) / 10, score=0.9)
    identity = backend.faceme_identity(rgb, elsewhere)  # the detector's face does not overlap this one
    assert identity.box == elsewhere.box and np.array_equal(identity.points, elsewhere.points)
    assert np.linalg.norm(identity.arcface) == pytest.approx(1.0, abs=1e-5)


def test_faceme_identity_picks_the_best_scoring_or_the_largest_face(backend, monkeypatch):
    small_sure = Detection(box=(10.0, 10.0, 60.0, 70.0), points=FACE_POINTS.astype(np.float32) / 8, score=0.99)
    large_unsure = Detection(box=(100.0, 80.0, 300.0, 330.0), points=FACE_POINTS.astype(np.float32), score=0.6)
    monkeypatch.setattr(backend, "_detect", lambda image, size: [large_unsure, small_sure])
    rgb = np.zeros((400, 400, 3), np.uint8)
    assert backend.faceme_identity(rgb).box == small_sure.box  # inference: the highest score
    assert backend.faceme_identity(rgb, largest=True).box == large_unsure.box  # data preparation: the largest
    monkeypatch.setattr(backend, "_detect", lambda image, size: [])
    assert backend.faceme_identity(rgb) is None
