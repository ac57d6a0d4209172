"""Schema versions as an ordered list of migration steps keyed on ``PRAGMA user_version``.

Step N upgrades a version N-1 database to version N. Opening a library runs the missing steps in one
transaction each (an interrupted upgrade leaves the previous version intact); a library written by a
newer FaceMe is refused rather than damaged. Never edit a released step: append a new one.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from sqlalchemy import Connection

from faceme_core.errors import LibraryError


def _v1_photos_faces_people(conn: Connection) -> None:
    # AUTOINCREMENT: ids users see (faces, people, references, jobs) are never reused after a delete.
    for statement in (
        "CREATE TABLE meta (key VARCHAR PRIMARY KEY, value TEXT NOT NULL)",
        "CREATE TABLE albums (id INTEGER PRIMARY KEY, path VARCHAR NOT NULL UNIQUE, added_at FLOAT NOT NULL)",
        """CREATE TABLE photos (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            album_id INTEGER NOT NULL REFERENCES albums(id) ON DELETE CASCADE,
            path VARCHAR NOT NULL UNIQUE,
            size INTEGER NOT NULL,
            mtime_ns INTEGER NOT NULL,
            content_hash VARCHAR,
            width INTEGER,
            height INTEGER,
            format VARCHAR,
            date_taken VARCHAR,
            status VARCHAR NOT NULL,
            error TEXT,
            skipped_faces INTEGER NOT NULL DEFAULT 0,
            analyzer VARCHAR,
            scanned_at FLOAT NOT NULL)""",
        "CREATE INDEX ix_photos_content_hash ON photos(content_hash)",
        "CREATE INDEX ix_photos_album_id ON photos(album_id)",
        """CREATE TABLE faces (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            photo_id INTEGER NOT NULL REFERENCES photos(id) ON DELETE CASCADE,
            x0 FLOAT NOT NULL, y0 FLOAT NOT NULL, x1 FLOAT NOT NULL, y1 FLOAT NOT NULL,
            points BLOB NOT NULL,
            score FLOAT NOT NULL,
            quality FLOAT NOT NULL,
            thumbnail VARCHAR)""",
        "CREATE INDEX ix_faces_photo_id ON faces(photo_id)",
        """CREATE TABLE embeddings (
            face_id INTEGER NOT NULL REFERENCES faces(id) ON DELETE CASCADE,
            model_id VARCHAR NOT NULL,
            vector BLOB NOT NULL,
            PRIMARY KEY (face_id, model_id))""",
        "CREATE INDEX ix_embeddings_model_id ON embeddings(model_id)",
        """CREATE TABLE people (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            name VARCHAR,
            hidden BOOLEAN NOT NULL DEFAULT 0,
            cover_face_id INTEGER REFERENCES faces(id) ON DELETE SET NULL,
            created_at FLOAT NOT NULL)""",
        """CREATE TABLE assignments (
            face_id INTEGER NOT NULL PRIMARY KEY REFERENCES faces(id) ON DELETE CASCADE,
            person_id INTEGER NOT NULL REFERENCES people(id) ON DELETE CASCADE,
            source VARCHAR NOT NULL CHECK (source IN ('auto', 'user')),
            assigned_at FLOAT NOT NULL)""",
        "CREATE INDEX ix_assignments_person_id ON assignments(person_id)",
        """CREATE TABLE rejections (
            face_id INTEGER NOT NULL REFERENCES faces(id) ON DELETE CASCADE,
            person_id INTEGER NOT NULL REFERENCES people(id) ON DELETE CASCADE,
            created_at FLOAT NOT NULL,
            PRIMARY KEY (face_id, person_id))""",
        """CREATE TABLE person_refs (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            person_id INTEGER NOT NULL REFERENCES people(id) ON DELETE CASCADE,
            face_id INTEGER REFERENCES faces(id) ON DELETE CASCADE,
            file_path VARCHAR,
            added_at FLOAT NOT NULL,
            CHECK ((face_id IS NULL) != (file_path IS NULL)))""",
        "CREATE INDEX ix_person_refs_person_id ON person_refs(person_id)",
    ):
        conn.exec_driver_sql(statement)


def _v2_restore_jobs(conn: Connection) -> None:
    for statement in (
        """CREATE TABLE jobs (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            out_dir VARCHAR NOT NULL,
            state VARCHAR NOT NULL,
            selection TEXT NOT NULL,
            created_at FLOAT NOT NULL,
            updated_at FLOAT NOT NULL)""",
        """CREATE TABLE job_items (
            id INTEGER PRIMARY KEY,
            job_id INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
            photo_id INTEGER NOT NULL REFERENCES photos(id) ON DELETE CASCADE,
            output_path VARCHAR NOT NULL,
            state VARCHAR NOT NULL,
            error TEXT,
            report TEXT,
            started_at FLOAT,
            finished_at FLOAT)""",
        "CREATE INDEX ix_job_items_job_state ON job_items(job_id, state)",
    ):
        conn.exec_driver_sql(statement)


def _v3_job_runner_lease(conn: Connection) -> None:
    # One runner per job: its id and last heartbeat, so a second runner neither resets the items the
    # first is restoring nor restores them again (a lease: it expires when the runner dies).
    conn.exec_driver_sql("ALTER TABLE jobs ADD COLUMN runner VARCHAR")
    conn.exec_driver_sql("ALTER TABLE jobs ADD COLUMN heartbeat_at FLOAT")
    # Mark the file as a FaceMe library, so another program's SQLite file is never taken for one.
    conn.exec_driver_sql(f"PRAGMA application_id = {APPLICATION_ID}")


# The tables whose rows are the user's decisions about people: what undo puts back. Their columns in
# order (undo_rows stores old and new values in generic columns o1..o5 / n1..n5, which keep SQLite's
# exact values: a REAL time survives a round trip, as it would not through JSON text).
JOURNALED_COLUMNS: dict[str, tuple[str, ...]] = {
    "people": ("id", "name", "hidden", "cover_face_id", "created_at"),
    "assignments": ("face_id", "person_id", "source", "assigned_at"),
    "rejections": ("face_id", "person_id", "created_at"),
    "person_refs": ("id", "person_id", "face_id", "file_path", "added_at"),
    "distinct_people": ("person_a", "person_b", "created_at"),
}


def _journal_triggers(table: str, columns: tuple[str, ...]) -> list[str]:
    # Rows change are recorded only while an edit is recording (one undo_entries row in state
    # "recording", inside the edit's own transaction): scans and other processes write unrecorded.
    # Foreign key cascades fire these triggers too, so a merge's cascaded deletes are recorded.
    recording = "(SELECT id FROM undo_entries WHERE state = 'recording')"
    slots_old = ", ".join(f"o{i + 1}" for i in range(len(columns)))
    slots_new = ", ".join(f"n{i + 1}" for i in range(len(columns)))
    old = ", ".join(f"OLD.{c}" for c in columns)
    new = ", ".join(f"NEW.{c}" for c in columns)
    statements = []
    for op, slots, values in (
        ("INSERT", slots_new, new),
        ("DELETE", slots_old, old),
        ("UPDATE", f"{slots_old}, {slots_new}", f"{old}, {new}"),
    ):
        # Updates of these columns only: people's face counts (kept by other triggers) are not decisions.
        event = f"UPDATE OF {', '.join(columns)}" if op == "UPDATE" else op
        statements.append(
            f"""CREATE TRIGGER undo_{table}_{op.lower()} AFTER {event} ON {table}
            WHEN EXISTS {recording}
            BEGIN
                INSERT INTO undo_rows (entry_id, table_name, op, {slots})
                VALUES ({recording}, '{table}', '{op.lower()}', {values});
            END"""
        )
    return statements


EMBEDDINGS_GENERATION_KEY = "embeddings_generation"
PHOTO_PATHS_GENERATION_KEY = "photo_paths_generation"


def _v4_undo_journal_and_paging(conn: Connection) -> None:
    # The undo journal: one entry per user decision, with the old and new image of every row it
    # changed (undo.py). It lives in the library, so undo survives a restart.
    statements = [
        """CREATE TABLE undo_entries (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            description TEXT NOT NULL,
            state VARCHAR NOT NULL CHECK (state IN ('recording', 'done', 'undone')),
            created_at FLOAT NOT NULL)""",
        "CREATE INDEX ix_undo_entries_state ON undo_entries(state)",
        """CREATE TABLE undo_rows (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            entry_id INTEGER NOT NULL REFERENCES undo_entries(id) ON DELETE CASCADE,
            table_name VARCHAR NOT NULL,
            op VARCHAR NOT NULL CHECK (op IN ('insert', 'update', 'delete')),
            o1, o2, o3, o4, o5,
            n1, n2, n3, n4, n5)""",
        "CREATE INDEX ix_undo_rows_entry_id ON undo_rows(entry_id)",
        # "Not the same person" answers in review (review.py): the pair is not proposed again.
        """CREATE TABLE distinct_people (
            person_a INTEGER NOT NULL REFERENCES people(id) ON DELETE CASCADE,
            person_b INTEGER NOT NULL REFERENCES people(id) ON DELETE CASCADE,
            created_at FLOAT NOT NULL,
            PRIMARY KEY (person_a, person_b),
            CHECK (person_a < person_b))""",
        "CREATE INDEX ix_distinct_people_b ON distinct_people(person_b)",
        # Paged queries (queries.py): each person's face count and latest face, kept by triggers, so
        # a page of people reads only the people table (counting 100,000 assignments per page did
        # not fit in 50 ms). The index on (person_id, assigned_at) serves a person's faces.
        "ALTER TABLE people ADD COLUMN face_count INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE people ADD COLUMN last_assigned_at FLOAT",
        "CREATE INDEX ix_assignments_person_time ON assignments(person_id, assigned_at)",
        "DROP INDEX ix_assignments_person_id",
        """UPDATE people SET
            face_count = (SELECT count(*) FROM assignments WHERE person_id = people.id),
            last_assigned_at = (SELECT max(assigned_at) FROM assignments WHERE person_id = people.id)""",
        # The latest time is looked up again (one index probe) rather than only raised, so an undo
        # that puts older assignments back also puts the person's time back.
        """CREATE TRIGGER count_assignment_insert AFTER INSERT ON assignments BEGIN
            UPDATE people SET face_count = face_count + 1,
                last_assigned_at = (SELECT max(assigned_at) FROM assignments WHERE person_id = NEW.person_id)
            WHERE id = NEW.person_id;
        END""",
        """CREATE TRIGGER count_assignment_delete AFTER DELETE ON assignments BEGIN
            UPDATE people SET face_count = face_count - 1,
                last_assigned_at = (SELECT max(assigned_at) FROM assignments WHERE person_id = OLD.person_id)
            WHERE id = OLD.person_id;
        END""",
        """CREATE TRIGGER count_assignment_update AFTER UPDATE OF person_id, assigned_at ON assignments BEGIN
            UPDATE people SET face_count = face_count - 1,
                last_assigned_at = (SELECT max(assigned_at) FROM assignments WHERE person_id = OLD.person_id)
            WHERE id = OLD.person_id;
            UPDATE people SET face_count = face_count + 1,
                last_assigned_at = (SELECT max(assigned_at) FROM assignments WHERE person_id = NEW.person_id)
            WHERE id = NEW.person_id;
        END""",
        # A number that changes whenever any embedding is written or removed (meta key
        # EMBEDDINGS_GENERATION_KEY), so vectors read once can be kept until then (queries.py).
        f"INSERT INTO meta (key, value) VALUES ('{EMBEDDINGS_GENERATION_KEY}', '0') ON CONFLICT DO NOTHING",
        *(
            f"""CREATE TRIGGER embeddings_generation_{op.lower()} AFTER {op} ON embeddings BEGIN
                UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = '{EMBEDDINGS_GENERATION_KEY}';
            END"""
            for op in ("INSERT", "DELETE", "UPDATE")
        ),
        # The same for photo paths (PHOTO_PATHS_GENERATION_KEY): the folder list changes only then.
        f"INSERT INTO meta (key, value) VALUES ('{PHOTO_PATHS_GENERATION_KEY}', '0') ON CONFLICT DO NOTHING",
        *(
            f"""CREATE TRIGGER photo_paths_generation_{op.split()[0].lower()} AFTER {op} ON photos BEGIN
                UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = '{PHOTO_PATHS_GENERATION_KEY}';
            END"""
            for op in ("INSERT", "DELETE", "UPDATE OF path")
        ),
        "CREATE INDEX ix_rejections_person_id ON rejections(person_id)",
        "CREATE INDEX ix_people_name ON people(name COLLATE NOCASE)",
    ]
    for table, columns in JOURNALED_COLUMNS.items():
        statements += _journal_triggers(table, columns)
    for statement in statements:
        conn.exec_driver_sql(statement)


def _v5_photo_date_estimates(conn: Connection) -> None:
    # A scanned print has no EXIF date: the user's estimate of its year, so references closest in age
    # can be chosen for it (faceme_core.restore.reference_choice). Kept apart from photos, which a
    # rescan rewrites.
    conn.exec_driver_sql(
        """CREATE TABLE photo_year_estimates (
            photo_id INTEGER PRIMARY KEY REFERENCES photos(id) ON DELETE CASCADE,
            year INTEGER NOT NULL,
            set_at FLOAT NOT NULL)"""
    )


# Written in the SQLite header (PRAGMA application_id) from schema version 3 on: "FCME".
APPLICATION_ID = 0x46434D45

# MIGRATIONS[i] upgrades version i to version i + 1.
MIGRATIONS: tuple[Callable[[Connection], None], ...] = (
    _v1_photos_faces_people,
    _v2_restore_jobs,
    _v3_job_runner_lease,
    _v4_undo_journal_and_paging,
    _v5_photo_date_estimates,
)
LATEST_VERSION = len(MIGRATIONS)


def schema_version(conn: Connection) -> int:
    return int(conn.exec_driver_sql("PRAGMA user_version").scalar_one())


def application_id(conn: Connection) -> int:
    return int(conn.exec_driver_sql("PRAGMA application_id").scalar_one())


def has_tables(conn: Connection) -> bool:
    return conn.exec_driver_sql("SELECT 1 FROM sqlite_master WHERE type = 'table' LIMIT 1").first() is not None


# The tables each step creates: a file claiming a schema version must have them all.
TABLES_OF_STEP: tuple[tuple[str, ...], ...] = (
    ("meta", "albums", "photos", "faces", "embeddings", "people", "assignments", "rejections", "person_refs"),
    ("jobs", "job_items"),
    (),
    ("undo_entries", "undo_rows", "distinct_people"),
    ("photo_year_estimates",),
)
# From this version on every FaceMe library carries APPLICATION_ID (set in the same step).
FIRST_MARKED_VERSION = 3


def table_names(conn: Connection) -> set[str]:
    return set(conn.exec_driver_sql("SELECT name FROM sqlite_master WHERE type = 'table'").scalars())


def check_is_library(conn: Connection, where: str | Path) -> None:
    """Refuse an SQLite file that is not a FaceMe library (or an empty one), before anything writes
    to it: another program's database must never be taken over by adding FaceMe's tables to it.
    Libraries from before version 3 have no application id, but a schema version and its tables; an
    unmarked file claiming version 3 or later is another program's (its version is its own)."""
    app_id, version = application_id(conn), schema_version(conn)
    if app_id == APPLICATION_ID:
        return
    foreign = app_id != 0
    if not foreign and version == 0:
        foreign = has_tables(conn)
    elif not foreign:
        required = {name for step in TABLES_OF_STEP[:version] for name in step}
        foreign = version >= FIRST_MARKED_VERSION or not required <= table_names(conn)
    if foreign:
        raise LibraryError(
            "not a FaceMe library (an SQLite database of another program)", setting="library", value=where,
            hint="give a new file name or an existing FaceMe library",
        )


def check_version(version: int, where: str | Path) -> None:
    if version > LATEST_VERSION:
        raise LibraryError(
            f"this library was written by a newer FaceMe (schema version {version}, this version "
            f"knows up to {LATEST_VERSION})", setting="library", value=where, hint="update FaceMe to open it",
        )


def pending_steps(version: int, target: int = LATEST_VERSION) -> list[int]:
    """The versions to migrate to, in order (empty when up to date)."""
    return list(range(version + 1, target + 1))


def apply_step(conn: Connection, to_version: int) -> None:
    """Run one step inside the caller's transaction and record the new version with it."""
    MIGRATIONS[to_version - 1](conn)
    conn.exec_driver_sql(f"PRAGMA user_version = {int(to_version)}")
