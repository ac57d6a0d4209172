"""When a photo was taken, as a year: the user's estimate (scanned prints) over the EXIF date.

Read by restore jobs and the desktop app to choose references close in age
(``faceme_core.restore.reference_choice``).
"""

from __future__ import annotations

import time
from pathlib import Path

from sqlalchemy import Connection, delete, insert, select

from faceme_core.errors import LibraryError
from faceme_core.library.db import schema
from faceme_core.library.library import Library
from faceme_core.library.types import Reference
from faceme_core.restore.reference_choice import DatedReference, year_of

MIN_YEAR, MAX_YEAR = 1826, 2200  # the oldest surviving photograph; a sanity bound for typos


def photo_year(conn: Connection, photo_id: int) -> int | None:
    """The user's estimate if there is one, else the EXIF year, else None."""
    estimate = conn.execute(
        select(schema.photo_year_estimates.c.year).where(schema.photo_year_estimates.c.photo_id == photo_id)
    ).scalar_one_or_none()
    if estimate is not None:
        return int(estimate)
    date = conn.execute(select(schema.photos.c.date_taken).where(schema.photos.c.id == photo_id)).scalar_one_or_none()
    return year_of(date)


def set_photo_year(library: Library, photo_id: int, year: int | None) -> None:
    """Record the user's estimate of the year a photo was taken (None removes it)."""
    if year is not None and not MIN_YEAR <= int(year) <= MAX_YEAR:
        raise LibraryError(f"year {year}: expected a year between {MIN_YEAR} and {MAX_YEAR}")
    estimates = schema.photo_year_estimates
    with library.transaction() as conn:
        if conn.execute(select(schema.photos.c.id).where(schema.photos.c.id == int(photo_id))).first() is None:
            raise LibraryError(f"no photo with id {photo_id}")
        conn.execute(delete(estimates).where(estimates.c.photo_id == int(photo_id)))
        if year is not None:
            conn.execute(insert(estimates).values(photo_id=int(photo_id), year=int(year), set_at=time.time()))


def photo_id_of(conn: Connection, path: Path) -> int | None:
    """The library's id of the photo at ``path`` (as scanned, or its real path), None if not there."""
    spelled = str(Path(path).expanduser().absolute())
    candidates = {spelled, str(Path(spelled).resolve())}
    return conn.execute(
        select(schema.photos.c.id).where(schema.photos.c.path.in_(candidates)).limit(1)
    ).scalar_one_or_none()


def dated_references(conn: Connection, references: list[Reference]) -> list[DatedReference[Reference]]:
    """Each reference with the year of its photo (album faces); external files are undated."""
    years: dict[Path, int | None] = {}
    dated = []
    for reference in references:
        year = None
        if reference.kind == "face" and reference.photo_path is not None:
            if reference.photo_path not in years:
                years[reference.photo_path] = _year_of_path(conn, reference.photo_path)
            year = years[reference.photo_path]
        dated.append(DatedReference(reference, year))
    return dated


def _year_of_path(conn: Connection, path: Path) -> int | None:
    photo_id = conn.execute(select(schema.photos.c.id).where(schema.photos.c.path == str(path))).scalar_one_or_none()
    return None if photo_id is None else photo_year(conn, photo_id)
