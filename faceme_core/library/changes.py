"""What an edit changed, so a view refreshes only that (``LibraryChange``), and the library's
revision, so a view knows to refresh at all (``Library.revision``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable

from sqlalchemy import Connection, select

from faceme_core.library.db import schema


@dataclass(frozen=True)
class LibraryChange:
    """The people and faces one edit (or its undo or redo) touched.

    people_changed: people still there whose name, cover, hidden flag, faces, rejections or
        references changed (a view reloads these cards and pages).
    people_removed: people the edit removed (a merge's sources, a person left empty).
    faces_changed: faces whose person, rejections or reference use changed.
    photos_changed: the photos holding those faces (their face boxes change colour or name).
    person_id: the person the edit was about (the renamed one, the merge target, where faces
        were moved, who a face was rejected from, whose reference changed), for messages; None
        when there is no single one (an undo, a regrouping, rejections from several people).
    reference_id: the reference an add created (or found already there).
    """

    people_changed: frozenset[int] = frozenset()
    people_removed: frozenset[int] = frozenset()
    faces_changed: frozenset[int] = frozenset()
    photos_changed: frozenset[int] = frozenset()
    person_id: int | None = field(default=None, compare=False)
    reference_id: int | None = field(default=None, compare=False)

    @property
    def is_empty(self) -> bool:
        return not (self.people_changed or self.people_removed or self.faces_changed or self.photos_changed)


NO_CHANGE = LibraryChange()

# Where each journaled table's rows name people and a face,
# as positions in migrations.JOURNALED_COLUMNS.
_PERSON_COLUMNS = {
    "people": (0,),
    "assignments": (1,),
    "rejections": (1,),
    "person_refs": (1,),
    "distinct_people": (0, 1),
}
_FACE_COLUMN = {"assignments": 0, "rejections": 0, "person_refs": 2}


# Positions of each journaled table's primary key, and of the times it records (when a row was made:
# a row deleted and made again with the same content but a new time is no change to a view).
_KEY_COLUMNS = {
    "people": (0,),
    "assignments": (0,),
    "rejections": (0, 1),
    "person_refs": (0,),
    "distinct_people": (0, 1),
}
_TIME_COLUMN = {"people": 4, "assignments": 3, "rejections": 2, "person_refs": 4, "distinct_people": 2}

Row = tuple[str, tuple, tuple]  # table, old values (empty for an insert), new values (empty for a delete)


def net_rows(rows: Iterable[Row]) -> list[Row]:
    """Each changed row once, from its first old image to its last new one, leaving out rows that
    end as they began (a regrouping deletes and re-inserts every automatic assignment)."""
    first_old: dict[tuple, tuple] = {}
    last_new: dict[tuple, tuple] = {}
    for table, old, new in rows:
        key = (table, *(values[i] for values in (old or new,) for i in _KEY_COLUMNS[table]))
        first_old.setdefault(key, old)
        last_new[key] = new
    net = []
    for key, old in first_old.items():
        table, new = key[0], last_new[key]
        if _without_time(table, old) != _without_time(table, new):
            net.append((table, old, new))
    return net


def _without_time(table: str, values: tuple) -> tuple:
    return tuple(v for i, v in enumerate(values) if i != _TIME_COLUMN[table])


def change_of_rows(conn: Connection, rows: Iterable[Row]) -> LibraryChange:
    """The change described by journal rows (table name, old values, new values; a side is empty
    for an insert or a delete), read against the database as it is now (after the edit)."""
    people: set[int] = set()
    faces: set[int] = set()
    for table, old, new in net_rows(rows):
        for values in (old, new):
            if not values:
                continue
            for column in _PERSON_COLUMNS[table]:
                if values[column] is not None:
                    people.add(int(values[column]))
            face_column = _FACE_COLUMN.get(table)
            if face_column is not None and values[face_column] is not None:
                faces.add(int(values[face_column]))
    existing = set(_existing(conn, schema.people.c.id, people))
    photos = set(_existing(conn, schema.faces.c.photo_id, faces, key=schema.faces.c.id))
    return LibraryChange(
        people_changed=frozenset(existing),
        people_removed=frozenset(people - existing),
        faces_changed=frozenset(faces),
        photos_changed=frozenset(photos),
    )


def _existing(conn: Connection, column, ids: set[int], *, key=None) -> list[int]:
    """``column`` of the rows whose ``key`` (default: ``column``) is in ``ids``, in chunks (SQLite
    limits the number of bound parameters)."""
    key = column if key is None else key
    found: list[int] = []
    ordered = sorted(ids)
    for start in range(0, len(ordered), 500):
        chunk = ordered[start : start + 500]
        found += conn.execute(select(column).where(key.in_(chunk)).distinct()).scalars().all()
    return found
