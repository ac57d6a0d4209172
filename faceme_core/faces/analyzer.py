"""Everything known about the faces of one photo: detect, then embed and score each face worth restoring.

``create_analyzer("auto")`` picks insightface when its antelopev2 pack is installed (the FaceMe
engine's own identity model), else dlib (always available, CPU only). Faces whose eyes are closer than
``MIN_EYE_DISTANCE_PX`` are reported as skipped, with the reason, never silently dropped.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from faceme_core.faces.analyzer_spec import AnalyzerSpec

from faceme_core.errors import ModelMissingError
from faceme_core.faces.base import FaceBackend, check_rgb8
from faceme_core.faces.plausibility import is_plausible_face
from faceme_core.faces.quality import MIN_EYE_DISTANCE_PX, face_quality
from faceme_core.faces.types import Face, PhotoFaces, SkippedFace
from faceme_core.image_types import Photo

BACKEND_CHOICES = ("auto", "insightface", "dlib")

__all__ = ["BACKEND_CHOICES", "MIN_EYE_DISTANCE_PX", "AnalyzerSpec", "FaceAnalyzer", "check_rgb8", "create_analyzer"]


class FaceAnalyzer:
    """A face backend plus the rules for which faces are worth restoring.

    ``spec``, when known (``create_analyzer`` sets it), rebuilds the same analyzer in another process:
    scans analyse photos in worker processes with it.
    """

    def __init__(self, backend: FaceBackend, spec: AnalyzerSpec | None = None) -> None:
        self.backend = backend
        self.spec = spec

    @property
    def name(self) -> str:
        return self.backend.name

    @property
    def embedding_model_id(self) -> str:
        return self.backend.embedding_model_id

    def analyze(self, photo: Photo) -> PhotoFaces:
        return self.analyze_rgb(photo.rgb8())

    def analyze_rgb(self, rgb: np.ndarray) -> PhotoFaces:
        """Faces left to right (then top to bottom), so "face 1" is the leftmost one."""
        check_rgb8(rgb)
        # Detector false positives (letters, brick, leaves) are not faces: dropped, not "skipped".
        detections = sorted(
            (d for d in self.backend.detect(rgb) if is_plausible_face(d)), key=lambda d: (d.box[0], d.box[1])
        )
        faces, skipped = [], []
        for detection in detections:
            reason = skip_reason(detection.eye_distance)
            if reason is not None:
                skipped.append(SkippedFace(detection=detection, reason=reason))
                continue
            faces.append(
                Face(
                    detection=detection,
                    embedding=self.backend.embed(rgb, detection),
                    quality=face_quality(rgb, detection).value,
                )
            )
        height, width = rgb.shape[:2]
        return PhotoFaces(size_wh=(width, height), faces=faces, skipped=skipped, backend=self.name)


def skip_reason(eye_distance: float) -> str | None:
    """Why a face this size cannot be restored, or None when it can."""
    if eye_distance < MIN_EYE_DISTANCE_PX:
        return f"too small to restore: eye distance {eye_distance:.1f} px < {MIN_EYE_DISTANCE_PX:g} px"
    return None


def create_analyzer(backend: str = "auto", models_dir: Path | None = None) -> FaceAnalyzer:
    """An analyzer on the requested backend; "auto" prefers insightface when its pack is installed."""
    from faceme_core.faces.dlib_backend import DlibBackend
    from faceme_core.faces.insightface_backend import InsightFaceBackend, pack_is_installed
    from faceme_core.models.layout import ANTELOPEV2_DIRNAME
    from faceme_core.paths import models_dir as default_models_dir

    if backend not in BACKEND_CHOICES:
        raise ValueError(f"backend={backend!r}: expected one of {', '.join(BACKEND_CHOICES)}")
    pack_dir = (models_dir if models_dir is not None else default_models_dir()) / ANTELOPEV2_DIRNAME
    if backend == "dlib" or (backend == "auto" and not pack_is_installed(pack_dir)):
        return FaceAnalyzer(DlibBackend(), spec=AnalyzerSpec("dlib"))
    if not pack_is_installed(pack_dir):
        raise ModelMissingError(
            f"the insightface antelopev2 pack is not installed in {pack_dir}", setting="backend",
            hint="download it, or use the dlib backend", action="download_antelopev2",
        )
    return FaceAnalyzer(InsightFaceBackend(pack_dir), spec=AnalyzerSpec("insightface", pack_dir))
