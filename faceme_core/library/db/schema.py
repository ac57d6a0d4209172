"""The library's tables, as SQLAlchemy Core objects used by every query.

The DDL that creates them lives in ``migrations.py`` (one ordered step per schema version); a test
checks that the migrated database has exactly these tables and columns.

Conventions: paths are absolute strings; times are UTC epoch seconds (float); boxes are four REAL
columns in full-resolution photo pixels; points and embedding vectors are little-endian float32 blobs.
"""

from __future__ import annotations

from sqlalchemy import Boolean, Column, Float, ForeignKey, Integer, LargeBinary, MetaData, String, Table, Text

metadata = MetaData()

meta = Table(
    "meta",
    metadata,
    Column("key", String, primary_key=True),
    Column("value", Text, nullable=False),
)

albums = Table(
    "albums",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("path", String, nullable=False, unique=True),
    Column("added_at", Float, nullable=False),
)

# status: "ok" (analysed), "error" (could not be read/analysed: see error), "missing" (gone from disk;
# its faces, people and references stay until the user removes them).
photos = Table(
    "photos",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("album_id", Integer, ForeignKey("albums.id", ondelete="CASCADE"), nullable=False),
    Column("path", String, nullable=False, unique=True),
    Column("size", Integer, nullable=False),
    Column("mtime_ns", Integer, nullable=False),
    Column("content_hash", String),
    Column("width", Integer),
    Column("height", Integer),
    Column("format", String),
    Column("date_taken", String),
    Column("status", String, nullable=False),
    Column("error", Text),
    Column("skipped_faces", Integer, nullable=False, default=0),
    Column("analyzer", String),
    Column("scanned_at", Float, nullable=False),
)

faces = Table(
    "faces",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("photo_id", Integer, ForeignKey("photos.id", ondelete="CASCADE"), nullable=False),
    Column("x0", Float, nullable=False),
    Column("y0", Float, nullable=False),
    Column("x1", Float, nullable=False),
    Column("y1", Float, nullable=False),
    Column("points", LargeBinary, nullable=False),  # (5, 2) float32
    Column("score", Float, nullable=False),
    Column("quality", Float, nullable=False),
    Column("thumbnail", String),  # relative to the library's thumbnail folder
)

embeddings = Table(
    "embeddings",
    metadata,
    Column("face_id", Integer, ForeignKey("faces.id", ondelete="CASCADE"), primary_key=True),
    Column("model_id", String, primary_key=True),
    Column("vector", LargeBinary, nullable=False),  # float32, L2-normalised
)

people = Table(
    "people",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String),
    Column("hidden", Boolean, nullable=False, default=False),
    Column("cover_face_id", Integer, ForeignKey("faces.id", ondelete="SET NULL")),
    Column("created_at", Float, nullable=False),
    # Kept by triggers on assignments (migration 4), never written by code: how many faces the
    # person has, and when a face last joined them.
    Column("face_count", Integer, nullable=False, server_default="0"),
    Column("last_assigned_at", Float),
)

# source: "auto" (clustering; may be redone) or "user" (a decision automation never undoes).
assignments = Table(
    "assignments",
    metadata,
    Column("face_id", Integer, ForeignKey("faces.id", ondelete="CASCADE"), primary_key=True),
    Column("person_id", Integer, ForeignKey("people.id", ondelete="CASCADE"), nullable=False),
    Column("source", String, nullable=False),
    Column("assigned_at", Float, nullable=False),
)

# "Not this person": automation never assigns face_id to person_id again.
rejections = Table(
    "rejections",
    metadata,
    Column("face_id", Integer, ForeignKey("faces.id", ondelete="CASCADE"), primary_key=True),
    Column("person_id", Integer, ForeignKey("people.id", ondelete="CASCADE"), primary_key=True),
    Column("created_at", Float, nullable=False),
)

# A reference is either an album face (face_id) or an external image file (file_path), never both.
person_refs = Table(
    "person_refs",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("person_id", Integer, ForeignKey("people.id", ondelete="CASCADE"), nullable=False),
    Column("face_id", Integer, ForeignKey("faces.id", ondelete="CASCADE")),
    Column("file_path", String),
    Column("added_at", Float, nullable=False),
)

# state: "pending", "running", "paused", "cancelled", "done".
jobs = Table(
    "jobs",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("out_dir", String, nullable=False),
    Column("state", String, nullable=False),
    Column("selection", Text, nullable=False),  # JSON: what the user asked for
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
    # The process running the job ("host:pid:token") and when it last said so; see jobs.py.
    Column("runner", String),
    Column("heartbeat_at", Float),
)

# state: "pending" -> "running" -> "done" | "failed" ("cancelled" when the job is cancelled).
job_items = Table(
    "job_items",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("job_id", Integer, ForeignKey("jobs.id", ondelete="CASCADE"), nullable=False),
    Column("photo_id", Integer, ForeignKey("photos.id", ondelete="CASCADE"), nullable=False),
    Column("output_path", String, nullable=False),
    Column("state", String, nullable=False),
    Column("error", Text),
    Column("report", Text),  # JSON: per face, restored with references or blind
    Column("started_at", Float),
    Column("finished_at", Float),
)

# "These two are not the same person" (review.py), person_a < person_b.
distinct_people = Table(
    "distinct_people",
    metadata,
    Column("person_a", Integer, ForeignKey("people.id", ondelete="CASCADE"), primary_key=True),
    Column("person_b", Integer, ForeignKey("people.id", ondelete="CASCADE"), primary_key=True),
    Column("created_at", Float, nullable=False),
)

# The undo journal (undo.py). state: "recording" (only inside the edit's transaction), "done"
# (on the undo stack), "undone" (on the redo stack).
undo_entries = Table(
    "undo_entries",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("description", Text, nullable=False),
    Column("state", String, nullable=False),
    Column("created_at", Float, nullable=False),
)

# One changed row of a journaled table (migrations.JOURNALED_COLUMNS), filled by triggers: the old
# values in o1.. (update, delete) and the new ones in n1.. (insert, update), in the table's column order.
undo_rows = Table(
    "undo_rows",
    metadata,
    Column("seq", Integer, primary_key=True),
    Column("entry_id", Integer, ForeignKey("undo_entries.id", ondelete="CASCADE"), nullable=False),
    Column("table_name", String, nullable=False),
    Column("op", String, nullable=False),
    # Untyped, like the SQL: each holds whatever type its source column held.
    *(Column(f"o{i}") for i in range(1, 6)),
    *(Column(f"n{i}") for i in range(1, 6)),
)

# The user's estimate of when a photo was taken (a scanned print has no EXIF date), as a year.
photo_year_estimates = Table(
    "photo_year_estimates",
    metadata,
    Column("photo_id", Integer, ForeignKey("photos.id", ondelete="CASCADE"), primary_key=True),
    Column("year", Integer, nullable=False),
    Column("set_at", Float, nullable=False),
)
