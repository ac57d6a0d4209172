"""Review queues: the decisions automation could not make alone, one at a time for the user.

- ``same_person_pairs``: two people whose faces are close to the join threshold ("same person?");
  yes is ``people.merge_people``, no is ``mark_distinct`` (never proposed again).
- ``face_suggestions``: faces on nobody, each with the person it looks most like; yes is
  ``people.move_faces``, no is ``people.reject_faces(..., person)``.
- ``repeated_in_photo``: photos where one person has two faces (one of them is someone else); the
  answer is ``people.reject_faces`` or ``people.move_faces`` on the wrong one.

People are compared by their mean face (the normalised mean of their embeddings): one vector per
person keeps a library of 100,000 faces to a few matrix products. Reading every embedding takes
about a second on such a library: run these in a worker, not on a GUI thread.
"""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from sqlalchemy import Connection

from faceme_core.errors import LibraryError
from faceme_core.faces.embedding_models import EMBEDDING_MODELS
from faceme_core.library import clustering
from faceme_core.library.changes import LibraryChange
from faceme_core.library.db.codec import vector_size, with_usable_vectors
from faceme_core.library.library import Library
from faceme_core.library.people import PersonKey, display_name, resolve_person
from faceme_core.library.types import Box, person_label
from faceme_core.library.undo import journaled

# For a model the table (faces.embedding_models) does not know: a middle review band.
DEFAULT_REVIEW_MARGIN = 0.05


@dataclass(frozen=True)
class PersonBrief:
    id: int
    name: str | None
    face_count: int

    @property
    def display_name(self) -> str:
        return person_label(self.id, self.name)


@dataclass(frozen=True)
class SamePersonPair:
    first: PersonBrief  # the larger of the two (the natural merge target)
    second: PersonBrief
    similarity: float  # cosine of their mean faces


@dataclass(frozen=True)
class FaceSuggestion:
    face_id: int
    photo_id: int
    photo_path: Path
    box: Box
    quality: float
    thumbnail: Path | None
    person: PersonBrief  # who the face looks most like
    similarity: float  # cosine of the face and that person's mean face


@dataclass(frozen=True)
class RepeatedInPhoto:
    photo_id: int
    photo_path: Path
    person: PersonBrief
    face_ids: tuple[int, ...]  # at least two faces of one photo on this person


def review_margin(model_id: str) -> float:
    """How far below the join threshold two people still count as "close" (faces.embedding_models)."""
    model = EMBEDDING_MODELS.get(model_id)
    return model.review_margin if model is not None else DEFAULT_REVIEW_MARGIN


def _model(library: Library) -> tuple[str, float]:
    from faceme_core.library.scan import ACTIVE_MODEL_KEY

    model_id = library.get_meta(ACTIVE_MODEL_KEY)
    if model_id is None:
        raise LibraryError("the library has no faces yet", hint="scan a folder first", action="scan")
    try:
        join = clustering.params_for_model(model_id).join_similarity
    except ValueError:
        raise LibraryError(f"no grouping thresholds are known for the library's model {model_id}") from None
    return model_id, join


@dataclass(frozen=True)
class _People:
    ids: np.ndarray  # (p,)
    means: np.ndarray  # (p, d) unit rows
    briefs: dict[int, PersonBrief]


def _people_means(conn: Connection, model_id: str) -> _People:
    rows = conn.exec_driver_sql(
        "SELECT a.person_id, e.vector FROM assignments a JOIN embeddings e ON e.face_id = a.face_id "
        "AND e.model_id = ? JOIN people p ON p.id = a.person_id WHERE p.hidden = 0 ORDER BY a.person_id",
        (model_id,),
    ).all()
    rows = with_usable_vectors(rows, size=vector_size(conn, model_id))  # a damaged blob is left out
    names = dict(conn.exec_driver_sql("SELECT id, name FROM people").all())
    if not rows:
        return _People(np.zeros(0, int), np.zeros((0, 0), np.float32), {})
    person_of = np.array([row[0] for row in rows])
    vectors = np.frombuffer(b"".join(row[1] for row in rows), dtype="<f4").reshape(len(rows), -1)
    ids, starts, counts = np.unique(person_of, return_index=True, return_counts=True)
    sums = np.add.reduceat(vectors.astype(np.float64), starts, axis=0)
    means = sums / np.maximum(np.linalg.norm(sums, axis=1, keepdims=True), 1e-12)
    briefs = {
        int(pid): PersonBrief(id=int(pid), name=names.get(int(pid)), face_count=int(count))
        for pid, count in zip(ids, counts, strict=True)
    }
    return _People(ids=ids, means=means.astype(np.float32), briefs=briefs)


def same_person_pairs(library: Library, *, limit: int = 50) -> list[SamePersonPair]:
    """Pairs of (shown) people whose mean faces are at least the join threshold minus the review
    margin, most similar first; never two people seen together in one photo, nor a pair the user
    said are different (``mark_distinct``)."""
    model_id, join = _model(library)
    floor = join - review_margin(model_id)
    with library.reading() as conn:
        people = _people_means(conn, model_id)
        distinct = {tuple(row) for row in conn.exec_driver_sql("SELECT person_a, person_b FROM distinct_people")}
        together = _people_seen_together(conn)
    found: list[tuple[float, int, int]] = []
    block = 1024
    for start in range(0, len(people.ids), block):
        similarity = people.means[start : start + block] @ people.means.T
        rows, cols = np.nonzero(similarity >= floor)
        for row, col in zip(rows, cols, strict=True):
            a, b = int(people.ids[start + row]), int(people.ids[col])
            if a < b and (a, b) not in distinct and (a, b) not in together:
                found.append((float(similarity[row, col]), a, b))
    found.sort(key=lambda item: (-item[0], item[1], item[2]))
    pairs = []
    for value, a, b in found[:limit]:
        first, second = sorted((people.briefs[a], people.briefs[b]), key=lambda p: (-p.face_count, p.id))
        pairs.append(SamePersonPair(first=first, second=second, similarity=value))
    return pairs


def _people_seen_together(conn: Connection) -> set[tuple[int, int]]:
    """(a, b) with a < b for people who both have a face in one photo: not the same person."""
    people_in_photo: dict[int, set[int]] = defaultdict(set)
    for photo, person in conn.exec_driver_sql(
        "SELECT f.photo_id, a.person_id FROM faces f JOIN assignments a ON a.face_id = f.id"
    ):
        people_in_photo[photo].add(person)
    together = set()
    for members in people_in_photo.values():
        if len(members) > 1:
            ordered = sorted(members)
            together.update((a, b) for i, a in enumerate(ordered) for b in ordered[i + 1 :])
    return together


def mark_distinct(library: Library, first: PersonKey, second: PersonKey) -> LibraryChange:
    """The user says these two are different people: the pair is not proposed again (undoable)."""
    with journaled(library) as edit:
        a, b = sorted((resolve_person(edit.conn, first), resolve_person(edit.conn, second)))
        if a == b:
            raise LibraryError(f"person {a} is the same person as itself")
        edit.describe(f"{display_name(edit.conn, a)} and {display_name(edit.conn, b)} marked as different people")
        edit.conn.exec_driver_sql(
            "INSERT INTO distinct_people (person_a, person_b, created_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
            (a, b, time.time()),
        )
    return replace(edit.change, person_id=a)


def face_suggestions(library: Library, *, offset: int = 0, limit: int = 100) -> list[FaceSuggestion]:
    """Faces on nobody with the (shown) person each looks most like, most similar first; never a
    person the face was rejected from, nor one already in its photo."""
    model_id, _join = _model(library)
    with library.reading() as conn:
        people = _people_means(conn, model_id)
        faces = conn.exec_driver_sql(
            "SELECT f.id, f.photo_id, p.path, f.x0, f.y0, f.x1, f.y1, f.quality, f.thumbnail, e.vector "
            "FROM faces f JOIN photos p ON p.id = f.photo_id "
            "JOIN embeddings e ON e.face_id = f.id AND e.model_id = ? "
            "WHERE f.id NOT IN (SELECT face_id FROM assignments) ORDER BY f.id",
            (model_id,),
        ).all()
        rejected: dict[int, set[int]] = defaultdict(set)
        for face, person in conn.exec_driver_sql(
            "SELECT face_id, person_id FROM rejections WHERE face_id NOT IN (SELECT face_id FROM assignments)"
        ):
            rejected[face].add(person)
        in_photo: dict[int, set[int]] = defaultdict(set)
        for photo, person in conn.exec_driver_sql(
            "SELECT f.photo_id, a.person_id FROM faces f JOIN assignments a ON a.face_id = f.id "
            "WHERE f.photo_id IN (SELECT photo_id FROM faces WHERE id NOT IN (SELECT face_id FROM assignments))"
        ):
            in_photo[photo].add(person)
        faces = with_usable_vectors(faces, size=vector_size(conn, model_id))
    if not faces or not len(people.ids):
        return []
    vectors = np.frombuffer(b"".join(row.vector for row in faces), dtype="<f4").reshape(len(faces), -1)
    vectors = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    column_of = {int(pid): i for i, pid in enumerate(people.ids)}
    suggestions = []
    for start in range(0, len(faces), 1024):
        similarity = vectors[start : start + 1024] @ people.means.T
        for offset_in_block, row in enumerate(faces[start : start + 1024]):
            scores = similarity[offset_in_block]
            for person in rejected.get(row.id, set()) | in_photo.get(row.photo_id, set()):
                if person in column_of:
                    scores[column_of[person]] = -np.inf
            best = int(np.argmax(scores))
            if not np.isfinite(scores[best]):
                continue
            suggestions.append(
                FaceSuggestion(
                    face_id=row.id,
                    photo_id=row.photo_id,
                    photo_path=Path(row.path),
                    box=(row.x0, row.y0, row.x1, row.y1),
                    quality=row.quality,
                    thumbnail=library.thumbnails_dir / row.thumbnail if row.thumbnail else None,
                    person=people.briefs[int(people.ids[best])],
                    similarity=float(scores[best]),
                )
            )
    suggestions.sort(key=lambda s: (-s.similarity, s.face_id))
    return suggestions[offset : offset + limit]


def repeated_in_photo(library: Library, *, offset: int = 0, limit: int = 100) -> list[RepeatedInPhoto]:
    """Photos where one person has two or more faces (only one of them can be that person), by path."""
    with library.reading() as conn:
        rows = conn.exec_driver_sql(
            "SELECT f.photo_id, p.path, a.person_id, group_concat(f.id) AS faces, pe.name, "
            "(SELECT count(*) FROM assignments WHERE person_id = a.person_id) AS face_count "
            "FROM faces f JOIN assignments a ON a.face_id = f.id JOIN photos p ON p.id = f.photo_id "
            "JOIN people pe ON pe.id = a.person_id "
            "GROUP BY f.photo_id, a.person_id HAVING count(*) > 1 ORDER BY p.path, a.person_id LIMIT ? OFFSET ?",
            (limit, offset),
        ).all()
    return [
        RepeatedInPhoto(
            photo_id=row[0],
            photo_path=Path(row[1]),
            person=PersonBrief(id=row[2], name=row[4], face_count=row[5]),
            face_ids=tuple(sorted(int(face) for face in row[3].split(","))),
        )
        for row in rows
    ]
