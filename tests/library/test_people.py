"""User decisions about people, and automation (incremental grouping, recluster) that respects them."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from faceme_core.errors import LibraryError
from faceme_core.library import people as ops
from faceme_core.library import references
from faceme_core.library.db import schema
from faceme_core.library.scan import scan_folders


@pytest.fixture
def scanned(library, small_album, analyzer):
    scan_folders(library, [small_album], analyzer)
    return library


def _band(library):
    return next(
        p
        for p in ops.list_people(library)
        if {f.photo_path.name for f in p.faces} == {"band_four_lowres_a.jpg", "band_four_b.jpg"}
    )


def _owner(library, face_id: int) -> int | None:
    with library.reading() as conn:
        return conn.execute(
            select(schema.assignments.c.person_id).where(schema.assignments.c.face_id == face_id)
        ).scalar_one_or_none()


def test_people_are_addressed_by_id_or_unique_name(scanned):
    first, second = ops.list_people(scanned)[:2]
    ops.rename_person(scanned, first.id, "Anna")
    assert ops.get_person(scanned, "anna").id == first.id  # case-insensitive
    assert ops.get_person(scanned, str(first.id)).name == "Anna"
    with pytest.raises(LibraryError, match="no person named 'Bob'"):
        ops.get_person(scanned, "Bob")
    with pytest.raises(LibraryError, match="no person with id 999"):
        ops.get_person(scanned, 999)
    ops.rename_person(scanned, second.id, "ANNA")
    with pytest.raises(LibraryError, match=f"several people are named 'Anna' \\(ids {first.id}, {second.id}\\)"):
        ops.get_person(scanned, "Anna")
    with pytest.raises(LibraryError, match="only digits"):
        ops.rename_person(scanned, first.id, "42")
    with pytest.raises(LibraryError, match="empty"):
        ops.rename_person(scanned, first.id, "  ")


def test_merge_moves_faces_references_and_keeps_the_target(scanned):
    a, b = ops.list_people(scanned)[:2]
    ops.rename_person(scanned, b.id, "Ben")
    ref = references.add_face_reference(scanned, b.id, b.faces[0].id).reference_id
    assert ops.merge_people(scanned, a.id, [b.id]).person_id == a.id
    merged = ops.get_person(scanned, a.id)
    assert {f.id for f in merged.faces} == {f.id for f in a.faces} | {f.id for f in b.faces}
    assert all(f.assigned_by == "user" for f in merged.faces)
    assert merged.name == "Ben"  # the target had no name: it takes the merged one's
    assert [r.id for r in references.list_references(scanned, a.id)] == [ref]
    assert b.id not in {p.id for p in ops.list_people(scanned)}
    with pytest.raises(LibraryError, match="into itself"):
        ops.merge_people(scanned, a.id, [a.id])
    # A merge survives a full re-cluster.
    ops.recluster(scanned)
    assert {f.id for f in ops.get_person(scanned, a.id).faces} >= {f.id for f in merged.faces}


def test_move_to_a_new_person_and_back(scanned):
    band = _band(scanned)
    face = band.faces[0].id
    new_id = ops.move_face(scanned, face, None, new_name="Drummer").person_id
    assert [f.id for f in ops.get_person(scanned, "Drummer").faces] == [face]
    assert face not in {f.id for f in ops.get_person(scanned, band.id).faces}
    ops.move_face(scanned, face, band.id)
    assert _owner(scanned, face) == band.id
    assert ops.get_person(scanned, new_id).faces == ()  # named: kept (empty) until the user removes it
    with pytest.raises(LibraryError, match="no face with id 9999"):
        ops.move_face(scanned, 9999, band.id)


def test_rejected_face_is_never_put_back_by_automation(scanned, small_album, analyzer):
    band = _band(scanned)
    face = band.faces[0].id
    assert ops.reject_face(scanned, face).person_id == band.id
    assert _owner(scanned, face) != band.id
    ops.recluster(scanned)
    assert _owner(scanned, face) != band.id
    scan_folders(scanned, [small_album], analyzer)  # incremental grouping respects it too
    assert _owner(scanned, face) != band.id


def test_reject_from_a_new_person_leaves_the_face_unassigned(scanned):
    face = _band(scanned).faces[0].id
    lone = ops.move_face(scanned, face, None).person_id
    assert ops.reject_face(scanned, face, lone).person_id == lone
    assert _owner(scanned, face) is None
    assert face in {f.id for f in ops.unassigned_faces(scanned)}
    with pytest.raises(LibraryError, match="belongs to nobody"):
        ops.reject_face(scanned, face)


def test_recluster_keeps_user_assignments_names_and_covers(scanned):
    band = _band(scanned)
    ops.rename_person(scanned, band.id, "The Band")
    ops.set_cover(scanned, band.id, band.faces[1].id)
    [hepburn] = [f for f in ops.unassigned_faces(scanned) if f.photo_path.name == "hepburn_portrait_lowres.jpg"]
    audrey = ops.move_face(scanned, hepburn.id, None, new_name="Audrey").person_id
    before = {p.id: {f.id for f in p.faces} for p in ops.list_people(scanned)}

    assert ops.recluster(scanned).is_empty  # nothing to regroup differently
    after = {p.id: {f.id for f in p.faces} for p in ops.list_people(scanned)}
    assert after == before  # nothing changed in the embeddings: the same people, the same ids
    renamed = ops.get_person(scanned, "The Band")
    assert renamed.id == band.id and renamed.cover_face_id == band.faces[1].id
    assert after[audrey] == {hepburn.id}


def test_recluster_never_moves_a_face_the_user_placed(scanned):
    band = _band(scanned)
    boy = next(p for p in ops.list_people(scanned) if any(f.photo_path.name == "two_boys.jpg" for f in p.faces))
    stray = band.faces[0].id
    ops.move_face(scanned, stray, boy.id)  # the user insists, against the embeddings
    ops.recluster(scanned)
    assert _owner(scanned, stray) == boy.id
    ops.recluster(scanned)
    assert _owner(scanned, stray) == boy.id


def test_hide_unhide_and_cover_checks(scanned):
    band = _band(scanned)
    ops.set_hidden(scanned, band.id, True)
    assert band.id not in {p.id for p in ops.list_people(scanned, include_hidden=False)}
    assert ops.get_person(scanned, band.id).hidden
    ops.set_hidden(scanned, band.id, False)
    assert band.id in {p.id for p in ops.list_people(scanned, include_hidden=False)}
    other_face = next(f.id for p in ops.list_people(scanned) if p.id != band.id for f in p.faces)
    with pytest.raises(LibraryError, match="is not one of person"):
        ops.set_cover(scanned, band.id, other_face)


def test_merge_carries_rejections_over_without_contradicting_itself(scanned):
    band_a, band_b = [
        p for p in ops.list_people(scanned) if any(f.photo_path.name == "band_four_b.jpg" for f in p.faces)
    ][:2]
    outsider = next(p for p in ops.list_people(scanned) if p.id not in (band_a.id, band_b.id)).faces[0].id
    ops.reject_face(scanned, outsider, band_b.id)  # "not B"
    inside = band_a.faces[0].id
    ops.reject_face(scanned, inside, band_b.id)
    ops.move_face(scanned, inside, band_a.id)  # still on A, and "not B" on record

    ops.merge_people(scanned, band_a.id, [band_b.id])  # the user now says A and B are one person
    assert _owner(scanned, inside) == band_a.id
    ops.recluster(scanned)  # no contradiction between locks and rejections
    assert _owner(scanned, inside) == band_a.id
    assert _owner(scanned, outsider) != band_a.id  # "not B" now means "not the merged person"


def test_merge_keeps_a_not_this_person_decision_about_the_target(scanned):
    band = _band(scanned)
    face = band.faces[0].id
    ops.reject_face(scanned, face)  # "not the band person"
    elsewhere = ops.move_face(scanned, face, None, new_name="Someone").person_id
    ref = references.add_face_reference(scanned, "Someone", face).reference_id
    ops.set_cover(scanned, "Someone", face)

    ops.merge_people(scanned, band.id, [elsewhere])  # e.g. merging a group that holds that face
    assert _owner(scanned, face) is None  # the rejection wins: the face is not put on the band person
    with scanned.reading() as conn:
        kept = conn.execute(
            select(schema.rejections).where(
                schema.rejections.c.face_id == face, schema.rejections.c.person_id == band.id
            )
        ).all()
    assert kept
    assert ref not in {r.id for r in references.list_references(scanned, band.id)}
    assert ops.get_person(scanned, band.id).cover_face_id != face
    ops.recluster(scanned)
    assert _owner(scanned, face) != band.id


def test_two_faces_of_one_photo_are_never_grouped_into_one_person_automatically(library, tmp_path):
    import numpy as np

    from faceme_core.library import grouping
    from tests.library.synthetic import DIM, MODEL, add_face, add_faces, near, unit

    rng = np.random.default_rng(3)
    look = unit(rng.normal(size=DIM))  # e.g. two sisters dlib cannot tell apart
    faces = add_faces(library, tmp_path, [near(look, rng) for _ in range(4)], photo_of=[0, 0, 1, 2])
    with library.transaction() as conn:
        grouping.assign_new_faces(conn, MODEL)
    assert _owner(library, faces[0]) != _owner(library, faces[1])
    ops.recluster(library)
    assert _owner(library, faces[0]) != _owner(library, faces[1])

    # Incremental: a new face of photo 1 does not join the person already in photo 1.
    with library.reading() as conn:
        photo_1 = conn.execute(select(schema.faces.c.photo_id).where(schema.faces.c.id == faces[2])).scalar_one()
    assert _owner(library, faces[2]) is not None
    late = add_face(library, photo_1, near(look, rng), index=9)
    with library.transaction() as conn:
        grouping.assign_new_faces(conn, MODEL)
    assert _owner(library, late) is None or _owner(library, late) != _owner(library, faces[2])

    # The user knows better (a double exposure, a photo of a photo): their decision wins.
    person = _owner(library, faces[0]) or ops.move_face(library, faces[0], None)
    ops.move_faces(library, [faces[0], faces[1]], person)
    ops.recluster(library)
    assert _owner(library, faces[0]) == _owner(library, faces[1]) == person
