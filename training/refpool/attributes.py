"""Pose and expression of a face, the two things the reference pool is clustered on.

The paper used EMOCA (a 3D face reconstruction network, not a pip package). We use insightface's 3D
landmark model from the antelopev2 pack (``1k3d68.onnx``: 68 3D points, and from them pitch/yaw/roll)
and describe the expression by the landmarks with the head pose taken out: the points are mapped
back into the mean shape's frame (the inverse of the fitted similarity) and their offsets from the
mean shape, on the expressive parts (brows, eyes, mouth), are the descriptor. It captures mouth
opening, smiles and brow raises, not EMOCA's full FLAME expression space. Any other extractor can be
passed to the builder: it only has to return a ``FaceAttributes``.
"""

from __future__ import annotations

import threading
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from faceme_core.errors import ModelFormatError, ModelMissingError
from faceme_core.faces.base import check_rgb8
from faceme_core.faces.types import Detection

LANDMARK_FILE = "1k3d68.onnx"
LANDMARK_COUNT = 68
# iBUG 68 indices of the parts that move with expression (the jaw line 0-16 and nose 27-35 mostly do not).
EXPRESSIVE_POINTS = tuple(range(17, 27)) + tuple(range(36, 48)) + tuple(range(48, 68))


@dataclass(frozen=True)
class FaceAttributes:
    pose: np.ndarray  # (3,) float64: pitch, yaw, roll in degrees
    expression: np.ndarray  # (D,) float64, pose-free: comparable across faces of any head pose

    def to_json(self) -> dict:
        return {"pose": [float(v) for v in self.pose], "expression": [float(v) for v in self.expression]}

    @classmethod
    def from_json(cls, data: dict) -> "FaceAttributes":
        return cls(pose=np.asarray(data["pose"], dtype=np.float64),
                   expression=np.asarray(data["expression"], dtype=np.float64))


class AttributeExtractor(Protocol):
    """Pose and expression of the face found at ``detection`` in a uint8 RGB image."""

    name: str

    def __call__(self, rgb: np.ndarray, detection: Detection) -> FaceAttributes: ...


def pose_from_landmarks(points: np.ndarray, mean_shape: np.ndarray) -> tuple[np.ndarray, float, np.ndarray, np.ndarray]:
    """(pitch, yaw, roll) in degrees, scale, rotation and translation of ``points`` (68, 3) relative to
    ``mean_shape`` (68, 3): insightface's own fit (an affine 3D->3D least squares, then its rotation)."""
    from insightface.utils import transform

    affine = transform.estimate_affine_matrix_3d23d(mean_shape, points)
    scale, rotation, translation = transform.P2sRt(affine)
    pitch, yaw, roll = transform.matrix2angle(rotation)
    return np.array([pitch, yaw, roll], dtype=np.float64), float(scale), rotation, translation


def expression_descriptor(points: np.ndarray, mean_shape: np.ndarray) -> np.ndarray:
    """Offsets of the expressive landmarks from the mean shape after the best similarity transform
    (scale, rotation, shift; Umeyama's least squares) maps the points onto it: (len(EXPRESSIVE_POINTS) * 3,),
    in units of the mean shape's size, so head pose and face size do not count."""
    points = np.asarray(points, np.float64)
    mean_shape = np.asarray(mean_shape, np.float64)
    source, target = points - points.mean(axis=0), mean_shape - mean_shape.mean(axis=0)
    variance = float((source**2).sum())
    if variance <= 1e-12:
        raise ValueError("landmarks: all points coincide")
    u, singular, vt = np.linalg.svd(target.T @ source)
    signs = np.ones(3)
    if np.linalg.det(u) * np.linalg.det(vt) < 0:
        signs[-1] = -1.0  # a rotation, never a mirror image
    rotation = u @ np.diag(signs) @ vt
    scale = float((singular * signs).sum()) / variance
    aligned = scale * source @ rotation.T
    spread = float(np.sqrt((target**2).sum(axis=1).mean()))
    return ((aligned - target)[list(EXPRESSIVE_POINTS)] / spread).reshape(-1)


class Landmark3DExtractor:
    """Pose and expression from antelopev2's ``1k3d68.onnx``, through insightface's own ``Landmark``
    class (its crop around the detected box, its decoding, its pose fit), so it runs as insightface runs it.
    Like the rest of insightface, it takes BGR: we convert at this edge."""

    name = "insightface-1k3d68"

    def __init__(self, pack_dir: Path, providers: list[str] | None = None) -> None:
        self.pack_dir = Path(pack_dir)
        self._providers = providers
        self._lock = threading.Lock()
        self._model = None

    def _load(self):
        with self._lock:
            if self._model is None:
                self._model = self._load_model()
            return self._model

    def _load_model(self):
        from insightface.model_zoo import get_model
        from insightface.model_zoo.landmark import Landmark

        from faceme_core.faces.insightface_backend import default_providers

        path = self.pack_dir / LANDMARK_FILE
        if not path.is_file():
            raise ModelMissingError(f"insightface model file missing: {path} (part of the antelopev2 pack)")
        try:
            model = get_model(str(path), providers=self._providers or default_providers())
        except Exception as error:  # onnxruntime raises its own types for corrupt files
            raise ModelFormatError(f"cannot load {path}: {error}") from error
        if not isinstance(model, Landmark) or not model.require_pose:
            raise ModelFormatError(f"{path} is not a 68-point 3D landmark model (insightface saw "
                                   f"{type(model).__name__})")
        model.prepare(0)
        return model

    def landmarks(self, rgb: np.ndarray, detection: Detection) -> np.ndarray:
        """(68, 3) points in image pixels (x, y) and a depth in the same units."""
        check_rgb8(rgb)
        model = self._load()
        face = _InsightFace(bbox=np.asarray(detection.box, dtype=np.float32))
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", category=FutureWarning)
            points = model.get(np.ascontiguousarray(rgb[..., ::-1]), face)
        return np.asarray(points, dtype=np.float64)

    def __call__(self, rgb: np.ndarray, detection: Detection) -> FaceAttributes:
        points = self.landmarks(rgb, detection)
        mean_shape = np.asarray(self._load().mean_lmk, dtype=np.float64)
        pose, _, _, _ = pose_from_landmarks(points, mean_shape)
        return FaceAttributes(pose=pose, expression=expression_descriptor(points, mean_shape))


class _InsightFace(dict):
    """The minimal stand-in for insightface's ``Face`` that ``Landmark.get`` reads and writes."""

    def __init__(self, bbox: np.ndarray) -> None:
        super().__init__(bbox=bbox)

    def __getattr__(self, name):
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None
