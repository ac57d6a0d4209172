"""A picklable recipe for a face analyzer, so worker processes can build the same one.

Kept free of heavy imports (no numpy, dlib or onnxruntime at import time): a worker process unpickles
it before it has limited its threads (see ``faceme_core.tasks.processes``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from faceme_core.faces.analyzer import FaceAnalyzer


@dataclass(frozen=True)
class AnalyzerSpec:
    """Which backend, on which model files. ``build()`` gives an analyzer whose results equal those of
    the analyzer this spec came from (same backend class, same files)."""

    backend: Literal["dlib", "insightface"]
    model_folder: Path | None = None  # dlib: None = face-recognition-models' folder; insightface: the pack

    def build(self, *, threads: int | None = None) -> "FaceAnalyzer":
        """The analyzer; ``threads`` caps ONNX Runtime's threads (one per worker process, so N workers
        do not each start one thread per core)."""
        from faceme_core.faces.analyzer import FaceAnalyzer

        if self.backend == "dlib":
            from faceme_core.faces.dlib_backend import DlibBackend

            return FaceAnalyzer(DlibBackend(self.model_folder), spec=self)
        if self.backend == "insightface":
            from faceme_core.faces.insightface_backend import InsightFaceBackend

            if self.model_folder is None:
                raise ValueError("AnalyzerSpec(backend='insightface') needs the pack folder as model_folder")
            return FaceAnalyzer(InsightFaceBackend(self.model_folder, threads=threads), spec=self)
        raise ValueError(f"AnalyzerSpec.backend={self.backend!r}: expected 'dlib' or 'insightface'")
