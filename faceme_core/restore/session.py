"""A restoration session: models loaded once, then photos restored file by file.

Shared by ``faceme restore``, album jobs and (later) the desktop app. Resolving and loading models
raises ``ModelMissingError`` naming what is missing, before any photo is touched.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

from faceme_core.engine.options import RestoreOptions
from faceme_core.engine.prompt import FACE_SIZE
from faceme_core.engine.restorer import ProgressEvent, Restorer
from faceme_core.faces.analyzer import FaceAnalyzer
from faceme_core.faces.insightface_backend import InsightFaceBackend
from faceme_core.faces.types import PhotoFaces
from faceme_core.image_types import Photo
from faceme_core.imageio import load_photo, save_photo
from faceme_core.restore.photo import AlignedEmbedder, FaceReport, FaceTarget, aligned_face_embedder, restore_photo
from faceme_core.restore.plan import LeftFace
from faceme_core.tasks import Cancelled


@dataclass(frozen=True)
class PhotoOutcome:
    input: Path
    output: Path
    faces: tuple[FaceReport, ...]
    left: tuple[LeftFace, ...]
    seconds: float


class RestoreSession:
    def __init__(self, analyzer: FaceAnalyzer, restorer: Restorer, embedder: AlignedEmbedder | None = None):
        self.analyzer = analyzer
        self.restorer = restorer
        self.embedder = embedder or aligned_face_embedder(analyzer.backend, restorer.face_size)

    @classmethod
    def open(cls, models_dir: Path | None = None, device: str | None = "auto", offload: str | bool = "none",
             face_size: int = FACE_SIZE) -> "RestoreSession":
        """``offload``: an ``engine.offload.OFFLOAD_MODES`` name (True, the old flag, means "model");
        ``face_size``: 512 for the released weights (tests of tiny models use less)."""
        from faceme_core.models.store import resolve_model_paths

        paths = resolve_model_paths(models_dir)  # ModelMissingError names every missing component
        analyzer = FaceAnalyzer(InsightFaceBackend(paths.antelopev2))
        return cls(analyzer, Restorer.load(paths, device=device, offload=offload, face_size=face_size))

    def analyze(self, path: Path) -> tuple[Photo, PhotoFaces]:
        photo = load_photo(path)
        return photo, self.analyzer.analyze(photo)

    def restore_to_file(
        self,
        photo: Photo,
        targets: Sequence[FaceTarget],
        output: Path,
        options: RestoreOptions,
        *,
        left: Sequence[LeftFace] = (),
        upscale: int = 1,
        overwrite: bool = False,
        progress: Callable[[ProgressEvent], None] | None = None,
        cancel: Callable[[], bool] | None = None,
    ) -> PhotoOutcome:
        started = time.perf_counter()
        result = restore_photo(
            photo, targets, self.restorer, options,
            upscale=upscale, embedder=self.embedder, progress=progress, cancel=cancel,
        )
        if cancel is not None and cancel():  # cancelled after the last step: still write nothing
            raise Cancelled("restoration cancelled")
        written = save_photo(result.photo, output, overwrite=overwrite)
        return PhotoOutcome(
            input=photo.path or Path(), output=written, faces=result.faces, left=tuple(left),
            seconds=time.perf_counter() - started,
        )


def output_path_for(photo: Path, *, output: Path | None, out_dir: Path | None) -> Path:
    """``-o OUT`` for one photo, else the photo's own name inside ``--out-dir``."""
    if output is not None:
        return output
    if out_dir is None:
        raise ValueError("either output or out_dir is needed")
    return out_dir / photo.name
