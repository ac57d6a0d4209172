"""Scanning after the user edits, replaces, moves or nests photos: their decisions must survive."""

from __future__ import annotations

import shutil

from sqlalchemy import select

from faceme_core.library import people as people_ops
from faceme_core.library import photos as photo_ops
from faceme_core.library import references
from faceme_core.library.db import schema
from faceme_core.library.face_match import box_iou, match_faces
from faceme_core.library.scan import scan_folders
from tests.library.conftest import copy_album
from tests.library.test_scan import _ArcFaceLike, _faces_of, _person_with_faces_in, _photos


def test_match_faces_pairs_overlapping_boxes_once_and_checks_identity():
    old = [(0, 0, 10, 10), (20, 0, 30, 10)]
    new = [(21, 0, 31, 10), (1, 0, 11, 10), (50, 50, 60, 60)]
    assert box_iou((0, 0, 10, 10), (0, 0, 10, 10)) == 1.0 and box_iou((0, 0, 1, 1), (2, 2, 3, 3)) == 0.0
    assert match_faces(old, new) == [(0, 1), (1, 0)]
    # Same place, different person: not the same face.
    vectors_old, vectors_new = [[1.0, 0.0], [1.0, 0.0]], [[0.0, 1.0], [1.0, 0.1], [1.0, 0.0]]
    assert match_faces(old, new, old_vectors=vectors_old, new_vectors=vectors_new, min_similarity=0.9) == [(0, 1)]


def test_metadata_edit_keeps_faces_references_cover_and_user_moves(library, small_album, analyzer):
    scan_folders(library, [small_album], analyzer)
    band = _person_with_faces_in(library, "band_four_lowres_a.jpg", "band_four_b.jpg")
    people_ops.rename_person(library, band.id, "Paul")
    face_b = next(f.id for f in band.faces if f.photo_path.name == "band_four_b.jpg")
    ref_id = references.add_face_reference(library, "Paul", face_b)
    people_ops.set_cover(library, "Paul", face_b)
    other = _faces_of(library, "band_four_b.jpg")
    moved = next(face for face in other if face != face_b)
    ringo = people_ops.move_face(library, moved, None, new_name="Ringo")

    with open(small_album / "band_four_b.jpg", "ab") as stream:  # e.g. a tag written by a photo manager
        stream.write(b"\0")
    summary = scan_folders(library, [small_album], analyzer)

    assert summary.changed == 1 and summary.faces_added == 0
    assert _faces_of(library, "band_four_b.jpg") == other  # the same face rows
    paul = people_ops.get_person(library, "Paul")
    assert face_b in {f.id for f in paul.faces} and paul.cover_face_id == face_b
    assert [ref.id for ref in references.list_references(library, "Paul")] == [ref_id]
    assert [f.id for f in people_ops.get_person(library, "Ringo").faces] == [moved]
    assert people_ops.get_person(library, "Ringo").id == ringo


def test_missing_photos_path_taken_by_another_file_keeps_the_missing_photo(library, small_album, analyzer, tmp_path):
    scan_folders(library, [small_album], analyzer)
    band = _person_with_faces_in(library, "band_four_lowres_a.jpg", "band_four_b.jpg")
    people_ops.rename_person(library, band.id, "Paul")
    face_b = next(f.id for f in band.faces if f.photo_path.name == "band_four_b.jpg")
    ref_id = references.add_face_reference(library, "Paul", face_b)
    face_count = len(_faces_of(library, "band_four_b.jpg"))
    kept = tmp_path / "kept.jpg"
    shutil.move(small_album / "band_four_b.jpg", kept)
    scan_folders(library, [small_album], analyzer)

    # A new photo gets the old name (cameras and scanners reuse IMG_0001 after a delete).
    shutil.copyfile(small_album / "hepburn_portrait_lowres.jpg", small_album / "band_four_b.jpg")
    summary = scan_folders(library, [small_album], analyzer)
    assert (summary.added, summary.changed) == (1, 0)
    assert _photos(library)["band_four_b.jpg"].status == "ok"
    [missing] = photo_ops.list_photos(library, "missing")
    assert missing.face_count == face_count
    assert face_b in {f.id for f in people_ops.get_person(library, "Paul").faces}
    assert [ref.id for ref in references.list_references(library, "Paul")] == [ref_id]

    # The missing photo turns up elsewhere: recognised by its content, with its people.
    shutil.move(kept, small_album / "found again.jpg")
    summary = scan_folders(library, [small_album], analyzer)
    assert (summary.moved, summary.added) == (1, 0)
    [ref] = references.list_references(library, "Paul")
    assert (ref.id, ref.photo_path, ref.photo_status) == (ref_id, small_album / "found again.jpg", "ok")
    assert photo_ops.list_photos(library, "missing") == []


def test_nested_folders_given_together_are_walked_once(library, small_album, analyzer):
    (small_album / "sub").mkdir()
    shutil.move(small_album / "two_boys.jpg", small_album / "sub" / "two_boys.jpg")
    summary = scan_folders(library, [small_album / "sub", small_album, small_album / "sub"], analyzer)
    assert (summary.found, summary.added, summary.failed) == (5, 5, 0)
    assert len(_photos(library)) == 5


def test_photo_moved_to_another_album_is_recognised_when_only_the_destination_is_scanned(
    library, small_album, analyzer, tmp_path
):
    other = copy_album(tmp_path / "Other", ())
    scan_folders(library, [small_album, other], analyzer)
    faces_before = _faces_of(library, "two_boys.jpg")
    shutil.move(small_album / "two_boys.jpg", other / "two_boys.jpg")
    analyzer.calls.clear()
    summary = scan_folders(library, [other], analyzer)
    assert (summary.moved, summary.added) == (1, 0) and analyzer.calls == []
    assert _faces_of(library, "Other/two_boys.jpg") == faces_before


def test_photo_missing_during_reembed_gets_new_embeddings_when_back(library, small_album, analyzer, tmp_path):
    scan_folders(library, [small_album], analyzer)
    better = _ArcFaceLike(analyzer)
    kept = tmp_path / "kept.jpg"
    shutil.move(small_album / "band_four_b.jpg", kept)
    scan_folders(library, [small_album], better, reembed=True)
    shutil.move(kept, small_album / "band_four_b.jpg")

    summary = scan_folders(library, [small_album], better)
    faces = _faces_of(library, "band_four_b.jpg")
    assert summary.reembedded == len(faces) > 0
    with library.reading() as conn:
        embedded = set(
            conn.execute(
                select(schema.embeddings.c.face_id).where(schema.embeddings.c.model_id == better.model_id)
            ).scalars()
        )
    assert set(faces) <= embedded
    assert scan_folders(library, [small_album], better).reembedded == 0  # once only
