"""Decode one photo, find and embed its faces, cache their thumbnails: the part of a scan that costs
(about 0.5 s a photo with dlib) and runs in worker processes. No database here: results go back to the
process that owns the library, which writes them (``photo_writes``)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from faceme_core.errors import FaceMeError
from faceme_core.faces.types import Detection, Embedding, Face, PhotoFaces
from faceme_core.image_types import Photo
from faceme_core.library import thumbnails
from faceme_core.tasks import Cancelled

log = logging.getLogger(__name__)


class EmbeddingBackend(Protocol):
    def embed(self, rgb, detection: Detection) -> Embedding: ...


class Analyzer(Protocol):
    """What scanning needs from ``faceme_core.faces.analyzer.FaceAnalyzer``. One with a ``spec``
    attribute (an ``AnalyzerSpec``) can be rebuilt in worker processes; any other runs in-process."""

    name: str
    embedding_model_id: str
    backend: EmbeddingBackend

    def analyze(self, photo: Photo) -> PhotoFaces: ...


@dataclass(frozen=True)
class AnalysisJob:
    """One photo to analyse (picklable: it crosses to a worker process)."""

    path: str
    digest: str  # the content hash, which names the face thumbnails
    thumbnails_dir: Path


@dataclass(frozen=True)
class AnalysedPhoto:
    width: int
    height: int
    format: str | None
    date_taken: str | None
    faces: tuple[tuple[Face, str], ...]  # (face, thumbnail name), left to right
    skipped: int  # faces too small to restore


@dataclass(frozen=True)
class AnalysisResult:
    photo: AnalysedPhoto | None  # None: the photo could not be analysed, see error
    error: str = ""


def analyse_photo(job: AnalysisJob, analyzer: Analyzer) -> AnalysisResult:
    """Never raises for a bad photo (the scan records why and goes on)."""
    from faceme_core import imageio

    try:
        info = imageio.probe_photo(job.path)
        photo = imageio.load_photo(job.path)
        found = analyzer.analyze(photo)
        rgb = photo.rgb8()
        faces = []
        for index, face in enumerate(found.faces):
            name = thumbnails.thumbnail_name(job.digest, index)
            thumbnails.write_thumbnail(job.thumbnails_dir, name, thumbnails.face_thumbnail(rgb, face.box))
            faces.append((face, name))
    except Cancelled:
        raise
    except FaceMeError as error:
        return AnalysisResult(None, str(error))
    except Exception as error:  # a bad file must not stop the scan; keep the detail for the user
        log.warning("scan: %s failed", job.path, exc_info=True)
        return AnalysisResult(None, f"{type(error).__name__}: {error}")
    date_taken = info.date_taken.isoformat() if hasattr(info.date_taken, "isoformat") else info.date_taken
    width, height = photo.size_wh
    return AnalysisResult(AnalysedPhoto(width, height, info.format, date_taken, tuple(faces), len(found.skipped)))


# --- in a worker process ---------------------------------------------------------------------------

_worker_analyzer: Analyzer | None = None


def start_worker(spec) -> None:
    """Worker setup (see ``faceme_core.tasks.processes``): build this process's analyzer once."""
    global _worker_analyzer
    _worker_analyzer = spec.build(threads=1)


def analyse_in_worker(job: AnalysisJob) -> AnalysisResult:
    if _worker_analyzer is None:
        raise RuntimeError("analyse_in_worker runs in a pool started with start_worker")
    return analyse_photo(job, _worker_analyzer)
