"""Restore whole photos with one person's reference photos: the task behind ``faceme restore``.

For each photo: detect its faces, decide which get the references (``restore.plan``), restore them
and write the output atomically, with its provenance sidecar (``restore.provenance``). A photo that cannot be done (unreadable, nothing to write to...) is
reported in its ``PhotoResult`` and the others go on; a cancel stops at the next denoising step with
``Cancelled``, and the photo in progress writes nothing (no output, no temporary file).
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from pathlib import Path

from faceme_core.engine.options import RestoreOptions
from faceme_core.errors import FaceMeError
from faceme_core.restore.photo_restore import FaceReport
from faceme_core.restore.plan import LeftFace, PlanOptions
from faceme_core.restore.provenance import photo_record, write_sidecar
from faceme_core.restore.sampling_progress import sampling_reporter
from faceme_core.restore.session import RestoreSession, output_path_for
from faceme_core.tasks.progress import CancelToken, ProgressCallback, TaskProgress, ignore_progress

ANALYSING_STAGE = "analysing"  # a photo starts: its faces are detected (done = photos finished before it)
PHOTOS_STAGE = "photos"  # a photo finished (done = photos finished); ``message`` says how it went


@dataclass(frozen=True)
class RestorePhotosRequest:
    """What to restore, with what, and where to write it (``output`` for one photo, else ``out_dir``)."""

    photos: tuple[Path, ...]
    references: tuple[Path, ...]
    output: Path | None = None
    out_dir: Path | None = None
    options: RestoreOptions = RestoreOptions()
    plan: PlanOptions = PlanOptions()
    upscale: int = 1
    overwrite: bool = False  # also replace files FaceMe did not write


@dataclass(frozen=True)
class PhotoResult:
    """How one photo went: its output and per-face reports, or the error that stopped it."""

    input: Path
    output: Path | None = None
    faces: tuple[FaceReport, ...] = ()
    left: tuple[LeftFace, ...] = ()
    seconds: float = 0.0
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    def to_json(self) -> dict:
        if self.error is not None:
            return {"input": str(self.input), "output": None, "error": self.error}
        return {
            "input": str(self.input),
            "output": None if self.output is None else str(self.output),
            "seconds": round(self.seconds, 3),
            "faces": [dataclasses.asdict(face) for face in self.faces],
            "left": [dataclasses.asdict(face) for face in self.left],
            "error": None,
        }


def restore_photos(
    request: RestorePhotosRequest,
    session: RestoreSession,
    *,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> list[PhotoResult]:
    """Restore ``request.photos`` in order; one ``PhotoResult`` per photo. Raises ``Cancelled`` when
    ``cancel`` is cancelled (between denoising steps), FaceMeError when the references are unusable."""
    from faceme_core.restore.plan import plan_photo
    from faceme_core.restore.reference_set import load_reference_set

    progress = progress or ignore_progress
    cancel = cancel or CancelToken.never()
    references = load_reference_set(list(request.references), session.analyzer)
    session.restorer.encode_identity(references.faces)  # once, up front: a bad encoder file fails here
    total = len(request.photos)
    started = time.monotonic()
    results: list[PhotoResult] = []
    for number, path in enumerate(request.photos, start=1):
        cancel.raise_if_cancelled()
        eta = _eta(started, number - 1, total)
        progress(TaskProgress(ANALYSING_STAGE, number - 1, total, item=str(path), eta_seconds=eta,
                              message=f"photo {number}/{total}"))
        try:
            photo, faces = session.analyze(path)
            plan = plan_photo(faces, references, request.plan)
            if plan.nothing_to_restore:  # a copy of the photo as it was would only look like a result
                reasons = "; ".join(sorted({left.reason for left in plan.left})) or "no face found"
                results.append(PhotoResult(input=path, left=tuple(plan.left)))
                progress(TaskProgress(PHOTOS_STAGE, number, total, item=str(path), eta_seconds=_eta(started, number, total),
                                      message=f"{path}: nothing to restore ({reasons}); no output written"))
                continue
            output = output_path_for(path, output=request.output, out_dir=request.out_dir)
            outcome = session.restore_to_file(
                photo, plan.targets, output, request.options, left=plan.left, upscale=request.upscale,
                overwrite=request.overwrite,
                progress=sampling_reporter(progress, path.name, f"photo {number}/{total}"),
                cancel=lambda: cancel.cancelled,
            )
            write_sidecar(photo_record(  # how it was made, beside it, as the app and album jobs write it
                outcome.input, outcome.output, request.options, request.upscale, outcome.faces, outcome.left,
                tuple(str(reference) for reference in request.references),
            ))
        except FaceMeError as error:
            result = PhotoResult(input=path, error=str(error))
            message = f"{path}: error: {error}"
        else:
            result = PhotoResult(input=outcome.input, output=outcome.output, faces=outcome.faces,
                                 left=outcome.left, seconds=outcome.seconds)
            restored = len(outcome.faces)
            message = (f"{path} -> {outcome.output} ({restored} face{'' if restored == 1 else 's'} restored, "
                       f"{len(outcome.left)} left as they were, {outcome.seconds:.1f} s)")
        results.append(result)
        progress(TaskProgress(PHOTOS_STAGE, number, total, item=str(path),
                              eta_seconds=_eta(started, number, total), message=message))
    return results


def _eta(started: float, done: int, total: int) -> float | None:
    if done <= 0:
        return None
    return (time.monotonic() - started) / done * (total - done)
