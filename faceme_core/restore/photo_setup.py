"""One photo's faces before restoring it in the app: who each face is, with which references, and what to do.

``prepare_photo`` reads what the library knows. A photo of the library brings its faces and their
people (named by the user, or guessed by the scan's grouping); any other photo is analysed and each
face matched against the embeddings of the people's reference faces. A face's references are its
person's, those closest in age to the photo first (``reference_choice``). The user then changes the
person, the mode (with references, blind, untouched) or adds reference files per face: each change
returns a new ``PhotoSetup`` (frozen), and ``setup_warnings`` says what could go wrong before a run.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal, Sequence

import numpy as np
from sqlalchemy import Connection, select

from faceme_core.errors import FaceMeError
from faceme_core.faces.analyzer import skip_reason
from faceme_core.faces.types import Detection
from faceme_core.imageio import load_photo
from faceme_core.library.db import schema
from faceme_core.library.db.codec import blob_to_points, blob_to_vector
from faceme_core.library.library import Library
from faceme_core.library.photo_years import dated_references, photo_id_of, photo_year
from faceme_core.library.references import reference_rows
from faceme_core.library.types import Box, TaskReference
from faceme_core.restore.reference_choice import choose_references

Mode = Literal["references", "blind", "untouched"]
MODES: tuple[Mode, ...] = ("references", "blind", "untouched")
Assigned = Literal["user", "guessed"]


@dataclass(frozen=True)
class ReferenceChoice:
    reference: TaskReference
    year: int | None  # when its photo was taken, if known
    person_id: int | None  # None: a file the user dropped on this face for this photo only

    @property
    def label(self) -> str:
        name = f"face {self.reference.face_id}" if self.reference.kind == "face" else self.reference.path.name
        return f"{name} ({self.year})" if self.year is not None else name


@dataclass(frozen=True)
class FaceChoice:
    index: int  # position in the photo's faces (left to right as the library or detector lists them)
    box: Box
    points: tuple[tuple[float, float], ...]  # five key points, photo pixels
    face_id: int | None  # the library's face, when the photo is in the library
    person_id: int | None
    person_name: str | None
    assigned: Assigned | None  # "user": named by the user; "guessed": by grouping or by matching
    match_similarity: float | None  # matched photos: similarity to the person's closest reference
    references: tuple[ReferenceChoice, ...]
    mode: Mode
    too_small: str | None = None  # why it cannot be restored (too few pixels), else None

    @property
    def who(self) -> str:
        if self.person_id is None:
            return "unknown person"
        return self.person_name or f"person {self.person_id}"

    def detection(self) -> Detection:
        return Detection(box=self.box, points=np.asarray(self.points, dtype=np.float32), score=1.0)


@dataclass(frozen=True)
class PhotoSetup:
    path: Path
    photo_id: int | None  # None: not in the library
    year: int | None  # when it was taken (EXIF or the user's estimate), if known
    size_wh: tuple[int, int]
    faces: tuple[FaceChoice, ...]

    def with_face(self, face: FaceChoice) -> "PhotoSetup":
        return replace(self, faces=tuple(face if f.index == face.index else f for f in self.faces))

    def face(self, index: int) -> FaceChoice:
        for face in self.faces:
            if face.index == index:
                return face
        raise IndexError(f"no face {index} in {self.path.name}")


@dataclass(frozen=True)
class SetupWarning:
    face_index: int | None
    text: str


# --- preparing ------------------------------------------------------------------------------------


def prepare_photo(library: Library, path: Path, analyzer=None) -> PhotoSetup:
    """The photo's faces with their people and references. A photo the library has scanned uses the
    library's faces; any other is analysed with ``analyzer`` (FaceMeError when there is none)."""
    path = Path(path)
    with library.reading() as conn:
        photo_id = photo_id_of(conn, path)
        status = None if photo_id is None else conn.execute(
            select(schema.photos.c.status).where(schema.photos.c.id == photo_id)).scalar_one()
        if photo_id is not None and status == "ok":
            return _from_library(conn, path, photo_id)
    if analyzer is None:
        raise FaceMeError(f"{path.name}: not in the library, and no face analyzer is available to find its faces")
    return _from_analysis(library, path, analyzer)


def _from_library(conn: Connection, path: Path, photo_id: int) -> PhotoSetup:
    faces, assignments, people, photos = schema.faces, schema.assignments, schema.people, schema.photos
    size = conn.execute(select(photos.c.width, photos.c.height).where(photos.c.id == photo_id)).one()
    year = photo_year(conn, photo_id)
    rows = conn.execute(
        select(faces.c.id, faces.c.x0, faces.c.y0, faces.c.x1, faces.c.y1, faces.c.points,
               assignments.c.person_id, assignments.c.source, people.c.name)
        .join(assignments, assignments.c.face_id == faces.c.id, isouter=True)
        .join(people, people.c.id == assignments.c.person_id, isouter=True)
        .where(faces.c.photo_id == photo_id)
        .order_by(faces.c.x0, faces.c.id)
    ).all()
    choices = []
    for index, row in enumerate(rows):
        points = tuple((float(x), float(y)) for x, y in blob_to_points(row.points))
        assigned = None if row.person_id is None else ("user" if row.source == "user" else "guessed")
        choices.append(_face_choice(
            conn, index, (row.x0, row.y0, row.x1, row.y1), points, row.id, row.person_id, row.name, assigned, None, year,
        ))
    return PhotoSetup(path=path, photo_id=photo_id, year=year, size_wh=(size.width or 0, size.height or 0),
                      faces=tuple(choices))


def _from_analysis(library: Library, path: Path, analyzer) -> PhotoSetup:
    from faceme_core.imageio import date_taken
    from faceme_core.restore.reference_choice import year_of

    photo = load_photo(path)
    found = analyzer.analyze(photo)
    taken = date_taken(photo.exif)
    year = year_of(taken.isoformat()) if taken is not None else None
    detections = sorted(found.faces, key=lambda face: face.box[0])
    small = sorted((s.detection for s in found.skipped), key=lambda d: d.box[0])
    with library.reading() as conn:
        known = _reference_embeddings(conn, analyzer.embedding_model_id)
        threshold = _match_threshold(analyzer.embedding_model_id)
        choices = []
        for face in detections:
            person_id, similarity = _best_person(face.embedding.vector, known, threshold)
            name = _person_name(conn, person_id)
            choices.append(_face_choice(
                conn, len(choices), face.box, _points(face.detection), None, person_id, name,
                "guessed" if person_id is not None else None, similarity, year,
            ))
        for detection in small:
            choices.append(_face_choice(conn, len(choices), detection.box, _points(detection), None, None, None,
                                        None, None, year))
    return PhotoSetup(path=path, photo_id=None, year=year, size_wh=photo.size_wh, faces=tuple(choices))


def _points(detection: Detection) -> tuple[tuple[float, float], ...]:
    return tuple((float(x), float(y)) for x, y in np.asarray(detection.points))


def _face_choice(conn, index, box, points, face_id, person_id, name, assigned, similarity, year) -> FaceChoice:
    box = tuple(float(v) for v in box)
    eyes = Detection(box=box, points=np.asarray(points, dtype=np.float32), score=1.0).eye_distance
    too_small = skip_reason(eyes)
    references = _references(conn, person_id, year) if person_id is not None else ()
    mode: Mode = "untouched" if too_small else ("references" if references else "blind")
    return FaceChoice(index=index, box=box, points=points, face_id=face_id, person_id=person_id, person_name=name,
                      assigned=assigned, match_similarity=similarity, references=references, mode=mode,
                      too_small=too_small)


def _references(conn: Connection, person_id: int, year: int | None) -> tuple[ReferenceChoice, ...]:
    from faceme_core.library.jobs import task_reference

    readable = [ref for ref in reference_rows(conn, person_id) if ref.readable_now()]
    dated = dated_references(conn, readable)
    years = {id(d.reference): d.year for d in dated}
    chosen = choose_references(dated, year)
    return tuple(ReferenceChoice(task_reference(ref), years[id(ref)], person_id) for ref in chosen)


def _person_name(conn: Connection, person_id: int | None) -> str | None:
    if person_id is None:
        return None
    return conn.execute(select(schema.people.c.name).where(schema.people.c.id == person_id)).scalar_one_or_none()


def _reference_embeddings(conn: Connection, model_id: str) -> list[tuple[int, np.ndarray]]:
    """(person id, embedding) of every reference face with an embedding of ``model_id``."""
    refs, embeddings = schema.person_refs, schema.embeddings
    rows = conn.execute(
        select(refs.c.person_id, embeddings.c.vector)
        .join(embeddings, embeddings.c.face_id == refs.c.face_id)
        .where(embeddings.c.model_id == model_id)
    ).all()
    return [(row.person_id, blob_to_vector(row.vector)) for row in rows]


def _match_threshold(model_id: str) -> float | None:
    from faceme_core.library.clustering import params_for_model

    try:
        return params_for_model(model_id).join_similarity  # the grouping's own "same person" bar
    except ValueError:
        return None


def _best_person(vector: np.ndarray, known: Sequence[tuple[int, np.ndarray]], threshold: float | None):
    if threshold is None or not known:
        return None, None
    scores = [(float(np.dot(vector, ref)), person_id) for person_id, ref in known]
    similarity, person_id = max(scores)
    return (person_id, similarity) if similarity >= threshold else (None, similarity)


# --- the user's changes -------------------------------------------------------------------------------


def choose_person(library: Library, setup: PhotoSetup, index: int, person_id: int | None) -> PhotoSetup:
    """Face ``index`` shows ``person_id`` (the user says so): that person's references, age-matched.
    Files dropped on the face are kept. Only this restoration changes; the library does not."""
    face = setup.face(index)
    with library.reading() as conn:
        name = _person_name(conn, person_id)
        references = _references(conn, person_id, setup.year) if person_id is not None else ()
    dropped = tuple(ref for ref in face.references if ref.person_id is None)
    references = references + dropped
    mode = face.mode if face.mode == "untouched" else ("references" if references else "blind")
    return setup.with_face(replace(face, person_id=person_id, person_name=name, assigned="user" if person_id else None,
                                   match_similarity=None, references=references, mode=mode))


def add_reference_files(setup: PhotoSetup, index: int, files: Sequence[Path]) -> PhotoSetup:
    """Image files the user dropped on face ``index``: used as its references for this photo."""
    face = setup.face(index)
    have = {ref.reference.path for ref in face.references}
    added = tuple(ReferenceChoice(TaskReference("file", Path(f), None, None), None, None)
                  for f in files if Path(f) not in have)
    mode = "references" if face.mode != "untouched" else face.mode
    return setup.with_face(replace(face, references=face.references + added, mode=mode))


def set_mode(setup: PhotoSetup, index: int, mode: Mode) -> PhotoSetup:
    if mode not in MODES:
        raise ValueError(f"mode={mode!r}: expected one of {', '.join(MODES)}")
    face = setup.face(index)
    if face.too_small and mode != "untouched":
        raise FaceMeError(f"face {index + 1}: {face.too_small}; it can only be left untouched")
    if mode == "references" and not face.references:
        raise FaceMeError(f"face {index + 1} ({face.who}) has no references: choose a person with references, "
                          "drop reference images on it, or restore it blind")
    return setup.with_face(replace(face, mode=mode))


def setup_warnings(setup: PhotoSetup) -> tuple[SetupWarning, ...]:
    """What could go wrong with this restoration, one sentence each, before anything runs."""
    warnings = []
    for face in setup.faces:
        label = f"Face {face.index + 1} ({face.who})"
        if face.too_small:
            warnings.append(SetupWarning(face.index, f"{label}: {face.too_small}; it is left as it is."))
            continue
        if face.mode == "untouched":
            continue
        if face.mode == "references" and face.assigned == "guessed":
            warnings.append(SetupWarning(face.index, (
                f"{label}: the person was only guessed. Restoring with the wrong person's references "
                "changes who the face shows: confirm the person or restore it blind.")))
        if face.person_id is not None and not face.references:
            warnings.append(SetupWarning(face.index, (
                f"{label}: {face.who} has no references, so the face is restored blind (identity not "
                "guided). Add references on the person's page or drop images on the face.")))
    if not any(face.mode != "untouched" for face in setup.faces):
        warnings.append(SetupWarning(None, "No face is set to be restored: the output would equal the original."))
    return tuple(warnings)


def targets_of(setup: PhotoSetup) -> tuple[FaceChoice, ...]:
    """The faces a run restores (every face not left untouched)."""
    return tuple(face for face in setup.faces if face.mode != "untouched" and not face.too_small)
