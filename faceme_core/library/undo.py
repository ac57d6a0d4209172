"""Undo and redo of the user's decisions about people and references, kept in the library.

Every decision (rename, merge, move, reject, hide, cover, reference add/remove, regrouping) runs
inside ``journaled``: database triggers (migration 4) record the old and new image of every row of
``people``, ``assignments``, ``rejections``, ``person_refs`` and ``distinct_people`` the edit changed, foreign-key
cascades included, in the edit's own transaction. Undo writes the old images back (last row first),
redo the new ones; both are one transaction. The journal is in the database, so it survives a
restart, and it is a stack: undo takes the newest decision, and a new decision clears the redo side.

What was undone can meet a library that changed since (a scan removed a face): rows that would name
a face or person no longer there are left out rather than failing the whole undo.
"""

from __future__ import annotations

import time
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterator, Literal

from sqlalchemy import Connection

from faceme_core.library.changes import NO_CHANGE, LibraryChange, Row, change_of_rows, net_rows
from faceme_core.library.db.migrations import JOURNALED_COLUMNS
from faceme_core.library.library import Library

# Decisions kept for undo; older ones are forgotten (a regrouping of a large album records a row per face).
MAX_ENTRIES = 200

_PRIMARY_KEY = {
    "people": ("id",),
    "assignments": ("face_id",),
    "rejections": ("face_id", "person_id"),
    "person_refs": ("id",),
    "distinct_people": ("person_a", "person_b"),
}
# Columns naming a face or people that must exist; for faces (column, required): an optional face
# that is gone becomes NULL.
_FACE_COLUMNS = {
    "people": ("cover_face_id", False),
    "assignments": ("face_id", True),
    "rejections": ("face_id", True),
    "person_refs": ("face_id", True),
}
_PERSON_COLUMNS = {
    "assignments": ("person_id",),
    "rejections": ("person_id",),
    "person_refs": ("person_id",),
    "distinct_people": ("person_a", "person_b"),
}


@dataclass(frozen=True)
class UndoResult:
    description: str  # the decision undone or redone, in plain words ("merge of Rose into Grandma")
    change: LibraryChange


@dataclass(frozen=True)
class UndoState:
    """What Undo and Redo would do now (None: nothing), for menu items ("Undo merge of ...")."""

    undo: str | None
    redo: str | None


class Edit:
    """One journaled decision in progress: run it on ``conn``, name it with ``describe``."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.description = "change"
        self.change: LibraryChange = NO_CHANGE

    def describe(self, description: str) -> None:
        self.description = description


@contextmanager
def journaled(library: Library) -> Iterator[Edit]:
    """One decision, in one transaction, recorded for undo. ``edit.change`` holds what it changed
    once the block is done. A decision that changed nothing is not recorded (nor clears redo)."""
    with library.transaction() as conn:
        entry_id = conn.exec_driver_sql(
            "INSERT INTO undo_entries (description, state, created_at) VALUES ('', 'recording', ?)", (time.time(),)
        ).lastrowid
        edit = Edit(conn)
        yield edit
        rows = _entry_rows(conn, entry_id)
        if not net_rows(rows):  # nothing changed (a rename to the same name): nothing to undo
            conn.exec_driver_sql("DELETE FROM undo_entries WHERE id = ?", (entry_id,))
        else:
            conn.exec_driver_sql("DELETE FROM undo_entries WHERE state = 'undone'")
            conn.exec_driver_sql(
                "UPDATE undo_entries SET state = 'done', description = ? WHERE id = ?", (edit.description, entry_id)
            )
            conn.exec_driver_sql(
                "DELETE FROM undo_entries WHERE state = 'done' AND id NOT IN "
                "(SELECT id FROM undo_entries WHERE state = 'done' ORDER BY id DESC LIMIT ?)",
                (MAX_ENTRIES,),
            )
        edit.change = change_of_rows(conn, rows)
    library.note_edit()


def undo(library: Library) -> UndoResult | None:
    """Undo the newest decision still done; None when there is nothing to undo."""
    return _step(library, "undo")


def redo(library: Library) -> UndoResult | None:
    """Redo the decision undone last; None when there is nothing to redo (or a new decision came since)."""
    return _step(library, "redo")


def state(library: Library) -> UndoState:
    with library.reading() as conn:
        return UndoState(undo=_next(conn, "undo")[1], redo=_next(conn, "redo")[1])


def _next(conn: Connection, direction: Literal["undo", "redo"]) -> tuple[int | None, str | None]:
    query = (
        "SELECT id, description FROM undo_entries WHERE state = 'done' ORDER BY id DESC LIMIT 1"
        if direction == "undo"
        else "SELECT id, description FROM undo_entries WHERE state = 'undone' ORDER BY id LIMIT 1"
    )
    row = conn.exec_driver_sql(query).first()
    return (row[0], row[1]) if row else (None, None)


def _step(library: Library, direction: Literal["undo", "redo"]) -> UndoResult | None:
    with library.transaction() as conn:
        entry_id, description = _next(conn, direction)
        if entry_id is None:
            return None
        rows = _entry_rows(conn, entry_id)
        _apply(conn, rows, direction)
        conn.exec_driver_sql(
            "UPDATE undo_entries SET state = ? WHERE id = ?", ("undone" if direction == "undo" else "done", entry_id)
        )
        change = change_of_rows(conn, rows)
    library.note_edit()
    return UndoResult(description=description, change=change)


def _entry_rows(conn: Connection, entry_id: int) -> list[Row]:
    rows = []
    for row in conn.exec_driver_sql(
        "SELECT table_name, op, o1, o2, o3, o4, o5, n1, n2, n3, n4, n5 FROM undo_rows WHERE entry_id = ? ORDER BY seq",
        (entry_id,),
    ):
        table, op, width = row[0], row[1], len(JOURNALED_COLUMNS[row[0]])
        old = tuple(row[2 : 2 + width]) if op != "insert" else ()
        new = tuple(row[7 : 7 + width]) if op != "delete" else ()
        rows.append((table, old, new))
    return rows


def _apply(conn: Connection, rows: list[Row], direction: Literal["undo", "redo"]) -> None:
    """Put each row's old image (undo, newest row first) or new image (redo, in order) back."""
    cursor = conn.connection.cursor()  # the transaction's own connection: plain execute, fast for many rows
    people = {row[0] for row in cursor.execute("SELECT id FROM people")}
    faces: set[int] | None = None
    ordered = reversed(rows) if direction == "undo" else rows
    for table, old, new in ordered:
        current, wanted = (new, old) if direction == "undo" else (old, new)
        columns = JOURNALED_COLUMNS[table]
        key_columns = _PRIMARY_KEY[table]
        if not wanted:
            values = dict(zip(columns, current))
            cursor.execute(_delete_sql(table), tuple(values[c] for c in key_columns))
            if table == "people":
                people.discard(values["id"])
            continue
        values = dict(zip(columns, wanted))
        if faces is None:
            faces = {row[0] for row in cursor.execute("SELECT id FROM faces")}
        if not _still_valid(table, values, people, faces):
            cursor.execute(_delete_sql(table), tuple(values[c] for c in key_columns))
            continue
        cursor.execute(_upsert_sql(table), tuple(values[c] for c in columns))
        if table == "people":
            people.add(values["id"])
    cursor.close()


def _still_valid(table: str, values: dict, people: set[int], faces: set[int]) -> bool:
    """Whether the row can be written now; an optional face that is gone is dropped from it."""
    if any(values[column] not in people for column in _PERSON_COLUMNS.get(table, ())):
        return False
    if table not in _FACE_COLUMNS:
        return True
    face_column, required = _FACE_COLUMNS[table]
    if values[face_column] is not None and values[face_column] not in faces:
        if required:
            return False
        values[face_column] = None
    return True


def _delete_sql(table: str) -> str:
    return f"DELETE FROM {table} WHERE " + " AND ".join(f"{c} = ?" for c in _PRIMARY_KEY[table])


def _upsert_sql(table: str) -> str:
    # ON CONFLICT DO UPDATE, never INSERT OR REPLACE: a replace deletes the row first, and deleting
    # a person cascades to their faces' assignments.
    columns = JOURNALED_COLUMNS[table]
    keys = _PRIMARY_KEY[table]
    updates = ", ".join(f"{c} = excluded.{c}" for c in columns if c not in keys)
    return (
        f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)}) "
        f"ON CONFLICT ({', '.join(keys)}) DO " + (f"UPDATE SET {updates}" if updates else "NOTHING")
    )
