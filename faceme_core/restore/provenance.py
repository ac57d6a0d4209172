"""How an output was made, in a JSON sidecar beside it: models, references, seed and settings.

``photo.jpg`` restored to ``photo-restored.jpg`` gets ``photo-restored.jpg.faceme.json``, so a
restoration can be reproduced (same models, options and seed give the same pixels) and explained
(which references each face got, and how its identity score moved).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from faceme_core.engine.options import RestoreOptions
from faceme_core.errors import ImageSaveError
from faceme_core.imageio.atomic import NAME_MAX, write_atomically

SIDECAR_SUFFIX = ".faceme.json"
RECORD_FORMAT = 1


@dataclass(frozen=True)
class FaceRecord:
    index: int
    box: tuple[float, float, float, float]
    mode: str  # "references", "blind" or "untouched"
    person: str | None
    references: tuple[str, ...]  # paths of the reference photos (album faces: "photo path#face id")
    seed: int | None
    steps: int | None
    identity_before: float | None
    identity_after: float | None
    note: str = ""  # why a face was left untouched, if it was


@dataclass(frozen=True)
class RestoreRecord:
    input: Path
    output: Path
    options: RestoreOptions
    upscale: int
    faces: tuple[FaceRecord, ...]
    created_at: float = dataclasses.field(default_factory=time.time)

    def to_json(self) -> dict[str, Any]:
        from faceme_core import __version__

        return {
            "format": RECORD_FORMAT,
            "software": {"faceme": __version__},
            "models": model_versions(),
            "input": str(self.input),
            "output": str(self.output),
            "created_at": self.created_at,
            "settings": {**dataclasses.asdict(self.options), "upscale": self.upscale},
            "faces": [{**dataclasses.asdict(face), "references": list(face.references)} for face in self.faces],
        }


def model_versions() -> dict[str, dict[str, str]]:
    """Which release of each component the engine reads (their pinned revisions)."""
    from faceme_core.models.manifest import COMPONENT_NAMES, component

    return {name: {"repo_id": component(name).repo_id, "revision": component(name).revision}
            for name in COMPONENT_NAMES}


def sidecar_path(output: Path) -> Path:
    """``NAME.faceme.json`` beside the output. An output whose name is near the file system's limit
    (a long album name, mirrored by a job) gets ``NAME-CUT~HASH.faceme.json`` instead, within
    ``NAME_MAX`` bytes: the hash of the whole name keeps two such outputs' sidecars apart."""
    output = Path(output)
    name = output.name + SIDECAR_SUFFIX
    if len(os.fsencode(name)) <= NAME_MAX:
        return output.with_name(name)
    tag = "~" + hashlib.sha256(os.fsencode(output.name)).hexdigest()[:12]
    room = NAME_MAX - len(os.fsencode(tag + SIDECAR_SUFFIX))
    cut = os.fsencode(output.name)[:room].decode("utf-8", errors="ignore")  # never half a character
    return output.with_name(cut + tag + SIDECAR_SUFFIX)


def write_sidecar(record: RestoreRecord) -> Path:
    """Write the record beside ``record.output`` (atomically) and return its path; ImageSaveError
    when it cannot be written (the output itself is already there)."""
    path = sidecar_path(record.output)
    try:
        write_atomically(path, (json.dumps(record.to_json(), indent=2) + "\n").encode("utf-8"))
    except OSError as error:
        raise ImageSaveError(f"the output was written, but not the record of how it was made beside it "
                             f"({error.strerror or error})", subject=path) from error
    return path


def read_sidecar(output: Path) -> dict[str, Any]:
    return json.loads(sidecar_path(output).read_text(encoding="utf-8"))


def face_record(index: int, report, references: tuple[str, ...] | None = None) -> FaceRecord:
    """A restored face's record from its ``restore.photo_restore.FaceReport``."""
    return FaceRecord(
        index=index, box=tuple(float(v) for v in report.box), mode="blind" if report.blind else "references",
        person=report.person, references=tuple(report.references if references is None else references),
        seed=report.seed, steps=report.steps, identity_before=report.identity_before,
        identity_after=report.identity_after,
    )


def untouched_record(index: int, box, reason: str, person: str | None = None) -> FaceRecord:
    return FaceRecord(index=index, box=tuple(float(v) for v in box), mode="untouched", person=person, references=(),
                      seed=None, steps=None, identity_before=None, identity_after=None, note=reason)


def photo_record(input: Path, output: Path, options: RestoreOptions, upscale: int, reports, left,
                 references: tuple[str, ...]) -> RestoreRecord:
    """The record of a photo restored with one set of reference photos (``faceme restore``): restored
    faces first (``restore.photo_restore.FaceReport``), then the faces left as they were
    (``restore.plan.LeftFace``), numbered in that order."""
    rows = [face_record(index, report, () if report.blind else references) for index, report in enumerate(reports)]
    rows += [untouched_record(len(rows) + index, face.box, face.reason) for index, face in enumerate(left)]
    return RestoreRecord(input=Path(input), output=Path(output), options=options, upscale=upscale, faces=tuple(rows))


def reference_label(reference) -> str:
    """How a record names a ``library.types.TaskReference``: the file, or "photo#face N" for album faces."""
    return f"{reference.path}#face {reference.face_id}" if reference.kind == "face" else str(reference.path)
