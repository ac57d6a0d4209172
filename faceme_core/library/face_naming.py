"""Naming one face from a photo: the single decision behind "who is this?" in the photo view.

- a name of an existing person (case-insensitive, unique): the face is theirs (the user's assignment);
- a new name, and the face sits in an unnamed automatic group: the group is that person (renamed), so
  naming one face names the faces grouped with it;
- a new name otherwise (unassigned, or on someone else who has a name): a new person with that name.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from sqlalchemy import func, select

from faceme_core.errors import LibraryError
from faceme_core.library.db import schema
from faceme_core.library.library import Library
from faceme_core.library.people import _check_name, move_face, rename_person


@dataclass(frozen=True)
class FaceNamed:
    person_id: int
    action: Literal["assigned", "renamed_group", "new_person"]


def name_face(library: Library, face_id: int, name: str) -> FaceNamed:
    name = _check_name(name)
    people, assignments = schema.people, schema.assignments
    with library.reading() as conn:
        if conn.execute(select(schema.faces.c.id).where(schema.faces.c.id == face_id)).first() is None:
            raise LibraryError(f"no face with id {face_id}")
        matches = conn.execute(select(people.c.id).where(func.lower(people.c.name) == name.lower())).scalars().all()
        current = conn.execute(
            select(assignments.c.person_id, people.c.name)
            .join(people, people.c.id == assignments.c.person_id)
            .where(assignments.c.face_id == face_id)
        ).first()
    if len(matches) > 1:
        raise LibraryError(f"several people are named {name!r}: open the one you mean and move the face there")
    if matches:
        return FaceNamed(move_face(library, face_id, matches[0]), "assigned")
    if current is not None and current.name is None:
        rename_person(library, current.person_id, name)
        return FaceNamed(move_face(library, face_id, current.person_id), "renamed_group")
    return FaceNamed(move_face(library, face_id, None, new_name=name), "new_person")
