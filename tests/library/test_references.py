"""References per person: album faces and files, and suggestions that are good, diverse and only proposed."""

from __future__ import annotations

import numpy as np
import pytest

from faceme_core.errors import ImageLoadError, LibraryError
from faceme_core.library import people as ops
from faceme_core.library import references as refs
from faceme_core.library.scan import scan_folders
from tests.library.conftest import ALBUM


@pytest.fixture
def scanned(library, album, analyzer):
    scan_folders(library, [album], analyzer)
    return library


def _unit(*values) -> np.ndarray:
    vector = np.array(values, dtype=np.float32)
    return vector / np.linalg.norm(vector)


def test_pick_diverse_prefers_quality_and_skips_degraded_duplicates_and_same_photo():
    candidates = [
        (1, 10, 0.90, _unit(1, 0, 0)),
        (2, 11, 0.85, _unit(1, 0.01, 0)),  # a near-duplicate of face 1 (a copy, a burst shot)
        (3, 10, 0.80, _unit(0, 1, 0)),  # same photo as face 1
        (4, 12, 0.70, _unit(0, 0, 1)),
        (5, 13, 0.10, _unit(1, 1, 1)),  # degraded: below the floor
        (6, 14, 0.60, _unit(1, 1, 0)),
    ]
    assert refs.pick_diverse(candidates, [], 3, 0.99, 0.3) == [1, 4, 6]
    assert refs.pick_diverse(candidates, [], 10, 0.99, 0.3) == [1, 4, 6]  # never pads with bad ones
    # An existing reference counts: nothing near it (or from its photo) is proposed again.
    assert refs.pick_diverse(candidates, [(12, _unit(1, 0, 0))], 2, 0.99, 0.3) == [3, 6]


def test_suggest_proposes_without_adding_and_accepting_adds(scanned):
    band = next(
        p
        for p in ops.list_people(scanned)
        if len({f.photo_path for f in p.faces}) == 2 and len(p.faces) == 2 and "band" in p.faces[0].photo_path.name
    )
    suggestions = refs.suggest_references(scanned, band.id, count=5)
    assert 1 <= len(suggestions) <= 2
    assert len({s.photo_path for s in suggestions}) == len(suggestions)
    assert [s.quality for s in suggestions] == sorted((s.quality for s in suggestions), reverse=True)
    assert all(s.quality >= refs.QUALITY_FLOOR for s in suggestions)
    assert refs.list_references(scanned, band.id) == []  # only proposed

    added = refs.add_face_reference(scanned, band.id, suggestions[0].face_id).reference_id
    assert refs.add_face_reference(scanned, band.id, suggestions[0].face_id).reference_id == added  # idempotent
    again = refs.suggest_references(scanned, band.id, count=5)
    assert suggestions[0].face_id not in {s.face_id for s in again}


def test_face_and_file_references_are_listed_and_removed(scanned, faces_dir, analyzer):
    person = ops.list_people(scanned)[0]
    face_ref = refs.add_face_reference(scanned, person.id, person.faces[0].id).reference_id
    added = refs.add_file_reference(scanned, person.id, faces_dir / "Hepburn01.png", analyzer=analyzer)
    file_ref = added.change.reference_id
    listed = refs.list_references(scanned, person.id)
    assert [(r.id, r.kind) for r in listed] == [(face_ref, "face"), (file_ref, "file")]
    assert listed[0].photo_path == person.faces[0].photo_path and listed[0].box == person.faces[0].box
    assert listed[1].file_path == faces_dir / "Hepburn01.png"
    assert listed[0].quality == person.faces[0].quality and listed[1].quality is None
    assert ops.get_person(scanned, person.id).reference_count == 2
    refs.remove_reference(scanned, face_ref)
    assert [r.id for r in refs.list_references(scanned, person.id)] == [file_ref]
    with pytest.raises(LibraryError, match="no reference with id"):
        refs.remove_reference(scanned, face_ref)


def test_bad_references_are_refused_with_the_reason(scanned, tmp_path, analyzer):
    first, second = ops.list_people(scanned)[:2]
    with pytest.raises(LibraryError, match="is not one of person"):
        refs.add_face_reference(scanned, first.id, second.faces[0].id)
    with pytest.raises(LibraryError, match="no such image file"):
        refs.add_file_reference(scanned, first.id, tmp_path / "nope.jpg", analyzer=analyzer)
    junk = tmp_path / "junk.jpg"
    junk.write_bytes(b"not an image")
    with pytest.raises(ImageLoadError):
        refs.add_file_reference(scanned, first.id, junk, analyzer=analyzer)
    with pytest.raises(LibraryError, match="--count 0"):
        refs.suggest_references(scanned, first.id, count=0)


def test_a_file_without_a_face_or_cut_short_is_refused_at_once(scanned, tmp_path, analyzer):
    from PIL import Image

    person = ops.list_people(scanned)[0]
    blank = tmp_path / "blank.jpg"
    Image.new("RGB", (400, 300), (200, 200, 200)).save(blank)
    with pytest.raises(LibraryError, match="blank.jpg: no face"):
        refs.add_file_reference(scanned, person.id, blank, analyzer=analyzer)
    whole = (ALBUM / "hepburn_portrait_lowres.jpg").read_bytes()
    truncated = tmp_path / "truncated.jpg"
    truncated.write_bytes(whole[: len(whole) // 2])  # the header is intact: only decoding finds it
    with pytest.raises(ImageLoadError, match="truncated.jpg"):
        refs.add_file_reference(scanned, person.id, truncated, analyzer=analyzer)
    assert refs.list_references(scanned, person.id) == []


def test_a_file_of_someone_else_is_added_but_flagged_with_its_similarity(scanned, faces_dir, analyzer):
    [portrait] = [f for f in ops.unassigned_faces(scanned) if f.photo_path.name == "hepburn_portrait_lowres.jpg"]
    ops.move_faces(scanned, [portrait.id], None, new_name="Audrey Hepburn")
    einstein = refs.add_file_reference(scanned, "Audrey Hepburn", faces_dir / "Einstein01.png", analyzer=analyzer)
    assert einstein.check.looks_like_someone_else
    assert einstein.check.similarity < einstein.check.threshold
    assert einstein.change.reference_id in {r.id for r in refs.list_references(scanned, "Audrey Hepburn")}
    audrey = refs.add_file_reference(scanned, "Audrey Hepburn", faces_dir / "Hepburn01.png", analyzer=analyzer)
    assert not audrey.check.looks_like_someone_else
    assert audrey.check.similarity > einstein.check.similarity
    nobody = ops.create_person(scanned, "Nobody Yet").person_id  # no album face to compare with
    unknown = refs.add_file_reference(scanned, nobody, faces_dir / "Einstein01.png", analyzer=analyzer)
    assert unknown.check.similarity is None and not unknown.check.looks_like_someone_else


def _misgrouped_library(library, tmp_path):
    """Ann holds faces 0, 1 and (by an automatic mistake) 2, which looks like Bob's faces 3 and 4."""
    from faceme_core.library import grouping
    from tests.library.synthetic import DIM, add_faces, near

    rng = np.random.default_rng(0)
    ann, bob = (_unit(*rng.normal(size=DIM)) for _ in range(2))
    looks = [ann, ann, bob, bob, bob]
    faces = add_faces(library, tmp_path, [near(look, rng) for look in looks])
    with library.transaction() as conn:
        ann_id, bob_id = grouping.new_person(conn, "Ann"), grouping.new_person(conn, "Bob")
        grouping._assign(conn, [(faces[0], ann_id), (faces[1], ann_id), (faces[2], ann_id)], "auto")
        grouping._assign(conn, [(faces[3], bob_id), (faces[4], bob_id)], "auto")
    return faces


def _references_and_covers_belong_to_their_people(library) -> bool:
    for person in ops.list_people(library):
        own = {face.id for face in person.faces}
        picked = {ref.face_id for ref in refs.list_references(library, person.id) if ref.face_id is not None}
        if person.cover_face_id is not None:
            picked.add(person.cover_face_id)
        if not picked <= own:
            return False
    return True


def test_a_face_picked_as_reference_or_cover_stays_with_its_person_through_a_recluster(library, tmp_path):
    faces = _misgrouped_library(library, tmp_path)
    refs.add_face_reference(library, "Ann", faces[2])  # the user says: this face is Ann
    ops.set_cover(library, "Ann", faces[2])
    assert {f.id: f.assigned_by for f in ops.get_person(library, "Ann").faces}[faces[2]] == "user"
    ops.recluster(library)
    assert faces[2] in {f.id for f in ops.get_person(library, "Ann").faces}
    assert _references_and_covers_belong_to_their_people(library)


def test_references_recorded_by_older_versions_are_kept_with_their_person_too(library, tmp_path):
    from sqlalchemy import insert, update

    from faceme_core.library.db import schema

    faces = _misgrouped_library(library, tmp_path)
    ann = ops.get_person(library, "Ann").id
    with library.transaction() as conn:  # as FaceMe wrote them before: the face's assignment stays "auto"
        conn.execute(insert(schema.person_refs).values(person_id=ann, face_id=faces[2], added_at=0.0))
        conn.execute(update(schema.people).where(schema.people.c.id == ann).values(cover_face_id=faces[2]))
    ops.recluster(library)
    assert _references_and_covers_belong_to_their_people(library)
