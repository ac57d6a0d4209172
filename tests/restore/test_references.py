"""A reference photo gives Mix FaceMe's own inputs and the matcher the documented embedding."""

from __future__ import annotations

import numpy as np
from PIL import Image

from faceme_core.faces.analyzer import FaceAnalyzer
from faceme_core.faces.insightface_backend import InsightFaceBackend
from faceme_core.restore.references import load_reference
from tests.support.tiny_insightface import build_tiny_antelopev2


def test_a_reference_carries_both_embeddings(faces_dir, tmp_path):
    # The tiny detector's face is fixed in detector pixels, so its photo box scales with the detector
    # size about the top-left corner: near that corner the 512 and 640 boxes still overlap well.
    pack = build_tiny_antelopev2(tmp_path / "antelopev2", face_box=(20.0, 20.0, 300.0, 330.0))
    backend = InsightFaceBackend(pack, providers=["CPUExecutionProvider"])
    path = tmp_path / "tinted.png"
    grey = np.asarray(Image.open(faces_dir / "Hepburn01.png").convert("RGB"))
    Image.fromarray((grey * np.array([1.0, 0.7, 0.35])).astype(np.uint8)).save(path)
    rgb = np.asarray(Image.open(path))

    reference, embedding = load_reference(path, FaceAnalyzer(backend))
    (documented,) = backend.detect(rgb)
    np.testing.assert_allclose(embedding.vector, backend.embed(rgb, documented).vector)  # for matching
    identity = backend.faceme_identity(rgb, documented)
    np.testing.assert_allclose(reference.arcface, identity.arcface)  # for Mix: the reference's order
    assert reference.box == identity.box and reference.box != documented.box  # the 512 detector's box
    assert float(reference.arcface @ embedding.vector) < 0.99
