"""The library file: pragmas, schema matching the code, upgrades of older libraries, refusal of newer."""

from __future__ import annotations

import sqlite3

import pytest
from sqlalchemy import create_engine, insert, select

from faceme_core.errors import LibraryError
from faceme_core.library.db import migrations, schema
from faceme_core.library.library import Library
from faceme_core.paths import default_library_path


def _columns(path) -> dict[str, list[str]]:
    with sqlite3.connect(path) as conn:
        tables = [
            r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'")
        ]
        return {t: [r[1] for r in conn.execute(f"PRAGMA table_info({t})")] for t in tables}


def test_new_library_has_the_schema_the_code_queries(tmp_path):
    path = tmp_path / "lib.sqlite"
    Library.open(path).close()
    expected = {table.name: [column.name for column in table.columns] for table in schema.metadata.sorted_tables}
    assert _columns(path) == expected
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == migrations.LATEST_VERSION
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_connections_enforce_foreign_keys(tmp_path):
    with Library.open(tmp_path / "lib.sqlite") as library:
        with library.reading() as conn:
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        with pytest.raises(Exception, match="FOREIGN KEY"):
            with library.transaction() as conn:
                conn.execute(
                    insert(schema.assignments).values(face_id=999, person_id=999, source="auto", assigned_at=0.0)
                )


def test_failed_transaction_leaves_nothing_behind(tmp_path):
    with Library.open(tmp_path / "lib.sqlite") as library:
        with pytest.raises(RuntimeError):
            with library.transaction() as conn:
                conn.execute(insert(schema.albums).values(path="/a", added_at=0.0))
                raise RuntimeError("crash in the middle")
        with library.reading() as conn:
            assert conn.execute(select(schema.albums)).all() == []


def test_default_location_is_in_the_user_data_folder(isolated_app_home):
    with Library.open() as library:
        assert library.path == default_library_path()
        assert library.path.is_relative_to(isolated_app_home)
        assert library.path.exists()


def test_older_library_is_upgraded_in_place_and_keeps_its_data(tmp_path):
    path = tmp_path / "old.sqlite"
    engine = create_engine(f"sqlite:///{path}")
    with engine.begin() as conn:  # a version-1 library, as the first release wrote it
        migrations.apply_step(conn, 1)
        conn.execute(insert(schema.albums).values(id=1, path="/photos", added_at=1.0))
        conn.execute(insert(schema.people).values(id=7, name="Anna", hidden=False, created_at=1.0))
    engine.dispose()
    assert "jobs" not in _columns(path)

    with Library.open(path) as library:
        with library.reading() as conn:
            assert conn.execute(select(schema.people.c.name)).scalars().all() == ["Anna"]
            assert conn.execute(select(schema.jobs)).all() == []  # version 2's table now exists
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == migrations.LATEST_VERSION


def test_newer_library_is_refused_untouched(tmp_path):
    path = tmp_path / "future.sqlite"
    Library.open(path).close()
    with sqlite3.connect(path) as conn:
        conn.execute(f"PRAGMA user_version = {migrations.LATEST_VERSION + 1}")
    before = path.read_bytes()
    with pytest.raises(LibraryError, match="newer FaceMe"):
        Library.open(path)
    assert path.read_bytes() == before


def test_not_a_library_and_missing_library_are_clear_errors(tmp_path):
    junk = tmp_path / "notes.sqlite"
    junk.write_text("shopping list\n" * 200)
    with pytest.raises(LibraryError, match="not a FaceMe library"):
        Library.open(junk)
    with pytest.raises(LibraryError, match="no library there"):
        Library.open(tmp_path / "nothing.sqlite", create=False)
    with pytest.raises(LibraryError, match="is a folder"):
        Library.open(tmp_path)


def test_version_2_library_is_upgraded_with_job_leases_and_marked_as_faceme(tmp_path):
    path = tmp_path / "v2.sqlite"
    engine = create_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        migrations.apply_step(conn, 1)
        migrations.apply_step(conn, 2)
        conn.exec_driver_sql(
            "INSERT INTO jobs (id, out_dir, state, selection, created_at, updated_at) "
            "VALUES (4, '/out', 'paused', '{}', 1.0, 1.0)"
        )
    engine.dispose()
    with Library.open(path) as library:
        with library.reading() as conn:
            [job] = conn.execute(select(schema.jobs)).all()
    assert (job.id, job.state, job.runner, job.heartbeat_at) == (4, "paused", None, None)
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == migrations.LATEST_VERSION == 5
        assert conn.execute("PRAGMA application_id").fetchone()[0] == migrations.APPLICATION_ID


def test_another_programs_sqlite_database_is_refused_untouched(tmp_path):
    other = tmp_path / "contacts.sqlite"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE contacts (name TEXT)")
    before = other.read_bytes()
    with pytest.raises(LibraryError, match="not a FaceMe library"):
        Library.open(other)
    assert other.read_bytes() == before

    foreign = tmp_path / "foreign.sqlite"
    with sqlite3.connect(foreign) as conn:
        conn.execute("PRAGMA application_id = 1234")
    with pytest.raises(LibraryError, match="not a FaceMe library"):
        Library.open(foreign)
    Library.open(tmp_path / "empty.sqlite").close()  # a new or empty file becomes a library
    Library.open(tmp_path / "empty.sqlite").close()  # and opens again


@pytest.mark.parametrize("version", [1, 2, 3, migrations.LATEST_VERSION + 4])
@pytest.mark.parametrize("app_id", [0, 1234])
def test_another_programs_database_with_a_schema_version_is_refused_untouched(tmp_path, version, app_id):
    notes = tmp_path / "notes.sqlite"
    with sqlite3.connect(notes) as conn:
        conn.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)")
        conn.execute("INSERT INTO notes (body) VALUES ('keep me')")
        conn.execute(f"PRAGMA user_version = {version}")
        conn.execute(f"PRAGMA application_id = {app_id}")
    conn.close()
    before = notes.read_bytes()
    with pytest.raises(LibraryError, match="not a FaceMe library"):
        Library.open(notes)
    assert notes.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.sqlite"]  # no WAL or journal left


def test_a_file_lacking_the_tables_of_its_schema_version_is_refused_untouched(tmp_path):
    path = tmp_path / "partial.sqlite"
    engine = create_engine(f"sqlite:///{path}")
    with engine.begin() as conn:  # a version-2 library, as an earlier release wrote it...
        migrations.apply_step(conn, 1)
        migrations.apply_step(conn, 2)
        conn.exec_driver_sql("DROP TABLE job_items")  # ...but not quite
    engine.dispose()
    before = path.read_bytes()
    with pytest.raises(LibraryError, match="not a FaceMe library"):
        Library.open(path)
    assert path.read_bytes() == before


def test_every_table_is_created_by_the_step_listed_for_it():
    assert {name for step in migrations.TABLES_OF_STEP for name in step} == set(schema.metadata.tables)
    assert len(migrations.TABLES_OF_STEP) == migrations.LATEST_VERSION


def test_version_3_library_gets_each_persons_face_count_on_upgrade(tmp_path):
    path = tmp_path / "v3.sqlite"
    engine = create_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        for step in (1, 2, 3):
            migrations.apply_step(conn, step)
        for statement in (
            "INSERT INTO albums (id, path, added_at) VALUES (1, '/a', 0)",
            "INSERT INTO photos (id, album_id, path, size, mtime_ns, status, scanned_at) "
            "VALUES (1, 1, '/a/p', 1, 1, 'ok', 0)",
            "INSERT INTO faces (id, photo_id, x0, y0, x1, y1, points, score, quality) "
            "VALUES (1, 1, 0, 0, 1, 1, x'', 1, 1), (2, 1, 2, 0, 3, 1, x'', 1, 1)",
            "INSERT INTO people (id, name, hidden, created_at) VALUES (7, 'Ann', 0, 0), (8, NULL, 0, 0)",
            "INSERT INTO assignments VALUES (1, 7, 'user', 5.0), (2, 7, 'auto', 6.0)",
        ):
            conn.exec_driver_sql(statement)
    engine.dispose()
    with Library.open(path) as library:
        with library.reading() as conn:
            counts = conn.exec_driver_sql("SELECT id, face_count, last_assigned_at FROM people ORDER BY id").all()
            assert [tuple(row) for row in counts] == [(7, 2, 6.0), (8, 0, None)]
        with library.transaction() as conn:  # and the triggers keep them from then on
            conn.exec_driver_sql("UPDATE assignments SET person_id = 8 WHERE face_id = 2")
        with library.reading() as conn:
            counts = conn.exec_driver_sql("SELECT id, face_count, last_assigned_at FROM people ORDER BY id").all()
            assert [tuple(row) for row in counts] == [(7, 1, 5.0), (8, 1, 6.0)]
