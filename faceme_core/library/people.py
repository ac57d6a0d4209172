"""People: listing them and the user's decisions (rename, merge, move, reject, hide, cover, recluster).

Every decision is one transaction and is recorded as the user's ("user" assignments, rejections),
so automatic grouping never undoes it. People are addressed by id or by unique name (``resolve_person``).
"""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import replace
from pathlib import Path

from sqlalchemy import Connection, delete, func, select, update
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from faceme_core.errors import LibraryError
from faceme_core.library import grouping
from faceme_core.library.changes import LibraryChange
from faceme_core.library.db import schema
from faceme_core.library.ids import in_range, looks_like_id
from faceme_core.library.library import Library
from faceme_core.library.types import FaceInfo, Person, person_label
from faceme_core.library.undo import journaled

PersonKey = int | str


# --- queries --------------------------------------------------------------------------------------


def resolve_person(conn: Connection, key: PersonKey) -> int:
    """A person's id from an id (int or digits) or a unique name (case-insensitive)."""
    people = schema.people
    text = str(key).strip()
    if looks_like_id(text):
        person_id = (
            conn.execute(select(people.c.id).where(people.c.id == int(text))).scalar_one_or_none()
            if in_range(int(text))
            else None
        )
        if person_id is None:
            raise LibraryError(f"no person with id {text}", action="list_people")
        return person_id
    matches = (
        conn.execute(select(people.c.id).where(func.lower(people.c.name) == text.lower()).order_by(people.c.id))
        .scalars()
        .all()
    )
    if not matches:
        raise LibraryError(f"no person named {text!r}", action="list_people")
    if len(matches) > 1:
        ids = ", ".join(str(m) for m in matches)
        raise LibraryError(f"several people are named {text!r} (ids {ids}): use the id, or rename one")
    return matches[0]


def _face_infos(conn: Connection, library: Library, where=None) -> list[FaceInfo]:
    faces, photos, assignments = schema.faces, schema.photos, schema.assignments
    query = (
        select(
            faces.c.id,
            faces.c.photo_id,
            faces.c.x0,
            faces.c.y0,
            faces.c.x1,
            faces.c.y1,
            faces.c.quality,
            faces.c.thumbnail,
            photos.c.path,
            photos.c.status,
            assignments.c.person_id,
            assignments.c.source,
        )
        .join(photos, photos.c.id == faces.c.photo_id)
        .join(assignments, assignments.c.face_id == faces.c.id, isouter=True)
        .order_by(photos.c.path, faces.c.id)
    )
    if where is not None:
        query = query.where(where)
    return [
        FaceInfo(
            id=row.id,
            photo_id=row.photo_id,
            photo_path=Path(row.path),
            photo_status=row.status,
            box=(row.x0, row.y0, row.x1, row.y1),
            quality=row.quality,
            person_id=row.person_id,
            assigned_by=row.source,
            thumbnail=library.thumbnails_dir / row.thumbnail if row.thumbnail else None,
        )
        for row in conn.execute(query)
    ]


def list_people(library: Library, *, include_hidden: bool = True) -> list[Person]:
    """Every person with their faces (photo path, box, who assigned them), by id."""
    people, refs = schema.people, schema.person_refs
    with library.reading() as conn:
        faces_of = defaultdict(list)
        for face in _face_infos(conn, library, schema.assignments.c.person_id.is_not(None)):
            faces_of[face.person_id].append(face)
        ref_counts = dict(conn.execute(select(refs.c.person_id, func.count()).group_by(refs.c.person_id)).all())
        query = select(people).order_by(people.c.id)
        if not include_hidden:
            query = query.where(people.c.hidden.is_(False))
        return [
            Person(
                id=row.id,
                name=row.name,
                hidden=bool(row.hidden),
                cover_face_id=row.cover_face_id,
                faces=tuple(faces_of[row.id]),
                reference_count=ref_counts.get(row.id, 0),
            )
            for row in conn.execute(query)
        ]


def get_person(library: Library, key: PersonKey) -> Person:
    with library.reading() as conn:
        person_id = resolve_person(conn, key)
    return next(person for person in list_people(library) if person.id == person_id)


def namesakes(library: Library, person_id: int) -> list[int]:
    """Other people with this person's name, compared as lookups compare names (ignoring case):
    once there are any, the name alone no longer finds one person."""
    people = schema.people
    with library.reading() as conn:
        name = conn.execute(select(people.c.name).where(people.c.id == person_id)).scalar_one_or_none()
        if name is None:
            return []
        return (
            conn.execute(
                select(people.c.id)
                .where(func.lower(people.c.name) == name.lower(), people.c.id != person_id)
                .order_by(people.c.id)
            )
            .scalars()
            .all()
        )


def unassigned_faces(library: Library) -> list[FaceInfo]:
    with library.reading() as conn:
        return _face_infos(conn, library, schema.assignments.c.person_id.is_(None))


def _check_face(conn: Connection, face_id: int) -> None:
    found = in_range(int(face_id)) and conn.execute(
        select(schema.faces.c.id).where(schema.faces.c.id == int(face_id))
    ).scalar_one_or_none()
    if not found:
        raise LibraryError(f"no face with id {face_id}", action="list_people")


def _current_person(conn: Connection, face_id: int) -> int | None:
    return conn.execute(
        select(schema.assignments.c.person_id).where(schema.assignments.c.face_id == face_id)
    ).scalar_one_or_none()


def _check_name(name: str) -> str:
    name = name.strip()
    if not name:
        raise LibraryError("a person's name cannot be empty")
    if looks_like_id(name):
        raise LibraryError(f"name {name!r}: a name cannot be only digits (those address people by id)")
    return name


# --- decisions ------------------------------------------------------------------------------------


def display_name(conn: Connection, person_id: int) -> str:
    """The person's name, or "person ID" for an unnamed one (how decisions are described)."""
    name = conn.execute(select(schema.people.c.name).where(schema.people.c.id == person_id)).scalar_one_or_none()
    return person_label(person_id, name)


def _faces_words(face_ids: list[int]) -> str:
    return f"face {face_ids[0]}" if len(face_ids) == 1 else f"{len(face_ids)} faces"


def rename_person(library: Library, key: PersonKey, name: str) -> LibraryChange:
    name = _check_name(name)
    with journaled(library) as edit:
        person_id = resolve_person(edit.conn, key)
        edit.describe(f"rename of {display_name(edit.conn, person_id)} to {name}")
        edit.conn.execute(update(schema.people).where(schema.people.c.id == person_id).values(name=name))
    return replace(edit.change, person_id=person_id)


def create_person(library: Library, name: str | None = None) -> LibraryChange:
    with journaled(library) as edit:
        person_id = grouping.new_person(edit.conn, _check_name(name) if name is not None else None)
        edit.describe(f"creation of {display_name(edit.conn, person_id)}")
    return replace(edit.change, person_id=person_id)


def _set_user_assignment(conn: Connection, face_id: int, person_id: int) -> None:
    statement = sqlite_insert(schema.assignments).values(
        face_id=face_id, person_id=person_id, source="user", assigned_at=time.time()
    )
    conn.execute(
        statement.on_conflict_do_update(
            index_elements=["face_id"], set_={"person_id": person_id, "source": "user", "assigned_at": time.time()}
        )
    )
    # The user now says the face *is* this person: an older "not this person" no longer holds.
    conn.execute(
        delete(schema.rejections).where(
            schema.rejections.c.face_id == face_id, schema.rejections.c.person_id == person_id
        )
    )


def pin_face(conn: Connection, face_id: int, person_id: int) -> None:
    """The user picked this face of the person (as a reference or cover): that says the face is
    them, so it becomes the user's assignment and no regrouping moves it away from its references."""
    source = conn.execute(
        select(schema.assignments.c.source).where(
            schema.assignments.c.face_id == face_id, schema.assignments.c.person_id == person_id
        )
    ).scalar_one_or_none()
    if source != "user":
        _set_user_assignment(conn, face_id, person_id)


def merge_people(library: Library, target: PersonKey, sources: list[PersonKey]) -> LibraryChange:
    """Fold ``sources`` into ``target``: their faces (now the user's assignments), references and
    rejections move; the target keeps its name (or takes the first source's if it had none)."""
    people, assignments = schema.people, schema.assignments
    with journaled(library) as edit:
        conn = edit.conn
        target_id = resolve_person(conn, target)
        source_ids = [resolve_person(conn, key) for key in sources]
        if not source_ids:
            raise LibraryError("merge: name at least one person to merge into the target")
        if target_id in source_ids:
            raise LibraryError(f"merge: person {target_id} cannot be merged into itself")
        source_names = " and ".join(display_name(conn, person_id) for person_id in source_ids)
        edit.describe(f"merge of {source_names} into {display_name(conn, target_id)}")
        involved = [target_id, *source_ids]
        face_ids = (
            conn.execute(select(assignments.c.face_id).where(assignments.c.person_id.in_(involved))).scalars().all()
        )
        # "Not the target" still holds: such a face of a source leaves the merged person (unassigned).
        refused = set(
            conn.execute(
                select(schema.rejections.c.face_id).where(
                    schema.rejections.c.person_id == target_id, schema.rejections.c.face_id.in_(face_ids)
                )
            ).scalars()
        )
        for face_id in refused:
            conn.execute(delete(assignments).where(assignments.c.face_id == face_id))
            for person_id in source_ids:
                _drop_face_from_person(conn, face_id, person_id)
        # A merge says all these faces are one person: lock them so a re-cluster keeps them together.
        # One statement for them all (a merge of two large people moves thousands of faces); none of
        # them is rejected from the target (those were refused above), so no rejection to lift.
        merged = [face_id for face_id in face_ids if face_id not in refused]
        conn.execute(
            update(assignments)
            .where(assignments.c.person_id.in_(involved), assignments.c.face_id.not_in(sorted(refused)))
            .values(person_id=target_id, source="user", assigned_at=time.time())
        )
        conn.execute(
            update(schema.person_refs).where(schema.person_refs.c.person_id.in_(source_ids)).values(person_id=target_id)
        )
        # "Not S" becomes "not the merged person", except for faces the merge itself puts there.
        rejected = conn.execute(select(schema.rejections).where(schema.rejections.c.person_id.in_(source_ids))).all()
        merged_set = set(merged)
        for row in (r for r in rejected if r.face_id not in merged_set):
            conn.execute(
                sqlite_insert(schema.rejections)
                .values(face_id=row.face_id, person_id=target_id, created_at=row.created_at)
                .on_conflict_do_nothing()
            )
        target_row = conn.execute(select(people).where(people.c.id == target_id)).one()
        if target_row.name is None:
            names = (
                conn.execute(
                    select(people.c.name)
                    .where(people.c.id.in_(source_ids), people.c.name.is_not(None))
                    .order_by(people.c.id)
                )
                .scalars()
                .all()
            )
            if names:
                conn.execute(update(people).where(people.c.id == target_id).values(name=names[0]))
        if target_row.cover_face_id is None:
            covers = (
                conn.execute(
                    select(people.c.cover_face_id).where(
                        people.c.id.in_(source_ids), people.c.cover_face_id.is_not(None)
                    )
                )
                .scalars()
                .all()
            )
            if covers:
                conn.execute(update(people).where(people.c.id == target_id).values(cover_face_id=covers[0]))
        conn.execute(delete(people).where(people.c.id.in_(source_ids)))
    return replace(edit.change, person_id=target_id)


def move_face(
    library: Library, face_id: int, to: PersonKey | None, *, new_name: str | None = None
) -> LibraryChange:
    """Put a face on another person (``to``) or on a new one (``to=None``, optionally named); the
    assignment is the user's. The change's ``person_id`` is where the face went."""
    return move_faces(library, [face_id], to, new_name=new_name)


def move_faces(
    library: Library, face_ids: list[int], to: PersonKey | None, *, new_name: str | None = None
) -> LibraryChange:
    """``move_face`` for several faces at once, all or none: every face and the person are checked
    before anything changes, in one transaction."""
    if not face_ids:
        raise LibraryError("move: name at least one face")
    with journaled(library) as edit:
        conn = edit.conn
        for face_id in face_ids:
            _check_face(conn, face_id)
        if to is None:
            person_id = grouping.new_person(conn, _check_name(new_name) if new_name is not None else None)
        else:
            person_id = resolve_person(conn, to)
        where = display_name(conn, person_id)
        edit.describe(f"move of {_faces_words(face_ids)} to {f'a new person ({where})' if to is None else where}")
        for face_id in face_ids:
            previous = _current_person(conn, face_id)
            _set_user_assignment(conn, face_id, person_id)
            if previous is not None and previous != person_id:
                _drop_face_from_person(conn, face_id, previous)
        grouping.remove_empty_people(conn)
    return replace(edit.change, person_id=person_id)


def _drop_face_from_person(conn: Connection, face_id: int, person_id: int) -> None:
    """The face left the person: it can no longer be their cover or an album reference of theirs."""
    people, refs = schema.people, schema.person_refs
    conn.execute(
        update(people).where(people.c.id == person_id, people.c.cover_face_id == face_id).values(cover_face_id=None)
    )
    conn.execute(delete(refs).where(refs.c.person_id == person_id, refs.c.face_id == face_id))


def reject_face(library: Library, face_id: int, person: PersonKey | None = None) -> LibraryChange:
    """ "Not this person": the face leaves the person (default: its current one) and automation will
    never put it back there. The change's ``person_id`` is the person rejected."""
    return reject_faces(library, [face_id], person)


def reject_faces(library: Library, face_ids: list[int], person: PersonKey | None = None) -> LibraryChange:
    """``reject_face`` for several faces at once, all or none (checked first, one transaction).
    The change's ``person_id`` is the person rejected when it is one for all the faces."""
    if not face_ids:
        raise LibraryError("reject: name at least one face")
    with journaled(library) as edit:
        conn = edit.conn
        named = resolve_person(conn, person) if person is not None else None
        targets = []
        for face_id in face_ids:
            _check_face(conn, face_id)
            current = _current_person(conn, face_id)
            person_id = named if named is not None else current
            if person_id is None:
                raise LibraryError(f"face {face_id} belongs to nobody", setting="person",
                                   hint="say which person it is not")
            targets.append((face_id, current, person_id))
        rejected = sorted({person_id for _face, _current, person_id in targets})
        names = " and ".join(display_name(conn, person_id) for person_id in rejected)
        edit.describe(f'"not {names}" for {_faces_words(face_ids)}')
        for face_id, current, person_id in targets:
            conn.execute(
                sqlite_insert(schema.rejections)
                .values(face_id=face_id, person_id=person_id, created_at=time.time())
                .on_conflict_do_nothing()
            )
            if current == person_id:
                conn.execute(delete(schema.assignments).where(schema.assignments.c.face_id == face_id))
                _drop_face_from_person(conn, face_id, person_id)
    return replace(edit.change, person_id=rejected[0] if len(rejected) == 1 else None)


def set_hidden(library: Library, key: PersonKey, hidden: bool) -> LibraryChange:
    with journaled(library) as edit:
        person_id = resolve_person(edit.conn, key)
        edit.describe(f"{'hiding' if hidden else 'showing'} of {display_name(edit.conn, person_id)}")
        edit.conn.execute(update(schema.people).where(schema.people.c.id == person_id).values(hidden=hidden))
    return replace(edit.change, person_id=person_id)


def set_cover(library: Library, key: PersonKey, face_id: int) -> LibraryChange:
    with journaled(library) as edit:
        conn = edit.conn
        person_id = resolve_person(conn, key)
        edit.describe(f"new cover (face {face_id}) for {display_name(conn, person_id)}")
        _check_face(conn, face_id)
        if _current_person(conn, face_id) != person_id:
            raise LibraryError(f"face {face_id} is not one of person {person_id}'s faces: move it there first")
        pin_face(conn, int(face_id), person_id)
        conn.execute(update(schema.people).where(schema.people.c.id == person_id).values(cover_face_id=face_id))
    return replace(edit.change, person_id=person_id)


def recluster(library: Library) -> LibraryChange:
    """Regroup every face from scratch with the library's model, keeping every user decision
    (and undoable like one)."""
    from faceme_core.library.scan import ACTIVE_MODEL_KEY

    model_id = library.get_meta(ACTIVE_MODEL_KEY)
    if model_id is None:
        raise LibraryError("the library has no faces yet", hint="scan a folder first", action="scan")
    with journaled(library) as edit:
        edit.describe("regrouping of all faces")
        grouping.recluster_all(edit.conn, model_id)
    return edit.change
