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
    ref = references.add_face_reference(scanned, b.id, b.faces[0].id)
    assert ops.merge_people(scanned, a.id, [b.id]) == a.id
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
    new_id = ops.move_face(scanned, face, None, new_name="Drummer")
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
    assert ops.reject_face(scanned, face) == band.id
    assert _owner(scanned, face) != band.id
    ops.recluster(scanned)
    assert _owner(scanned, face) != band.id
    scan_folders(scanned, [small_album], analyzer)  # incremental grouping respects it too
    assert _owner(scanned, face) != band.id


def test_reject_from_a_new_person_leaves_the_face_unassigned(scanned):
    face = _band(scanned).faces[0].id
    lone = ops.move_face(scanned, face, None)
    assert ops.reject_face(scanned, face, lone) == lone
    assert _owner(scanned, face) is None
    assert face in {f.id for f in ops.unassigned_faces(scanned)}
    with pytest.raises(LibraryError, match="belongs to nobody"):
        ops.reject_face(scanned, face)


def test_recluster_keeps_user_assignments_names_and_covers(scanned):
    band = _band(scanned)
    ops.rename_person(scanned, band.id, "The Band")
    ops.set_cover(scanned, band.id, band.faces[1].id)
    [hepburn] = [f for f in ops.unassigned_faces(scanned) if f.photo_path.name == "hepburn_portrait_lowres.jpg"]
    audrey = ops.move_face(scanned, hepburn.id, None, new_name="Audrey")
    before = {p.id: {f.id for f in p.faces} for p in ops.list_people(scanned)}

    assert ops.recluster(scanned) == 0
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
