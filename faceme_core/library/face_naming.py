"""Naming one face from a photo: the single decision behind "who is this?" in the photo view.

- a name of an existing person (case-insensitive, unique): the face is theirs (the user's assignment);
- a new name, and the face sits in an unnamed automatic group: the group is that person (renamed), so
  naming one face names the faces grouped with it;
- a new name otherwise (unassigned, or on someone else who has a name): a new person with that name.

One journaled edit: a single Undo takes all of it back.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

from sqlalchemy import func, select, update

from faceme_core.errors import LibraryError
from faceme_core.library import grouping
from faceme_core.library.changes import LibraryChange
from faceme_core.library.db import schema
from faceme_core.library.library import Library
from faceme_core.library.people import (
    _check_face,
    _check_name,
    _current_person,
    _drop_face_from_person,
    _set_user_assignment,
)
from faceme_core.library.undo import journaled

NameAction = Literal["assigned", "renamed_group", "new_person"]


@dataclass(frozen=True)
class FaceNamed:
    action: NameAction
    change: LibraryChange  # change.person_id: who the face is now


def name_face(library: Library, face_id: int, name: str) -> FaceNamed:
    name = _check_name(name)
    people = schema.people
    with journaled(library) as edit:
        conn = edit.conn
        _check_face(conn, face_id)
        matches = conn.execute(select(people.c.id).where(func.lower(people.c.name) == name.lower())).scalars().all()
        if len(matches) > 1:
            raise LibraryError(f"several people are named {name!r}: open the one you mean and move the face there")
        previous = _current_person(conn, face_id)
        previous_name = (
            conn.execute(select(people.c.name).where(people.c.id == previous)).scalar_one_or_none()
            if previous is not None
            else None
        )
        action: NameAction
        if matches:
            person_id, action = matches[0], "assigned"
        elif previous is not None and previous_name is None:
            conn.execute(update(people).where(people.c.id == previous).values(name=name))
            person_id, action = previous, "renamed_group"
        else:
            person_id, action = grouping.new_person(conn, name), "new_person"
        _set_user_assignment(conn, face_id, person_id)
        if previous is not None and previous != person_id:
            _drop_face_from_person(conn, face_id, previous)
        grouping.remove_empty_people(conn)
        edit.describe(f"naming of face {face_id} as {name}")
    return FaceNamed(action, replace(edit.change, person_id=person_id))
