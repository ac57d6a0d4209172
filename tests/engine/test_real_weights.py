"""With the released weights installed: restore Hepburn02 using Hepburn01 as the reference.

Skipped when the weights are absent (always, in CI). Run with `python -m pytest -m real_weights`; the
weights are looked up where `faceme models status` finds them (FACEME_MODELS, the app's model folder,
the Hugging Face cache). On a CPU the reference sampler takes many minutes; set
FACEME_REAL_SAMPLER=dpmpp-25 for a quicker (non-reference) run.
"""

from __future__ import annotations

import os

import numpy as np
import pytest
from PIL import Image

from faceme_core.errors import FaceMeError


def _installed_paths():
    try:
        from faceme_core.models.store import resolve_model_paths

        from tests.conftest import USER_MODELS_DIR

        return resolve_model_paths(USER_MODELS_DIR, need_antelopev2=True)
    except (ImportError, FaceMeError):
        return None


@pytest.fixture(scope="module")
def real_paths():
    paths = _installed_paths()
    if paths is None:
        pytest.skip("the released FaceMe weights (and antelopev2) are not installed")
    return paths


def _degrade(face: np.ndarray) -> np.ndarray:
    small = Image.fromarray(face).resize((64, 64), Image.BILINEAR)
    return np.array(small.resize((512, 512), Image.BICUBIC))


@pytest.mark.real_weights
@pytest.mark.slow
class TestRealWeights:
    def test_reference_improves_or_keeps_identity(self, real_paths, faces_dir, tmp_path):
        from faceme_core.engine.identity import ReferenceFace
        from faceme_core.engine.options import RestoreOptions
        from faceme_core.engine.restorer import FaceRequest, Restorer
        from faceme_core.faces.insightface_backend import InsightFaceBackend

        backend = InsightFaceBackend(real_paths.antelopev2)

        def largest_face(rgb):
            detections = backend.detect(rgb)
            assert detections, "no face detected"
            return max(detections, key=lambda d: (d.box[2] - d.box[0]) * (d.box[3] - d.box[1]))

        def embedding(rgb):
            return backend.embed(rgb, largest_face(rgb))

        reference_rgb = np.array(Image.open(faces_dir / "Hepburn01.png").convert("RGB"))
        truth = np.array(Image.open(faces_dir / "Hepburn02.png").convert("RGB").resize((512, 512)))
        reference = ReferenceFace(reference_rgb, largest_face(reference_rgb).box, embedding(reference_rgb).vector,
                                  cache_key="test:Hepburn01")
        restorer = Restorer.load(real_paths, cache_dir=tmp_path)
        identity = restorer.encode_identity([reference])
        assert identity.tokens.shape == (1, 2048)
        lq = _degrade(truth)
        sampler = os.environ.get("FACEME_REAL_SAMPLER", "ddpm-50")
        restored = restorer([FaceRequest(lq, identity)], RestoreOptions(sampler=sampler, seed=0))[0]
        assert restored.image.shape == (512, 512, 3) and restored.image.dtype == np.uint8
        truth_embedding = embedding(truth)
        before = truth_embedding.similarity(embedding(lq))
        after = truth_embedding.similarity(embedding(restored.image))
        assert after >= before - 0.02, f"ArcFace similarity to the ground truth fell from {before:.3f} to {after:.3f}"
