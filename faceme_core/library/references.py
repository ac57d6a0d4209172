"""Per-person references for restoration: album faces or external image files the user picked.

``suggest_references`` only proposes (best quality first, diverse, no degraded faces); nothing is
used until the user accepts it with ``add_face_reference``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Sequence

import numpy as np
from sqlalchemy import Connection, delete, insert, select

from faceme_core.errors import LibraryError
from faceme_core.library import clustering
from faceme_core.library.changes import LibraryChange
from faceme_core.library.db import schema
from faceme_core.library.db.codec import blob_to_vector, vector_size, with_usable_vectors
from faceme_core.library.ids import in_range
from faceme_core.library.library import Library
from faceme_core.faces.embedding_models import EMBEDDING_MODELS
from faceme_core.library.people import PersonKey, display_name, pin_face, resolve_person
from faceme_core.library.review import review_margin
from faceme_core.library.types import Reference, Suggestion
from faceme_core.library.path_text import check_storable
from faceme_core.library.undo import journaled

# Below this quality (faceme_core.faces.quality: 0.5 is a soft but usable print scan) a face is too
# degraded to show the model who someone is.
QUALITY_FLOOR = 0.3
# For a model the table does not know (a library made by a newer FaceMe): a middle value.
DEFAULT_NEAR_DUPLICATE_SIMILARITY = 0.9


def near_duplicate_similarity(model_id: str) -> float:
    """Two faces this similar are near-duplicates (``faces.embedding_models``)."""
    model = EMBEDDING_MODELS.get(model_id)
    return model.near_duplicate_similarity if model is not None else DEFAULT_NEAR_DUPLICATE_SIMILARITY


def reference_rows(conn: Connection, person_id: int) -> list[Reference]:
    """The person's references, oldest first (also read by restore jobs)."""
    refs, faces, photos = schema.person_refs, schema.faces, schema.photos
    rows = conn.execute(
        select(
            refs.c.id,
            refs.c.person_id,
            refs.c.face_id,
            refs.c.file_path,
            photos.c.path,
            photos.c.status,
            faces.c.x0,
            faces.c.y0,
            faces.c.x1,
            faces.c.y1,
            faces.c.quality,
        )
        .join(faces, faces.c.id == refs.c.face_id, isouter=True)
        .join(photos, photos.c.id == faces.c.photo_id, isouter=True)
        .where(refs.c.person_id == person_id)
        .order_by(refs.c.id)
    ).all()
    return [
        Reference(
            id=row.id,
            person_id=row.person_id,
            kind="face" if row.face_id is not None else "file",
            face_id=row.face_id,
            photo_path=Path(row.path) if row.path else None,
            box=(row.x0, row.y0, row.x1, row.y1) if row.face_id is not None else None,
            file_path=Path(row.file_path) if row.file_path else None,
            photo_status=row.status,
            quality=row.quality,
        )
        for row in rows
    ]


def list_references(library: Library, person: PersonKey) -> list[Reference]:
    with library.reading() as conn:
        return reference_rows(conn, resolve_person(conn, person))


def add_face_reference(library: Library, person: PersonKey, face_id: int) -> LibraryChange:
    """Use one of the person's album faces as a reference (idempotent: adding it again changes
    nothing). The change's ``reference_id`` is the reference."""
    refs = schema.person_refs
    with journaled(library) as edit:
        conn = edit.conn
        person_id = resolve_person(conn, person)
        if not in_range(int(face_id)):
            raise LibraryError(f"no face with id {face_id}", action="list_people")
        owner = conn.execute(
            select(schema.faces.c.id, schema.assignments.c.person_id)
            .join(schema.assignments, schema.assignments.c.face_id == schema.faces.c.id, isouter=True)
            .where(schema.faces.c.id == int(face_id))
        ).one_or_none()
        if owner is None:
            raise LibraryError(f"no face with id {face_id}", action="list_people")
        if owner.person_id != person_id:
            raise LibraryError(
                f"face {face_id} is not one of person {person_id}'s faces", hint="move it there first",
                action="move_face",
            )
        edit.describe(f"reference face {face_id} added to {display_name(conn, person_id)}")
        reference_id = conn.execute(
            select(refs.c.id).where(refs.c.person_id == person_id, refs.c.face_id == face_id)
        ).scalar_one_or_none()
        if reference_id is None:
            pin_face(conn, int(face_id), person_id)
            reference_id = conn.execute(
                insert(refs).values(person_id=person_id, face_id=face_id, added_at=time.time())
            ).inserted_primary_key[0]
    return replace(edit.change, person_id=person_id, reference_id=reference_id)


@dataclass(frozen=True)
class ReferenceCheck:
    """How an image file's face compares with the person it is added to.

    similarity: cosine of the file's face to the most similar of the person's album faces (None when
        the person has no album face embedded with the same model to compare with).
    threshold: below it the face looks like someone else: the model's join threshold minus its
        review margin (dlib 0.92: Einstein scores 0.83 against Audrey Hepburn's album portrait,
        her own portraits 0.96; ArcFace 0.30, restore matching's own threshold).
    """

    similarity: float | None
    threshold: float | None

    @property
    def looks_like_someone_else(self) -> bool:
        return self.similarity is not None and self.threshold is not None and self.similarity < self.threshold


@dataclass(frozen=True)
class FileReferenceAdded:
    change: LibraryChange
    check: ReferenceCheck


def analyzer_for_library(library: Library):
    """A face analyzer whose embeddings compare with the library's (its model's backend)."""
    from faceme_core.faces import analyzer as analyzer_module
    from faceme_core.library.scan import ACTIVE_MODEL_KEY

    model_id = library.get_meta(ACTIVE_MODEL_KEY) or ""
    backend = model_id.split("/", 1)[0] if model_id.split("/", 1)[0] in ("dlib", "insightface") else "auto"
    return analyzer_module.create_analyzer(backend)


def check_reference_file(library: Library, person: PersonKey, path: Path | str, analyzer=None) -> ReferenceCheck:
    """Read the whole image (a truncated or damaged file is refused now, not at every restore),
    find its face (refused when there is none: a reference must show a face) and compare it with the
    person's album faces. ``analyzer``: default ``analyzer_for_library``."""
    from faceme_core import imageio
    from faceme_core.faces.boxes import pick_box

    file_path = Path(path).expanduser().absolute()
    if file_path.is_dir():
        raise LibraryError("is a folder, not an image file", setting="file", value=path,
                           hint="give one photo of the person")
    if not file_path.is_file():
        raise LibraryError(f"{path}: no such image file")
    check_storable(file_path, setting="file", value=path)
    photo = imageio.load_photo(file_path)  # decodes every pixel: refuses truncated and damaged files
    analyzer = analyzer if analyzer is not None else analyzer_for_library(library)
    faces = analyzer.analyze(photo).faces
    if not faces:
        raise LibraryError(f"{path}: no face large enough to use as a reference was found in this image")
    face = faces[pick_box([face.box for face in faces])]  # the face a restore will use: the largest
    model_id = face.embedding.model_id
    vector = np.asarray(face.embedding.vector, dtype=np.float64)
    vector /= max(float(np.linalg.norm(vector)), 1e-12)
    with library.reading() as conn:
        person_id = resolve_person(conn, person)
        blobs = conn.execute(
            select(schema.embeddings.c.vector)
            .join(schema.assignments, schema.assignments.c.face_id == schema.embeddings.c.face_id)
            .where(schema.assignments.c.person_id == person_id, schema.embeddings.c.model_id == model_id)
        ).scalars().all()
    try:
        threshold = clustering.params_for_model(model_id).join_similarity - review_margin(model_id)
    except ValueError:
        threshold = None
    members = [member for member in (blob_to_vector(blob) for blob in blobs if len(blob) == vector.size * 4)
               if np.isfinite(member).all()]  # a damaged blob (another size, NaN) is left out
    if not members:
        return ReferenceCheck(similarity=None, threshold=threshold)
    members = np.stack(members).astype(np.float64)
    members /= np.maximum(np.linalg.norm(members, axis=1, keepdims=True), 1e-12)
    return ReferenceCheck(similarity=float((members @ vector).max()), threshold=threshold)


def add_file_reference(
    library: Library, person: PersonKey, path: Path | str, *, analyzer=None
) -> FileReferenceAdded:
    """Use an external image file (e.g. a good portrait not in the album) as a reference. Refuses a
    file that cannot be fully read or shows no face; one that looks like someone else is added and
    flagged (``check.looks_like_someone_else``, with its similarity) for the caller to say so."""
    check = check_reference_file(library, person, path, analyzer)
    file_path = Path(path).expanduser().absolute()
    refs = schema.person_refs
    with journaled(library) as edit:
        conn = edit.conn
        person_id = resolve_person(conn, person)
        edit.describe(f"reference {file_path.name} added to {display_name(conn, person_id)}")
        reference_id = conn.execute(
            select(refs.c.id).where(refs.c.person_id == person_id, refs.c.file_path == str(file_path))
        ).scalar_one_or_none()
        if reference_id is None:
            reference_id = conn.execute(
                insert(refs).values(person_id=person_id, file_path=str(file_path), added_at=time.time())
            ).inserted_primary_key[0]
    return FileReferenceAdded(change=replace(edit.change, person_id=person_id, reference_id=reference_id), check=check)


def remove_reference(library: Library, reference_id: int) -> LibraryChange:
    return remove_references(library, (reference_id,))


def remove_references(library: Library, reference_ids: Sequence[int]) -> LibraryChange:
    """Remove the references, all or none: an unknown id refuses the whole removal (so the same
    command, corrected, can be run again), and they are one decision to undo."""
    refs = schema.person_refs
    with journaled(library) as edit:
        conn = edit.conn
        rows = []
        for reference_id in dict.fromkeys(int(i) for i in reference_ids):
            row = conn.execute(select(refs).where(refs.c.id == reference_id)).one_or_none() \
                if in_range(reference_id) else None
            if row is None:
                raise LibraryError(f"no reference with id {reference_id}", action="list_references")
            rows.append(row)
        what = [f"face {row.face_id}" if row.face_id is not None else Path(row.file_path).name for row in rows]
        owners = list(dict.fromkeys(display_name(conn, row.person_id) for row in rows))
        noun = "reference" if len(rows) == 1 else "references"
        edit.describe(f"removal of {noun} {', '.join(what)} from {', '.join(owners)}")
        conn.execute(delete(refs).where(refs.c.id.in_([row.id for row in rows])))
    person_ids = {row.person_id for row in rows}
    return replace(edit.change, person_id=person_ids.pop() if len(person_ids) == 1 else None,
                   reference_id=rows[0].id if len(rows) == 1 else None)


def pick_diverse(
    candidates: list[tuple[int, int, float, np.ndarray]],
    chosen: list[tuple[int, np.ndarray]],
    count: int,
    duplicate_similarity: float,
    quality_floor: float,
) -> list[int]:
    """Greedy pick of ``count`` candidates (face id, photo id, quality, vector), best quality first,
    skipping degraded ones and any near-duplicate of (or same photo as) something already chosen.
    ``chosen`` holds (photo id, vector) of the existing references. Pure function."""
    picked: list[int] = []
    taken = list(chosen)
    for face_id, photo_id, quality, vector in sorted(candidates, key=lambda c: (-c[2], c[0])):
        if len(picked) >= count:
            break
        if quality < quality_floor:
            continue
        if any(
            photo_id == other_photo or float(np.dot(vector, other)) > duplicate_similarity
            for other_photo, other in taken
        ):
            continue
        picked.append(face_id)
        taken.append((photo_id, vector))
    return picked


def suggest_references(
    library: Library, person: PersonKey, count: int = 3, *, quality_floor: float = QUALITY_FLOOR
) -> list[Suggestion]:
    """The person's best album faces to use as references, for the user to accept or not."""
    from faceme_core.library.scan import ACTIVE_MODEL_KEY

    if count < 1:
        raise LibraryError("the number of suggestions must be at least 1", setting="count", value=count)
    model_id = library.get_meta(ACTIVE_MODEL_KEY)
    faces, photos, embeddings, assignments, refs = (
        schema.faces,
        schema.photos,
        schema.embeddings,
        schema.assignments,
        schema.person_refs,
    )
    with library.reading() as conn:
        person_id = resolve_person(conn, person)
        rows = conn.execute(
            select(
                faces.c.id,
                faces.c.photo_id,
                faces.c.quality,
                faces.c.x0,
                faces.c.y0,
                faces.c.x1,
                faces.c.y1,
                photos.c.path,
                embeddings.c.vector,
            )
            .join(assignments, assignments.c.face_id == faces.c.id)
            .join(photos, photos.c.id == faces.c.photo_id)
            .join(embeddings, (embeddings.c.face_id == faces.c.id) & (embeddings.c.model_id == model_id))
            .where(assignments.c.person_id == person_id, photos.c.status == "ok")
        ).all()
        rows = with_usable_vectors(rows, size=vector_size(conn, model_id))
        referenced = set(
            conn.execute(
                select(refs.c.face_id).where(refs.c.person_id == person_id, refs.c.face_id.is_not(None))
            ).scalars()
        )
    chosen = [(row.photo_id, blob_to_vector(row.vector)) for row in rows if row.id in referenced]
    candidates = [
        (row.id, row.photo_id, row.quality, blob_to_vector(row.vector)) for row in rows if row.id not in referenced
    ]
    picked = pick_diverse(candidates, chosen, count, near_duplicate_similarity(model_id or ""), quality_floor)
    by_id = {row.id: row for row in rows}
    return [
        Suggestion(
            face_id=i,
            photo_path=Path(by_id[i].path),
            box=(by_id[i].x0, by_id[i].y0, by_id[i].x1, by_id[i].y1),
            quality=by_id[i].quality,
        )
        for i in picked
    ]
