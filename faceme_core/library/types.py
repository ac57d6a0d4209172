"""Frozen dataclasses that cross the library's boundary (to the CLI, the desktop app, the engine)."""

from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, Literal, Mapping

Box = tuple[float, float, float, float]  # x0, y0, x1, y1 in full-resolution photo pixels


# --- scanning -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScanSummary:
    found: int  # supported photo files seen on disk (FaceMe outputs excluded)
    outputs_skipped: int  # files FaceMe wrote (restored copies) found in the album: not photos
    unchanged: int  # skipped at no cost (same size and mtime)
    added: int
    changed: int  # same path, new content: analysed again
    moved: int  # recognised by content hash at a new path: faces, people and references kept
    missing: int  # newly marked missing
    failed: int  # recorded with their error
    failures: tuple[tuple[Path, str], ...]  # (file or folder, why): this scan's failures and unreadable folders
    faces_added: int
    reembedded: int  # faces given an embedding for the library's new model (--reembed)
    people_created: int
    seconds: float
    output_folders_skipped: tuple[Path, ...] = ()  # FaceMe restore-album output folders inside the albums


@dataclass(frozen=True)
class PhotoRecord:
    id: int
    path: Path
    status: str  # "ok", "error" (see error), "missing"
    error: str | None
    size_wh: tuple[int, int] | None
    date_taken: str | None  # ISO 8601 from EXIF, if any
    face_count: int


# --- people and references ------------------------------------------------------------------------


@dataclass(frozen=True)
class FaceInfo:
    id: int
    photo_id: int
    photo_path: Path
    photo_status: str  # "ok" or "missing"
    box: Box
    quality: float
    person_id: int | None
    assigned_by: Literal["auto", "user"] | None
    thumbnail: Path | None  # absolute path of the cached thumbnail, if any


def person_label(person_id: int, name: str | None) -> str:
    """How a person is called in messages and lists: their name, or "person ID" while unnamed."""
    return name if name else f"person {person_id}"


@dataclass(frozen=True)
class Person:
    id: int
    name: str | None
    hidden: bool
    cover_face_id: int | None
    faces: tuple[FaceInfo, ...]
    reference_count: int

    @property
    def display_name(self) -> str:
        return person_label(self.id, self.name)


@dataclass(frozen=True)
class Reference:
    id: int
    person_id: int
    kind: Literal["face", "file"]
    face_id: int | None  # kind "face": the album face
    photo_path: Path | None  # kind "face": the photo holding it
    box: Box | None  # kind "face": where it is in that photo
    file_path: Path | None  # kind "file": an external image file
    photo_status: str | None = None  # kind "face": the photo's scan status ("ok", "missing", ...)
    quality: float | None = None  # kind "face": the face's quality (faces.quality: 0..1); files: None

    def readable_now(self) -> bool:
        """Whether a restoration can use it: its album photo is present, or its file exists."""
        if self.kind == "face":
            return self.photo_status == "ok"
        return self.file_path is not None and self.file_path.is_file()


@dataclass(frozen=True)
class Suggestion:
    face_id: int
    photo_path: Path
    box: Box
    quality: float


# --- restore jobs -------------------------------------------------------------------------------


@dataclass(frozen=True)
class TaskReference:
    kind: Literal["face", "file"]
    path: Path  # the album photo (kind "face") or the external image file (kind "file")
    box: Box | None  # kind "face": the face's box in that photo; None for files (detect there)
    face_id: int | None


@dataclass(frozen=True)
class TaskFace:
    face_id: int
    box: Box
    points: tuple[tuple[float, float], ...]  # the five key points, photo pixels
    person_id: int | None
    person_name: str | None
    references: tuple[TaskReference, ...]  # empty: restore blind (and report it)
    unavailable_references: int = 0  # the person's references that cannot be read now (missing files)


@dataclass(frozen=True)
class PhotoTask:
    """One photo of a restore job, everything the restoration needs without the library."""

    job_id: int
    item_id: int
    photo_path: Path
    output_path: Path  # the function writes here (atomically); its folder exists
    faces: tuple[TaskFace, ...]
    scanned_size: int | None = None  # the file as the last scan saw it: faces and boxes belong to that
    scanned_mtime_ns: int | None = None


@dataclass(frozen=True)
class FaceOutcome:
    """How one face of a job's photo was restored. ``detail`` is the sentence the CLI prints; the other
    fields are the same facts for programs (the desktop app). Items written before these fields existed
    read back with them unset (None or empty)."""

    face_id: int
    mode: Literal["references", "blind", "skipped"]
    detail: str = ""
    person_id: int | None = None
    person: str | None = None  # the person's name, None when unnamed or unassigned
    references: tuple[str, ...] = ()  # the references used ("face 12", or a file path)
    unavailable_references: int = 0  # the person's references that could not be read at the time
    seed: int | None = None  # with the job's settings, reproduces this face's result
    identity_before: float | None = None  # ArcFace similarity to the references, degraded face ...
    identity_after: float | None = None  # ... and restored face

    def to_json(self) -> dict[str, Any]:
        return {**{f.name: getattr(self, f.name) for f in fields(self)}, "references": list(self.references)}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> "FaceOutcome":
        known = {f.name for f in fields(cls)}
        values = {key: value for key, value in data.items() if key in known}  # tolerate newer fields
        values["references"] = tuple(values.get("references") or ())
        return cls(**values)


@dataclass(frozen=True)
class PhotoOutcome:
    output_path: Path
    faces: tuple[FaceOutcome, ...]


@dataclass(frozen=True)
class JobInfo:
    id: int
    out_dir: Path
    state: str  # "pending", "running", "interrupted" (its runner died: --resume), "paused", "cancelled", "done"
    created_at: float
    total: int
    done: int
    failed: int
    pending: int  # pending or interrupted ("running" found at start)


@dataclass(frozen=True)
class JobItemInfo:
    id: int
    photo_path: Path
    output_path: Path
    state: str
    error: str | None
    faces: tuple[FaceOutcome, ...]
