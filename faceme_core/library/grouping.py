"""Automatic grouping of faces into people: library rows in, ``clustering`` (pure numpy) in the middle.

Only embeddings of one model are ever compared (the library's active model). User decisions are
inputs the algorithms must respect and are never rewritten here: user assignments are locked,
rejections exclude a person, and only "auto" assignments are replaced. Faces of one photo are never
grouped into one person automatically (clustering's cannot-link rule).
"""

from __future__ import annotations

import time
from collections import defaultdict

import numpy as np
from sqlalchemy import Connection, delete, insert, select

from faceme_core.library import clustering
from faceme_core.library.db import schema
from faceme_core.library.db.codec import blob_to_vector, with_usable_vectors


def _face_rows(conn: Connection, model_id: str):
    """Every face with an embedding of ``model_id``, with its current assignment (ordered by face id)."""
    faces, embeddings, assignments = schema.faces, schema.embeddings, schema.assignments
    return with_usable_vectors(conn.execute(
        select(
            faces.c.id, faces.c.photo_id, faces.c.quality, embeddings.c.vector, assignments.c.person_id,
            assignments.c.source,
        )
        .join(embeddings, (embeddings.c.face_id == faces.c.id) & (embeddings.c.model_id == model_id))
        .join(assignments, assignments.c.face_id == faces.c.id, isouter=True)
        .order_by(faces.c.id)
    ).all())


def _has_unassigned(conn: Connection, model_id: str) -> bool:
    embeddings, assignments = schema.embeddings, schema.assignments
    query = (
        select(embeddings.c.face_id)
        .where(embeddings.c.model_id == model_id, embeddings.c.face_id.not_in(select(assignments.c.face_id)))
        .limit(1)
    )
    return conn.execute(query).first() is not None


def _rejections(conn: Connection, row_of_face: dict[int, int]) -> set[tuple[int, int]]:
    rows = conn.execute(select(schema.rejections.c.face_id, schema.rejections.c.person_id)).all()
    return {(row_of_face[r.face_id], r.person_id) for r in rows if r.face_id in row_of_face}


def new_person(conn: Connection, name: str | None = None) -> int:
    return conn.execute(
        insert(schema.people).values(name=name, hidden=False, created_at=time.time())
    ).inserted_primary_key[0]


def _assign(conn: Connection, pairs: list[tuple[int, int]], source: str) -> None:
    if pairs:
        now = time.time()
        conn.execute(
            insert(schema.assignments),
            [
                dict(face_id=face_id, person_id=person_id, source=source, assigned_at=now)
                for face_id, person_id in pairs
            ],
        )


def assign_new_faces(conn: Connection, model_id: str) -> int:
    """Unassigned faces join the nearest person within the model's threshold (never one they were
    rejected from); the rest are grouped by the density rule into new people or stay unassigned.
    Returns the number of people created."""
    if not _has_unassigned(conn, model_id):  # the common re-scan case: no vector is loaded
        return 0
    rows = _face_rows(conn, model_id)
    pending = [row for row in rows if row.person_id is None]
    if not pending:  # only damaged embeddings were unassigned
        return 0
    params = clustering.params_for_model(model_id)
    members: dict[int, list[np.ndarray]] = defaultdict(list)
    for row in rows:
        if row.person_id is not None:
            members[row.person_id].append(blob_to_vector(row.vector))
    people = {person_id: np.stack(vectors) for person_id, vectors in members.items()}
    vectors = np.stack([blob_to_vector(row.vector) for row in pending])
    photos = np.array([row.photo_id for row in pending])
    rejected = _rejections(conn, {row.id: index for index, row in enumerate(pending)})
    # Cannot-link: a face never joins a person who already has a face in its photo.
    people_in_photo: dict[int, set[int]] = defaultdict(set)
    for row in rows:
        if row.person_id is not None:
            people_in_photo[row.photo_id].add(row.person_id)
    rejected |= {(index, pid) for index, row in enumerate(pending) for pid in people_in_photo.get(row.photo_id, ())}

    quality = np.array([row.quality for row in pending], dtype=np.float32)
    choices = clustering.assign_to_people(vectors, people, params, rejected, photos, quality)
    _assign(
        conn, [(row.id, person) for row, person in zip(pending, choices, strict=True) if person is not None], "auto"
    )

    left = [index for index, person in enumerate(choices) if person is None]
    if not left:
        return 0
    labels = clustering.group_unassigned(vectors[left], params, photos=photos[left], quality=quality[left])
    created = 0
    pairs = []
    for label in sorted({int(label) for label in labels if label >= 0}):
        person_id = new_person(conn)
        created += 1
        pairs += [(pending[left[i]].id, person_id) for i, value in enumerate(labels) if value == label]
    _assign(conn, pairs, "auto")
    return created


def recluster_all(conn: Connection, model_id: str) -> int:
    """Group every face again from scratch, keeping user assignments, rejections, names and
    merges. New groups keep the id (so the name, cover and references) of the person they overlap
    most (``clustering.keep_person_ids``). Returns the number of people created."""
    rows = _face_rows(conn, model_id)
    if not rows:
        return 0
    params = clustering.params_for_model(model_id)
    vectors = np.stack([blob_to_vector(row.vector) for row in rows])
    pinned = _pinned_faces(conn)
    locked = {
        index: row.person_id
        for index, row in enumerate(rows)
        if row.source == "user" or (row.id, row.person_id) in pinned
    }
    rejected = _rejections(conn, {row.id: index for index, row in enumerate(rows)})
    photos = np.array([row.photo_id for row in rows])
    quality = np.array([row.quality for row in rows], dtype=np.float32)
    labels = [
        int(label) for label in clustering.recluster(vectors, locked, rejected, params, photos=photos, quality=quality)
    ]

    current = {index: row.person_id for index, row in enumerate(rows) if row.person_id is not None}
    person_of_label = clustering.keep_person_ids(np.asarray(labels), locked, current, rejected)
    rejected_people: dict[int, set[int]] = defaultdict(set)
    for index, person_id in rejected:
        rejected_people[index].add(person_id)
    clusters: dict[int, list[int]] = defaultdict(list)
    for index, label in enumerate(labels):
        if label >= 0 and index not in locked:
            clusters[label].append(index)

    auto_faces = [row.id for index, row in enumerate(rows) if index not in locked]
    for start in range(0, len(auto_faces), 500):
        chunk = auto_faces[start : start + 500]
        conn.execute(delete(schema.assignments).where(schema.assignments.c.face_id.in_(chunk)))
    created = 0
    pairs = []
    for label in sorted(clusters):
        if label not in person_of_label:
            person_of_label[label] = new_person(conn)
            created += 1
        person_id = person_of_label[label]
        pairs += [(rows[i].id, person_id) for i in clusters[label] if person_id not in rejected_people[i]]
    _assign(conn, pairs, "auto")
    remove_empty_people(conn)
    return created


def _pinned_faces(conn: Connection) -> set[tuple[int, int]]:
    """(face, person) pairs the user picked as the person's reference or cover. Newer libraries
    record these as user assignments too; older ones may hold them as "auto", and a regrouping must
    not carry such a face (with the person's references and cover) off to someone else."""
    refs, people = schema.person_refs, schema.people
    pairs = conn.execute(select(refs.c.face_id, refs.c.person_id).where(refs.c.face_id.is_not(None))).all()
    pairs += conn.execute(select(people.c.cover_face_id, people.c.id).where(people.c.cover_face_id.is_not(None))).all()
    return {(face_id, person_id) for face_id, person_id in pairs}


def remove_empty_people(conn: Connection) -> int:
    """Forget people automation made and left empty; anything the user touched (a name, a
    reference, hiding) is kept."""
    people, assignments, refs = schema.people, schema.assignments, schema.person_refs
    empty = (
        conn.execute(
            select(people.c.id).where(
                people.c.name.is_(None),
                people.c.hidden.is_(False),
                people.c.id.not_in(select(assignments.c.person_id)),
                people.c.id.not_in(select(refs.c.person_id)),
            )
        )
        .scalars()
        .all()
    )
    if empty:
        conn.execute(delete(people).where(people.c.id.in_(empty)))
    return len(empty)
