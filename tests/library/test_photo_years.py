"""Photo years (EXIF or the user's estimate) and album jobs choosing references closest in age."""

from __future__ import annotations

import numpy as np
import pytest
from sqlalchemy import select, update

from faceme_core.errors import LibraryError
from faceme_core.library.db import schema
from faceme_core.library.jobs import build_task, create_job
from faceme_core.library.people import create_person, move_faces
from faceme_core.library.photo_years import photo_year, set_photo_year
from faceme_core.library.references import add_face_reference
from tests.library.synthetic import add_faces, unit


def _person_with_dated_faces(library, tmp_path, years):
    """One person whose faces are in photos taken in ``years`` (EXIF), each a reference; plus one
    more photo of the person (undated) to restore. Returns (person id, reference face ids, target photo id)."""
    rng = np.random.default_rng(0)
    centre = unit(rng.normal(size=128))
    face_ids = add_faces(library, tmp_path / "album", [centre] * (len(years) + 1))
    person_id = create_person(library, "Grandma").person_id
    move_faces(library, face_ids, person_id)
    with library.transaction() as conn:
        photo_of = dict(conn.execute(select(schema.faces.c.id, schema.faces.c.photo_id)).all())
        for face_id, year in zip(face_ids, years):
            conn.execute(update(schema.photos).where(schema.photos.c.id == photo_of[face_id])
                         .values(date_taken=f"{year}-05-01T10:00:00"))
    for face_id in face_ids[:-1]:
        add_face_reference(library, person_id, face_id)
    return person_id, face_ids[:-1], photo_of[face_ids[-1]]


def test_the_users_estimate_of_a_scanned_print_wins_over_exif_and_can_be_removed(library, tmp_path):
    _person, _refs, target = _person_with_dated_faces(library, tmp_path, [1950])
    with library.reading() as conn:
        assert photo_year(conn, target) is None
    set_photo_year(library, target, 1955)
    with library.reading() as conn:
        assert photo_year(conn, target) == 1955
    set_photo_year(library, target, None)
    with library.reading() as conn:
        assert photo_year(conn, target) is None
    with pytest.raises(LibraryError):
        set_photo_year(library, target, 12)


def test_album_jobs_restore_a_childhood_photo_with_the_childhood_references(library, tmp_path):
    years = [1995, 1958, 2015, 1961, 1980, 1963]
    _person, refs, target = _person_with_dated_faces(library, tmp_path, years)
    set_photo_year(library, target, 1960)  # a scanned print: the user's estimate
    with library.reading() as conn:
        target_path = conn.execute(select(schema.photos.c.path).where(schema.photos.c.id == target)).scalar_one()
    job = create_job(library, tmp_path / "out", photos=[target_path])
    with library.reading() as conn:
        item = conn.execute(select(schema.job_items).where(schema.job_items.c.job_id == job)).one()
        task = build_task(conn, job, item)
    [face] = task.faces
    by_year = dict(zip(refs, years))
    assert [by_year[r.face_id] for r in face.references] == [1961, 1958, 1963, 1980]  # the 4 closest to 1960
