"""Restore every chosen face of one photo and paste the results back.

Pure with respect to files: it takes a loaded ``Photo`` and returns a new one; reading references,
detecting faces and writing outputs happen in the callers (CLI, album jobs, desktop app).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

from faceme_core.engine.options import RestoreOptions
from faceme_core.engine.restorer import FaceRequest, ProgressEvent, ReferenceFace, Restorer
from faceme_core.faces.align import ALIGNED_SIZE, align_face, template_for_size
from faceme_core.faces.paste import RestoredFace, paste_into_photo
from faceme_core.faces.types import Detection, Embedding
from faceme_core.image_types import Photo
from faceme_core.restore.memory import out_of_memory_as_error

# Maps an aligned square uint8 RGB face to its ArcFace embedding: the identity check of the result.
AlignedEmbedder = Callable[[np.ndarray], Embedding]


@dataclass(frozen=True)
class FaceTarget:
    """One face to restore, with the references of the person it shows (none: blind restoration)."""

    detection: Detection  # where the face is: its box and five points in the photo
    references: tuple[ReferenceFace, ...] = ()
    reference_embeddings: tuple[Embedding, ...] = ()  # ArcFace of each reference, for the identity check
    reference_names: tuple[str, ...] = ()  # what the report calls them (file names, face ids)
    person: str | None = None
    match_similarity: float | None = None


@dataclass(frozen=True)
class FaceReport:
    box: tuple[float, float, float, float]
    person: str | None
    match_similarity: float | None  # the face's ArcFace similarity to its person's references
    references: tuple[str, ...]
    blind: bool
    steps: int
    model_evaluations: int
    seconds: float
    seed: int  # pass it as --seed (with the same options) to get this result again
    identity_before: float | None  # ArcFace similarity of the degraded face to the references
    identity_after: float | None  # ... and of the restored face: the identity check users read


@dataclass(frozen=True)
class PhotoRestoreResult:
    photo: Photo
    faces: tuple[FaceReport, ...]


@dataclass(frozen=True)
class RestoredTarget:
    """One restored face before pasting: its crop and where it goes, and its report. Keeping these lets
    a caller paste again (re-run one face, leave another out) without sampling the others again."""

    face: RestoredFace
    report: FaceReport


def restore_photo(
    photo: Photo,
    targets: Sequence[FaceTarget],
    restorer: Restorer,
    options: RestoreOptions = RestoreOptions(),
    *,
    upscale: int = 1,
    embedder: AlignedEmbedder | None = None,
    progress: Callable[[ProgressEvent], None] | None = None,
    cancel: Callable[[], bool] | None = None,
) -> PhotoRestoreResult:
    """Restore ``targets`` (faces of ``photo``) in batches and paste them into a new photo."""
    restored = restore_faces(photo, targets, restorer, options, embedder=embedder, progress=progress, cancel=cancel)
    pasted = paste_into_photo(photo, [target.face for target in restored], upscale=upscale)
    return PhotoRestoreResult(photo=pasted, faces=tuple(target.report for target in restored))


def restore_faces(
    photo: Photo,
    targets: Sequence[FaceTarget],
    restorer: Restorer,
    options: RestoreOptions = RestoreOptions(),
    *,
    embedder: AlignedEmbedder | None = None,
    progress: Callable[[ProgressEvent], None] | None = None,
    cancel: Callable[[], bool] | None = None,
) -> tuple[RestoredTarget, ...]:
    """Restore ``targets`` (faces of ``photo``) in batches; nothing is pasted (see ``restore_photo``)."""
    if not targets:
        return ()
    # 1. align every face on the FFHQ template at the restorer's size, from the 8-bit view the networks take
    rgb = photo.rgb8()
    aligned = [align_face(rgb, target.detection.points, restorer.face_size) for target in targets]
    # 2. encode each distinct reference set once (the restorer caches per reference as well)
    with out_of_memory_as_error("encoding the references"):
        requests = [
            FaceRequest(lq=face.crop, identity=restorer.encode_identity(target.references) if target.references else None)
            for face, target in zip(aligned, targets)
        ]
    # 3. restore (the restorer batches faces and both guidance branches)
    with out_of_memory_as_error(f"restoring {len(requests)} face(s)"):
        results = restorer(requests, options, progress=progress, cancel=cancel)
    # 4. identity check: how close to the references the face was before and is after
    return tuple(
        RestoredTarget(
            face=RestoredFace(crop=result.image, matrix=face.matrix),
            report=FaceReport(
                box=tuple(float(v) for v in target.detection.box),
                person=target.person,
                match_similarity=target.match_similarity,
                references=target.reference_names,
                blind=result.blind,
                steps=result.steps,
                model_evaluations=result.model_evaluations,
                seconds=result.seconds,
                seed=result.seed,
                identity_before=_identity(embedder, face.crop, target.reference_embeddings),
                identity_after=_identity(embedder, result.image, target.reference_embeddings),
            ),
        )
        for target, face, result in zip(targets, aligned, results)
    )


def aligned_face_embedder(backend, size: int = ALIGNED_SIZE) -> AlignedEmbedder:
    """An embedder for aligned crops of ``size``: the face's five points are the template's, by construction."""
    detection = Detection(
        box=(0.0, 0.0, float(size), float(size)),
        points=template_for_size(size).astype(np.float32),
        score=1.0,
    )
    return lambda crop: backend.embed(crop, detection)


def _identity(embedder: AlignedEmbedder | None, crop: np.ndarray, references: Sequence[Embedding]) -> float | None:
    if embedder is None or not references:
        return None
    embedding = embedder(crop)
    return float(np.mean([embedding.similarity(reference) for reference in references]))
