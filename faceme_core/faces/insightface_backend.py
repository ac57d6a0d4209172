"""Face backend on insightface's antelopev2 pack: SCRFD-10G detector (5 points) and glintr100 ArcFace.

Both ONNX models load through insightface's ``model_zoo`` (so its own decoding and alignment run, as
in the FaceMe reference code) on ONNX Runtime, CUDA first when the runtime has it, else the CPU.
insightface works on BGR images; this module takes RGB and converts at its edge.

The embedding is the engine's identity input: glintr100 on the standard 112x112 insightface-aligned
crop (``face_align.norm_crop``), L2-normalised.
"""

from __future__ import annotations

import threading
import warnings
from pathlib import Path

import numpy as np

from faceme_core.errors import ModelFormatError, ModelMissingError
from faceme_core.faces.analyzer import check_rgb8
from faceme_core.faces.types import Detection, Embedding

MODEL_ID = "insightface/antelopev2/glintr100"
DETECTOR_FILE = "scrfd_10g_bnkps.onnx"
RECOGNIZER_FILE = "glintr100.onnx"
REQUIRED_FILES = (DETECTOR_FILE, RECOGNIZER_FILE)
# insightface's standard detector input (letterboxed); the FaceMe reference uses the same.
DETECTOR_SIZE = (640, 640)
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
                    f"insightface model file missing: {self.pack_dir / name} "
                    "(install the pack with `faceme models download antelopev2`)"
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
        detector, _ = self._load()
        boxes, points = detector.detect(_bgr(rgb), input_size=DETECTOR_SIZE)
        return [
            Detection(
                box=tuple(float(v) for v in boxes[i, :4]),
                points=np.asarray(points[i], dtype=np.float32).reshape(5, 2),
                score=float(boxes[i, 4]),
            )
            for i in range(len(boxes))
        ]

    def embed(self, rgb: np.ndarray, detection: Detection) -> Embedding:
        from insightface.utils.face_align import norm_crop

        check_rgb8(rgb)
        _, recognizer = self._load()
        with warnings.catch_warnings():
            # insightface calls a scikit-image API deprecated in 0.26; the result is unchanged.
            warnings.filterwarnings("ignore", message=".*estimate.*deprecated", category=FutureWarning)
            crop = norm_crop(rgb, landmark=np.asarray(detection.points, dtype=np.float32), image_size=ARCFACE_SIZE)
        # Warp first, then go BGR: the same pixels, without copying the whole photo per face.
        vector = np.asarray(recognizer.get_feat(_bgr(crop)), dtype=np.float32).reshape(-1)
        norm = float(np.linalg.norm(vector))
        if not np.isfinite(norm) or norm <= 0.0:
            raise ModelFormatError(f"{self.pack_dir / RECOGNIZER_FILE} returned an all-zero or invalid embedding")
        return Embedding(model_id=MODEL_ID, vector=vector / norm)


def _session_options(threads: int):
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = threads
    return options


def _bgr(rgb: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(rgb[..., ::-1])

