"""Album jobs meet the engine: restore one ``PhotoTask`` of a restore job with its people's references.

The job runner (``faceme_core.library.jobs.run_job``) stays engine-free; it calls an ``AlbumRestorer``
per photo. References are found once per person and reused for every photo of the job.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from faceme_core.engine.options import RestoreOptions
from faceme_core.faces.analyzer import skip_reason
from faceme_core.faces.types import Detection
from faceme_core.imageio import load_photo
from faceme_core.library.types import FaceOutcome, PhotoOutcome, PhotoTask, TaskFace
from faceme_core.restore.photo_restore import FaceReport, FaceTarget
from faceme_core.restore.provenance import (
    RestoreRecord,
    face_record,
    reference_label,
    untouched_record,
    write_sidecar,
)
from faceme_core.restore.reference_set import ReferenceLoader
from faceme_core.restore.sampling_progress import sampling_reporter
from faceme_core.restore.session import RestoreSession
from faceme_core.tasks import CancelToken, ProgressCallback, ignore_progress


@dataclass(frozen=True)
class AlbumRestoreSettings:
    """What a job keeps of the user's choices (stored as JSON with the job, reused on resume)."""

    restore: RestoreOptions = RestoreOptions()
    upscale: int = 1

    def to_json(self) -> dict[str, Any]:
        options = self.restore
        return {"sampler": options.sampler, "steps": options.steps, "identity_strength": options.identity_strength,
                "seed": options.seed, "color_correction": options.color_correction, "upscale": self.upscale}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> "AlbumRestoreSettings":
        data = dict(data)
        upscale = int(data.pop("upscale", 1))
        return cls(restore=RestoreOptions(**data), upscale=upscale)


class AlbumRestorer:
    """Callable per photo of a job: ``restorer(task, progress=..., cancel=...) -> PhotoOutcome``; writes
    ``task.output_path``, or nothing when cancelled (``Cancelled`` between denoising steps)."""

    def __init__(self, session: RestoreSession, settings: AlbumRestoreSettings = AlbumRestoreSettings()):
        self.session = session
        self.settings = settings
        self._references = ReferenceLoader(session.analyzer)

    def __call__(self, task: PhotoTask, *, progress: ProgressCallback | None = None,
                 cancel: CancelToken | None = None) -> PhotoOutcome:
        cancel = cancel or CancelToken.never()
        photo = load_photo(task.photo_path)
        targets, target_faces, outcomes = [], [], {}
        for face in task.faces:
            detection = Detection(box=face.box, points=np.asarray(face.points, dtype=np.float32), score=1.0)
            reason = skip_reason(detection.eye_distance)
            if reason is not None:
                outcomes[face.face_id] = FaceOutcome(
                    face.face_id, "skipped", reason, person_id=face.person_id, person=face.person_name,
                    unavailable_references=face.unavailable_references,
                )
                continue
            references = self._references.load(face.references)
            targets.append(FaceTarget(
                detection=detection, references=references.faces, reference_embeddings=references.embeddings,
                reference_names=references.names, person=face.person_name,
            ))
            target_faces.append(face)
        # An interrupted photo is redone over its earlier (complete, atomically written) output: save_photo
        # replaces files FaceMe wrote, never anyone else's (that photo then fails with the reason).
        outcome = self.session.restore_to_file(
            photo, targets, task.output_path, self.settings.restore, upscale=self.settings.upscale,
            progress=sampling_reporter(progress or ignore_progress, task.photo_path.name),
            cancel=lambda: cancel.cancelled,
        )
        for face, report in zip(target_faces, outcome.faces):
            outcomes[face.face_id] = _face_outcome(face, report)
        self._record(task, outcome.faces, target_faces, outcomes)
        return PhotoOutcome(output_path=outcome.output, faces=tuple(outcomes[face.face_id] for face in task.faces))

    def _record(self, task: PhotoTask, reports, target_faces, outcomes) -> None:
        """The sidecar beside the output: how it was made (models, references, seed, settings)."""
        restored = {face.face_id: report for face, report in zip(target_faces, reports)}
        rows = []
        for index, face in enumerate(task.faces):
            report = restored.get(face.face_id)
            if report is None:
                rows.append(untouched_record(index, face.box, outcomes[face.face_id].detail, face.person_name))
            else:
                rows.append(face_record(index, report, tuple(reference_label(r) for r in face.references)))
        write_sidecar(RestoreRecord(input=task.photo_path, output=task.output_path, options=self.settings.restore,
                                    upscale=self.settings.upscale, faces=tuple(rows)))


def _face_outcome(face: TaskFace, report: FaceReport) -> FaceOutcome:
    who = face.person_name or (f"person {face.person_id}" if face.person_id is not None else "unassigned face")
    unavailable = (f"; {face.unavailable_references} reference(s) could not be read (photo or file missing: "
                   "rescan, or check the person's references)") if face.unavailable_references else ""
    if report.blind:
        mode, detail = "blind", f"{who}: no usable references, restored blind{unavailable}"
    else:
        identity = "" if report.identity_after is None else f", identity similarity {report.identity_after:.2f}"
        mode, detail = "references", f"{who}: {len(report.references)} reference(s){identity}{unavailable}"
    return FaceOutcome(
        face.face_id, mode, detail, person_id=face.person_id, person=face.person_name,
        references=tuple(report.references), unavailable_references=face.unavailable_references,
        seed=report.seed, identity_before=report.identity_before, identity_after=report.identity_after,
    )


def open_album_restorer(settings: AlbumRestoreSettings, device: str | None = "auto", offload: str | bool = "none",
                        models_dir: Path | None = None) -> AlbumRestorer:
    """Load the models (ModelMissingError names what is missing) and return the per-photo restorer."""
    return AlbumRestorer(RestoreSession.open(models_dir, device=device, offload=offload), settings)
