"""Face backend on insightface's antelopev2 pack: SCRFD-10G detector (5 points) and glintr100 ArcFace.

Both ONNX models load through insightface's ``model_zoo`` (so its own decoding and alignment run, as
in the FaceMe reference code) on ONNX Runtime, CUDA first when the runtime has it, else the CPU.

Two colour orders, on purpose:

- ``detect`` and ``embed`` follow insightface's documented convention: this module takes RGB and
  hands insightface BGR. Matching and grouping faces (scan, clustering, restore matching, the
  identity check of results) compare these embeddings with each other, so they only need one
  consistent, correct order.
- ``faceme_identity`` reproduces what FaceMe's Mix was trained on. The reference code (its training
  data preparation and its inference alike) loads images as RGB and hands them to insightface as
  they are; insightface's models swap channels themselves (``swapRB``), so its detector and ArcFace
  saw channel-swapped pixels, and Mix learnt from those ArcFace embeddings. Feeding Mix correctly
  ordered embeddings would give it inputs it never saw. One order cannot serve both: the swapped
  embeddings are worse for telling people apart, the documented ones are not what Mix expects. The
  reference also prepares the detector at 512x512, retrying at other sizes when no face is found.
"""

from __future__ import annotations

import threading
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from faceme_core.errors import ModelFormatError, ModelMissingError
from faceme_core.faces.base import check_rgb8
from faceme_core.faces.boxes import box_area, box_iou
from faceme_core.faces.embedding_models import ARCFACE_MODEL_ID
from faceme_core.faces.types import Detection, Embedding

MODEL_ID = ARCFACE_MODEL_ID
DETECTOR_FILE = "scrfd_10g_bnkps.onnx"
RECOGNIZER_FILE = "glintr100.onnx"
REQUIRED_FILES = (DETECTOR_FILE, RECOGNIZER_FILE)
# insightface's standard detector input (letterboxed), for finding and matching faces.
DETECTOR_SIZE = (640, 640)
# FaceMe's reference: det_size 512, then (only when nothing is found) 640 down to 256 in steps of 64.
REFERENCE_DETECTOR_SIZES = (512, 640, 576, 448, 384, 320, 256)
# A FaceMe-order detection belongs to the chosen face when their boxes overlap at least this much.
SAME_FACE_IOU = 0.3
DETECTION_THRESHOLD = 0.5
ARCFACE_SIZE = 112


def pack_is_installed(pack_dir: Path) -> bool:
    """True when the files this backend needs are in the pack folder."""
    return all((Path(pack_dir) / name).is_file() for name in REQUIRED_FILES)


def default_providers() -> list[str]:
    import onnxruntime

    available = onnxruntime.get_available_providers()
    if "CUDAExecutionProvider" in available:
        return ["CUDAExecutionProvider", "CPUExecutionProvider"]
    return ["CPUExecutionProvider"]


class InsightFaceBackend:
    """Detection and ArcFace embeddings from an antelopev2 pack folder; models load on first use."""

    name = "insightface"
    embedding_model_id = MODEL_ID

    def __init__(self, pack_dir: Path, providers: list[str] | None = None, threads: int | None = None) -> None:
        self.pack_dir = Path(pack_dir)
        self._providers = providers
        self._threads = threads  # ONNX Runtime threads per session (None: its default, one per core)
        self._lock = threading.Lock()
        self._models: tuple | None = None  # (SCRFD detector, ArcFaceONNX recognizer)

    def _load(self) -> tuple:
        with self._lock:
            if self._models is None:
                self._models = self._load_models()
            return self._models

    def _load_models(self) -> tuple:
        from insightface.model_zoo import get_model
        from insightface.model_zoo.arcface_onnx import ArcFaceONNX
        from insightface.model_zoo.scrfd import SCRFD

        for name in REQUIRED_FILES:
            if not (self.pack_dir / name).is_file():
                raise ModelMissingError(
                    "insightface model file missing", subject=self.pack_dir / name,
                    hint="install the antelopev2 pack", action="download_antelopev2",
                )
        providers = self._providers or default_providers()
        options = {} if self._threads is None else {"sess_options": _session_options(self._threads)}
        loaded = []
        for name, expected in ((DETECTOR_FILE, SCRFD), (RECOGNIZER_FILE, ArcFaceONNX)):
            try:
                model = get_model(str(self.pack_dir / name), providers=providers, **options)
            except Exception as error:  # onnxruntime raises its own types for corrupt files
                raise ModelFormatError(f"cannot load {self.pack_dir / name}: {error}") from error
            if not isinstance(model, expected):
                raise ModelFormatError(
                    f"{self.pack_dir / name} is not a {expected.__name__} model "
                    f"(insightface recognised it as {type(model).__name__})"
                )
            loaded.append(model)
        detector, recognizer = loaded
        detector.prepare(0, input_size=DETECTOR_SIZE, det_thresh=DETECTION_THRESHOLD)
        recognizer.prepare(0)
        return detector, recognizer

    def detect(self, rgb: np.ndarray) -> list[Detection]:
        check_rgb8(rgb)
        return self._detect(_bgr(rgb), DETECTOR_SIZE)

    def embed(self, rgb: np.ndarray, detection: Detection) -> Embedding:
        check_rgb8(rgb)
        # Warp first, then go BGR: the same pixels, without copying the whole photo per face.
        return Embedding(model_id=MODEL_ID, vector=self._arcface(_bgr(self._aligned(rgb, detection))))

    def faceme_identity(self, rgb: np.ndarray, chosen: Detection | None = None,
                        largest: bool = False) -> FaceMeIdentity | None:
        """The face's box and ArcFace embedding exactly as FaceMe's reference computed them (see the
        module docstring): the RGB array where insightface expects BGR, the detector at 512 first.

        With ``chosen`` (a face picked from ``detect``) the detection overlapping it best, or, when this
        detector finds it at no size, ``chosen``'s own box and points (the embedding still in FaceMe's
        order). Without, the highest-scoring face, as the reference's inference picks, or with
        ``largest`` the largest, as its training data preparation picks; None when there is no face.
        """
        check_rgb8(rgb)
        for size in REFERENCE_DETECTOR_SIZES:
            detections = self._detect(rgb, (size, size))  # sic: RGB as is, as the reference passes it
            if chosen is not None:
                detections = [d for d in detections if box_iou(d.box, chosen.box) >= SAME_FACE_IOU]
            if detections:
                if chosen is not None:
                    best = max(detections, key=lambda d: box_iou(d.box, chosen.box))
                elif largest:
                    best = max(detections, key=lambda d: box_area(d.box))
                else:
                    best = max(detections, key=lambda d: d.score)
                return self._faceme_identity(rgb, best)
        return None if chosen is None else self._faceme_identity(rgb, chosen)

    def _faceme_identity(self, rgb: np.ndarray, detection: Detection) -> FaceMeIdentity:
        vector = self._arcface(self._aligned(rgb, detection))  # sic: RGB as is
        return FaceMeIdentity(box=detection.box, points=detection.points, arcface=vector)

    def _detect(self, image: np.ndarray, size: tuple[int, int]) -> list[Detection]:
        detector, _ = self._load()
        boxes, points = detector.detect(image, input_size=size)
        return [
            Detection(
                box=tuple(float(v) for v in boxes[i, :4]),
                points=np.asarray(points[i], dtype=np.float32).reshape(5, 2),
                score=float(boxes[i, 4]),
            )
            for i in range(len(boxes))
        ]

    @staticmethod
    def _aligned(image: np.ndarray, detection: Detection) -> np.ndarray:
        from insightface.utils.face_align import norm_crop

        with warnings.catch_warnings():
            # insightface calls a scikit-image API deprecated in 0.26; the result is unchanged.
            warnings.filterwarnings("ignore", message=".*estimate.*deprecated", category=FutureWarning)
            return norm_crop(image, landmark=np.asarray(detection.points, dtype=np.float32), image_size=ARCFACE_SIZE)

    def _arcface(self, crop: np.ndarray) -> np.ndarray:
        """glintr100 of an aligned 112 crop (insightface swaps its channels), L2-normalised."""
        _, recognizer = self._load()
        vector = np.asarray(recognizer.get_feat(crop), dtype=np.float32).reshape(-1)
        norm = float(np.linalg.norm(vector))
        if not np.isfinite(norm) or norm <= 0.0:
            raise ModelFormatError(f"{self.pack_dir / RECOGNIZER_FILE} returned an all-zero or invalid embedding")
        return vector / norm


@dataclass(frozen=True)
class FaceMeIdentity:
    """A reference face as FaceMe's Mix expects it: the box for the CLIP crop, the ArcFace input."""

    box: tuple[float, float, float, float]  # in the photo
    points: np.ndarray  # (5, 2) key points in the photo
    arcface: np.ndarray  # (512,) L2-normalised, from channel-swapped pixels (see the module docstring)


def _session_options(threads: int):
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = threads
    return options


def _bgr(rgb: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(rgb[..., ::-1])

