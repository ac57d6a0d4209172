"""Face backend on dlib: HOG detector, 5-point shape model, 128-d ResNet embedding (all CPU).

The models come from the ``face-recognition-models`` package. We never import that package: its
``__init__`` needs ``pkg_resources``, which new setuptools no longer ships; we only locate its folder.
The 68-point model it also holds is not used (its training data is non-commercial).

Speed: HOG runs on a working copy of about two megapixels (downscaled large photos, upscaled small
ones, so that faces of tiny scans reach the ~80 px HOG window); boxes are mapped back and the shape
model and the embedder run on the full-resolution photo. About 0.13 s to detect in a 2 MP photo, plus
~0.06 s per face to embed, on one core. The price: HOG needs eyes ~24 px apart in the working copy,
i.e. ~24 / sqrt(2 MP / photo pixels) px in the photo (24 px up to 2 MP, 59 px at 12 MP). Two
megapixels rather than one: small faces are what users restore, and 1 MP missed eyes under 83 px
apart in 12 MP scans for a saving of 0.06 s per photo. Smaller faces in big photos need the
insightface backend, or a larger ``working_pixels`` (HOG time grows with it linearly).

Key points. dlib's 5-point model gives two corners per eye and the base of the nose (subnasale), not
insightface's five points (eye centres, nose tip, mouth corners). We take eye centres as corner
means, then fit a similarity from (left eye, right eye, nose base) to where those points lie in the
FFHQ 512 template, and map the template's nose tip and mouth corners back into the photo. The five
points are thus the template seen through the face's own similarity transform: ``align_face`` on them
reproduces exactly that transform, whose scale and rotation come from the eyes and the eye-to-nose
height (the latter keeps the scale right when the head is turned and the eyes look closer together).
What is lost: the estimated nose tip and mouth corners do not follow expressions or head turns, so
pose cues from them are weak (see ``faceme_core.faces.quality``).
"""

from __future__ import annotations

import importlib.util
import math
import threading
from pathlib import Path

import numpy as np

from faceme_core.errors import ModelMissingError
from faceme_core.faces.align import FFHQ_TEMPLATE_512, estimate_similarity
from faceme_core.faces.base import check_rgb8
from faceme_core.faces.embedding_models import DLIB_MODEL_ID
from faceme_core.faces.types import LEFT_EYE, LEFT_MOUTH, NOSE, RIGHT_EYE, RIGHT_MOUTH, Detection, Embedding

MODEL_ID = DLIB_MODEL_ID
SHAPE_MODEL_FILE = "shape_predictor_5_face_landmarks.dat"
EMBEDDING_MODEL_FILE = "dlib_face_recognition_resnet_model_v1.dat"

# HOG detection runs on a copy of about this many pixels (~0.13 s on one CPU core).
WORKING_PIXELS = 2_000_000
# Detections with an SVM margin below this are dropped (dlib's own default is 0).
HOG_THRESHOLD = 0.0

# Where dlib's nose base lands in the FFHQ 512 crop: measured with this shape model on the
# FFHQ-aligned faces in tests/data/faces (y 336..350, mean 344.5); x is the eyes' midline.
NOSE_BASE_FFHQ_512 = np.array([256.0, 344.0])

# dlib 5-point indices: 0, 1 = corners of the eye on the image's right; 2, 3 = the image's left eye;
# 4 = base of the nose.
_DLIB_RIGHT_EYE = (0, 1)
_DLIB_LEFT_EYE = (2, 3)
_DLIB_NOSE_BASE = 4


def models_folder() -> Path:
    """The ``models/`` folder of the face-recognition-models package, without importing it."""
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        raise ModelMissingError(
            "the dlib face models are not installed: pip install face-recognition-models"
        )
    return Path(list(spec.submodule_search_locations)[0]) / "models"


def margin_to_score(margin: float) -> float:
    """Map a HOG SVM margin (about -1..3) to a confidence in [0, 1]; margin 0 -> 0.5."""
    return 1.0 / (1.0 + math.exp(-2.0 * margin))


def working_scale(size_wh: tuple[int, int], working_pixels: int = WORKING_PIXELS) -> float:
    """Factor that brings an image of this size to about ``working_pixels`` pixels."""
    width, height = size_wh
    return math.sqrt(working_pixels / float(width * height))


def five_points_from_dlib(dlib_points: np.ndarray) -> np.ndarray:
    """insightface-order five points (see module docstring) from dlib's (5, 2) shape points."""
    left_eye = dlib_points[list(_DLIB_LEFT_EYE)].mean(axis=0)
    right_eye = dlib_points[list(_DLIB_RIGHT_EYE)].mean(axis=0)
    measured = np.stack([left_eye, right_eye, dlib_points[_DLIB_NOSE_BASE]])
    template = np.stack([FFHQ_TEMPLATE_512[LEFT_EYE], FFHQ_TEMPLATE_512[RIGHT_EYE], NOSE_BASE_FFHQ_512])
    photo_to_template = estimate_similarity(measured, template)
    template_to_photo = _invert_similarity(photo_to_template)
    estimated = FFHQ_TEMPLATE_512 @ template_to_photo[:, :2].T + template_to_photo[:, 2]
    points = np.empty((5, 2), dtype=np.float64)
    points[LEFT_EYE], points[RIGHT_EYE] = left_eye, right_eye  # measured: keep them exact
    points[NOSE], points[LEFT_MOUTH], points[RIGHT_MOUTH] = estimated[NOSE], estimated[LEFT_MOUTH], estimated[RIGHT_MOUTH]
    return points.astype(np.float32)


def _invert_similarity(matrix: np.ndarray) -> np.ndarray:
    linear_inv = np.linalg.inv(matrix[:, :2])
    return np.hstack([linear_inv, (-linear_inv @ matrix[:, 2])[:, None]])


class DlibBackend:
    """dlib detection (HOG) and 128-d identity embeddings; models load lazily on first use."""

    name = "dlib"
    embedding_model_id = MODEL_ID

    def __init__(self, model_folder: Path | None = None, working_pixels: int = WORKING_PIXELS) -> None:
        self._model_folder = model_folder  # default: face-recognition-models' folder
        self._working_pixels = working_pixels
        self._lock = threading.Lock()
        self._models: tuple | None = None  # (detector, shape predictor, embedder)

    def _load(self) -> tuple:
        with self._lock:
            if self._models is None:
                import dlib

                folder = self._model_folder or models_folder()
                for filename in (SHAPE_MODEL_FILE, EMBEDDING_MODEL_FILE):
                    if not (folder / filename).is_file():
                        raise ModelMissingError(f"dlib model file missing: {folder / filename}")
                self._models = (
                    dlib.get_frontal_face_detector(),
                    dlib.shape_predictor(str(folder / SHAPE_MODEL_FILE)),
                    dlib.face_recognition_model_v1(str(folder / EMBEDDING_MODEL_FILE)),
                )
            return self._models

    def detect(self, rgb: np.ndarray) -> list[Detection]:
        import cv2
        import dlib

        check_rgb8(rgb)
        rgb = np.ascontiguousarray(rgb)  # dlib reads the buffer directly
        detector, shape_predictor, _ = self._load()
        height, width = rgb.shape[:2]
        scale = working_scale((width, height), self._working_pixels)
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
        working = cv2.resize(rgb, size, interpolation=interpolation)
        scale_x, scale_y = width / size[0], height / size[1]  # exact per axis after rounding
        rects, margins, _ = detector.run(working, 0, HOG_THRESHOLD)
        detections = []
        for rect, margin in zip(rects, margins):
            box = (rect.left() * scale_x, rect.top() * scale_y, (rect.right() + 1) * scale_x, (rect.bottom() + 1) * scale_y)
            shape = shape_predictor(rgb, _to_dlib_rect(dlib, box))
            points = five_points_from_dlib(_shape_points(shape))
            detections.append(Detection(box=tuple(float(v) for v in box), points=points, score=margin_to_score(margin)))
        return detections

    def embed(self, rgb: np.ndarray, detection: Detection) -> Embedding:
        import dlib

        check_rgb8(rgb)
        rgb = np.ascontiguousarray(rgb)
        _, shape_predictor, embedder = self._load()
        # dlib's embedder aligns with its own shape points, so rerun the shape model on the box
        # (deterministic: the very points detect() saw).
        shape = shape_predictor(rgb, _to_dlib_rect(dlib, detection.box))
        vector = np.asarray(embedder.compute_face_descriptor(rgb, shape), dtype=np.float32)
        return Embedding(model_id=MODEL_ID, vector=vector / np.linalg.norm(vector))


def _to_dlib_rect(dlib, box: tuple[float, float, float, float]):
    x0, y0, x1, y1 = box
    return dlib.rectangle(round(x0), round(y0), round(x1) - 1, round(y1) - 1)


def _shape_points(shape) -> np.ndarray:
    return np.array([[shape.part(i).x, shape.part(i).y] for i in range(shape.num_parts)], dtype=np.float64)

