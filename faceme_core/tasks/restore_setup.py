"""Restore one photo as the user set it up (``photo_setup``): the task behind the app's Restore view.

``restore_setup`` samples every face not left untouched and keeps each restored crop, so the result
can be pasted again: ``rerun_face`` restores one face with other references, strength or seed and
pastes it over the current result without sampling the others. Nothing is written until
``save_result`` (never over the original; EXIF and ICC kept by ``save_photo``; a JSON sidecar says
how the output was made). A cancel stops between denoising steps with ``Cancelled``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Sequence

from faceme_core.engine.options import RestoreOptions
from faceme_core.errors import ImageSaveError
from faceme_core.faces.paste import paste_into_photo
from faceme_core.image_types import Photo
from faceme_core.imageio import load_photo, save_photo
from faceme_core.restore.photo_restore import FaceTarget, RestoredTarget, restore_faces
from faceme_core.restore.photo_setup import FaceChoice, PhotoSetup, targets_of
from faceme_core.restore.provenance import FaceRecord, RestoreRecord, reference_label, write_sidecar
from faceme_core.restore.reference_set import ReferenceLoader
from faceme_core.restore.sampling_progress import sampling_reporter
from faceme_core.restore.session import RestoreSession
from faceme_core.tasks.progress import CancelToken, ProgressCallback, TaskProgress, ignore_progress

LOADING_STAGE = "references"


@dataclass(frozen=True)
class FaceResult:
    choice: FaceChoice  # the face as it was set up for the run that restored it
    restored: RestoredTarget
    options: RestoreOptions  # with the seed actually used


@dataclass(frozen=True)
class SetupResult:
    setup: PhotoSetup
    original: Photo
    photo: Photo  # the original with every restored face pasted in (upscaled when asked)
    faces: tuple[FaceResult, ...]  # by face index
    upscale: int

    def face(self, index: int) -> FaceResult | None:
        return next((face for face in self.faces if face.choice.index == index), None)


def reference_loader(session: RestoreSession) -> ReferenceLoader:
    """One per restore view: references read once, kept for re-runs; reports name them in full."""
    return ReferenceLoader(session.analyzer, name=reference_label)


def restore_setup(
    setup: PhotoSetup,
    session: RestoreSession,
    options: RestoreOptions = RestoreOptions(),
    *,
    upscale: int = 1,
    loader: ReferenceLoader | None = None,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> SetupResult:
    """Restore every face of ``setup`` not left untouched; faces left untouched keep their pixels."""
    original = load_photo(setup.path)
    faces = _restore(setup, targets_of(setup), original, session, options, loader, progress, cancel)
    return _compose(setup, original, faces, upscale)


def rerun_face(
    result: SetupResult,
    face: FaceChoice,
    session: RestoreSession,
    options: RestoreOptions,
    *,
    loader: ReferenceLoader | None = None,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> SetupResult:
    """Restore only ``face`` (its new references or mode) with ``options`` and paste it into the
    current result; the other faces keep their restored pixels. Mode "untouched" takes it out."""
    setup = result.setup.with_face(face)
    others = tuple(f for f in result.faces if f.choice.index != face.index)
    if face.mode == "untouched" or face.too_small:
        return _compose(setup, result.original, others, result.upscale)
    redone = _restore(setup, (face,), result.original, session, options, loader, progress, cancel)
    return _compose(setup, result.original, others + redone, result.upscale)


def _restore(setup, faces, original, session, options, loader, progress, cancel) -> tuple[FaceResult, ...]:
    progress = progress or ignore_progress
    cancel = cancel or CancelToken.never()
    loader = loader or reference_loader(session)
    targets = []
    for number, face in enumerate(faces, start=1):
        cancel.raise_if_cancelled()
        progress(TaskProgress(LOADING_STAGE, number - 1, len(faces), item=face.who,
                              message=f"Reading the references of face {face.index + 1}"))
        references = loader.load([r.reference for r in face.references]) if face.mode == "references" else None
        targets.append(FaceTarget(
            detection=face.detection(),
            references=references.faces if references else (),
            reference_embeddings=references.embeddings if references else (),
            reference_names=references.names if references else (),
            person=face.who, match_similarity=face.match_similarity,
        ))
    restored = restore_faces(
        original, targets, session.restorer, options, embedder=session.embedder,
        progress=sampling_reporter(progress, setup.path.name), cancel=lambda: cancel.cancelled,
    )
    cancel.raise_if_cancelled()  # cancelled after the last step: still nothing to show or write
    return tuple(FaceResult(face, target, replace(options, seed=target.report.seed))
                 for face, target in zip(faces, restored))


def _compose(setup: PhotoSetup, original: Photo, faces: Sequence[FaceResult], upscale: int) -> SetupResult:
    faces = tuple(sorted(faces, key=lambda f: f.choice.index))
    photo = paste_into_photo(original, [f.restored.face for f in faces], upscale=upscale)
    return SetupResult(setup=setup, original=original, photo=photo, faces=faces, upscale=upscale)


def save_result(result: SetupResult, output: Path, *, overwrite: bool = False) -> Path:
    """Write the restored photo to ``output`` (format from its suffix, EXIF and ICC kept) and its
    sidecar. Refuses the original's own path, whatever ``overwrite`` says."""
    output = Path(output)
    if os.path.realpath(output) == os.path.realpath(result.setup.path):
        raise ImageSaveError(f"{output}: this is the original photo; FaceMe never writes over originals. "
                             "Choose another name.")
    written = save_photo(result.photo, output, overwrite=overwrite)
    write_sidecar(restore_record(result, written))
    return written


def restore_record(result: SetupResult, output: Path) -> RestoreRecord:
    restored = {f.choice.index: f for f in result.faces}
    rows = []
    options = None
    for face in result.setup.faces:
        done = restored.get(face.index)
        if done is None:
            rows.append(FaceRecord(face.index, face.box, "untouched", face.person_name, (), None, None, None, None,
                                   note=face.too_small or "left untouched by the user"))
            continue
        report = done.restored.report
        options = options or done.options
        rows.append(FaceRecord(
            face.index, face.box, "blind" if report.blind else "references", done.choice.person_name,
            tuple(reference_label(r.reference) for r in done.choice.references) if not report.blind else (),
            report.seed, report.steps, report.identity_before, report.identity_after,
            note=_options_note(done.options, options),
        ))
    return RestoreRecord(input=result.setup.path, output=Path(output), options=options or RestoreOptions(),
                         upscale=result.upscale, faces=tuple(rows))


def _options_note(face_options: RestoreOptions, run_options: RestoreOptions) -> str:
    """A face re-run with other settings says which (the record's settings are the first run's)."""
    if replace(face_options, seed=run_options.seed) == run_options:
        return ""
    return (f"re-run with sampler {face_options.sampler}, steps {face_options.steps}, "
            f"identity strength {face_options.identity_strength:g}")
