"""Small stand-ins for the reference-pool tests: a fast face backend, attribute extractor, synthesisers."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from faceme_core.faces.analyzer import FaceAnalyzer
from faceme_core.faces.types import Detection, Embedding
from faceme_core.tasks import CancelToken
from training.imagefiles import write_png
from training.refpool.attributes import FaceAttributes
from training.refpool.synthesis import RenderRequest

FAKE_MODEL_ID = "insightface/fake"


class PixelBackend:
    """One face filling the image; its 'ArcFace' is the normalised, centred 8x8 thumbnail: identical
    images give similarity 1, different random images much less."""

    name = "pixel-backend"
    embedding_model_id = FAKE_MODEL_ID

    def detect(self, rgb):
        h, w = rgb.shape[:2]
        points = np.array([[0.35, 0.45], [0.65, 0.45], [0.5, 0.6], [0.38, 0.78], [0.62, 0.78]]) * [w, h]
        return [Detection(box=(0.0, 0.0, float(w), float(h)), points=points.astype(np.float32), score=0.99)]

    def embed(self, rgb, detection):
        h, w = rgb.shape[:2]
        thumb = rgb[:: max(1, h // 8), :: max(1, w // 8)][:8, :8].astype(np.float64).reshape(-1)
        vector = np.zeros(512)
        vector[: thumb.size] = thumb - thumb.mean()
        vector[-1] = 1e-3  # a flat image still gets a valid (if meaningless) vector
        return Embedding(FAKE_MODEL_ID, (vector / np.linalg.norm(vector)).astype(np.float32))


class ColourAttributes:
    """Pose from the image's mean colour, expression from its top-left block: a controllable layout."""

    name = "colour-attributes"

    def __call__(self, rgb, detection):
        mean = rgb.reshape(-1, 3).mean(axis=0)
        return FaceAttributes(pose=mean.astype(np.float64), expression=rgb[:4, :4].reshape(-1).astype(np.float64))


def fake_analyzer() -> FaceAnalyzer:
    return FaceAnalyzer(PixelBackend())


def blocky_image(seed: int, size: int = 64) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (8, 8, 3), dtype=np.uint8).repeat(size // 8, 0).repeat(size // 8, 1)


def make_gt(root: Path, count: int, size: int = 64) -> list[str]:
    names = []
    for i in range(count):
        name = f"gt/{i:05d}.png"
        write_png(root / name, blocky_image(1000 + i, size))
        names.append(name)
    return names


class ScriptedSynthesiser:
    """Attempts before ``good_from`` render a stranger; from it on, the source itself (similarity 1).
    Counts calls; cancels ``cancel`` after ``cancel_after`` calls (to interrupt a build)."""

    name = "scripted"

    def __init__(self, good_from: int = 1, cancel: CancelToken | None = None, cancel_after: int | None = None):
        self.good_from, self.cancel, self.cancel_after = good_from, cancel, cancel_after
        self.calls: list[tuple[str, str, int, int]] = []

    def __call__(self, request: RenderRequest) -> np.ndarray:
        self.calls.append((request.identity, request.target.name, request.attempt, request.seed))
        if self.cancel is not None and self.cancel_after is not None and len(self.calls) >= self.cancel_after:
            self.cancel.cancel()
        if request.attempt >= self.good_from:
            return request.source.copy()
        return blocky_image(request.seed % 100000, request.source.shape[0])


def scripted_synthesiser_factory() -> ScriptedSynthesiser:
    """For the CLI's --synthesiser module:factory option."""
    return ScriptedSynthesiser(good_from=2)
