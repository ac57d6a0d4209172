"""Opening a library: one SQLite file (WAL, foreign keys on) plus a thumbnail folder beside it."""

from __future__ import annotations

import os
import sqlite3
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from sqlalchemy import Connection, Engine, create_engine, event, select
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import DatabaseError

from faceme_core.errors import LibraryError
from faceme_core.library.db import migrations, schema
from faceme_core.paths import default_library_path

BUSY_TIMEOUT_MS = 15_000  # the desktop app and a CLI may use the same library at once
READ_ONLY = "faceme_read_only"  # execution option: a deferred (reading) transaction


def _make_engine(path: Path) -> Engine:
    engine = create_engine(f"sqlite:///{path}", connect_args={"check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        # Let SQLAlchemy's BEGIN (below) drive transactions instead of pysqlite's implicit ones,
        # so DDL in migrations is transactional too (SQLAlchemy's documented pysqlite recipe).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys = ON")
        # WAL is set once, in _set_wal, after the file is known to be a library (it rewrites the
        # header of whatever file this is); the mode then persists in the file for every connection.
        cursor.execute("PRAGMA synchronous = NORMAL")  # WAL + NORMAL: durable across app crashes
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        # Writers take the write lock up front (no lock-upgrade deadlocks); readers just snapshot.
        reading = conn.get_execution_options().get(READ_ONLY, False)
        conn.exec_driver_sql("BEGIN" if reading else "BEGIN IMMEDIATE")

    return engine


class Library:
    """An open album library. Use ``Library.open(path)``; close it (or use ``with``) when done."""

    def __init__(self, path: Path, engine: Engine):
        self.path = path
        self.engine = engine
        self._revision_lock = threading.Lock()
        self._revision = 0
        self._data_version: int | None = None
        self._watch: sqlite3.Connection | None = None  # only reads PRAGMA data_version

    @classmethod
    def open(cls, path: Path | str | None = None, *, create: bool = True) -> "Library":
        """Open (and upgrade) the library at ``path`` (default: the user data folder's library).

        Refuses, without writing to it, a library from a newer FaceMe and any SQLite file that is not
        a FaceMe library; ``create=False`` refuses a path that does not exist.
        """
        path = Path(path).expanduser().absolute() if path is not None else default_library_path()
        if path.is_dir():
            raise LibraryError(f"--library {path}: is a folder; give the library file (e.g. {path / 'library.sqlite'})")
        if not path.exists():
            if not create:
                raise LibraryError(f"--library {path}: no library there (run 'faceme scan FOLDER' first)")
            path.parent.mkdir(parents=True, exist_ok=True)
        engine = _make_engine(path)
        try:
            _upgrade(engine, path)
            _set_wal(engine)
        except DatabaseError as error:
            engine.dispose()
            raise LibraryError(f"--library {path}: not a FaceMe library or damaged ({error.orig})") from error
        except BaseException:
            engine.dispose()
            raise
        return cls(path, engine)

    def close(self) -> None:
        with self._revision_lock:
            if self._watch is not None:
                self._watch.close()
                self._watch = None
        self.engine.dispose()

    def revision(self) -> int:
        """A number that grows whenever the library may have changed: an edit through this object
        (``note_edit``) or a commit by any other connection or process, such as a CLI scan (SQLite's
        ``PRAGMA data_version``, read on a connection kept for that). Cheap (no table is read): a
        view polls it on a timer and reloads when it differs from the one it drew."""
        with self._revision_lock:
            if self._watch is None:
                self._watch = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            data_version = self._watch.execute("PRAGMA data_version").fetchone()[0]
            if data_version != self._data_version:
                self._data_version = data_version
                self._revision += 1
            return self._revision

    def note_edit(self) -> None:
        """Count an edit made through this object (its changes show in ``revision`` at once)."""
        with self._revision_lock:
            self._revision += 1

    def __enter__(self) -> "Library":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """One atomic unit of work: committed on success, rolled back on any exception."""
        with self.engine.begin() as conn:
            yield conn

    @contextmanager
    def reading(self) -> Iterator[Connection]:
        """A connection for queries only (a consistent snapshot in WAL mode)."""
        with self.engine.connect().execution_options(**{READ_ONLY: True}) as conn:
            yield conn

    @property
    def thumbnails_dir(self) -> Path:
        """Thumbnails live beside the library, never beside the photos."""
        return self.path.with_name(self.path.stem + "-thumbnails")

    def get_meta(self, key: str, default: str | None = None) -> str | None:
        with self.reading() as conn:
            value = conn.execute(select(schema.meta.c.value).where(schema.meta.c.key == key)).scalar_one_or_none()
        return default if value is None else value


def set_meta(conn: Connection, key: str, value: str) -> None:
    statement = sqlite_insert(schema.meta).values(key=key, value=value)
    conn.execute(statement.on_conflict_do_update(index_elements=["key"], set_={"value": value}))


def _upgrade(engine: Engine, path: Path) -> None:
    with engine.connect().execution_options(**{READ_ONLY: True}) as conn:
        migrations.check_is_library(conn, f"--library {path}")
        version = migrations.schema_version(conn)
    migrations.check_version(version, f"--library {path}")
    for to_version in migrations.pending_steps(version):
        with engine.begin() as conn:
            # Re-read under the write lock: another process may have upgraded meanwhile.
            current = migrations.schema_version(conn)
            migrations.check_version(current, f"--library {path}")
            if current < to_version:
                migrations.apply_step(conn, to_version)


def _set_wal(engine: Engine) -> None:
    # Outside any transaction (SQLite ignores a journal mode change inside one): a raw connection,
    # which runs no BEGIN of ours.
    connection = engine.raw_connection()
    try:
        connection.cursor().execute("PRAGMA journal_mode = WAL")
    finally:
        connection.close()


def library_path_from_arg(value: str | None) -> Path:
    """``--library PATH`` (or the default), with ``~`` expanded."""
    return Path(os.path.expanduser(value)).absolute() if value else default_library_path()
