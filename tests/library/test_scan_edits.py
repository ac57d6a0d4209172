"""Scanning after the user edits, replaces, moves or nests photos: their decisions must survive."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
from PIL import Image
from sqlalchemy import event, select

from faceme_core.library import people as people_ops
from faceme_core.library import photos as photo_ops
from faceme_core.library import references
from faceme_core.library.db import schema
from faceme_core.faces.boxes import box_iou
from faceme_core.library.face_match import match_faces
from faceme_core.library.scan import scan_folders
from faceme_core.tasks import Cancelled, CancelToken
from tests.library.conftest import ALBUM, copy_album
from tests.library.test_scan import _ArcFaceLike, _faces_of, _person_with_faces_in, _photos


def test_match_faces_pairs_overlapping_boxes_once_and_checks_identity():
    old = [(0, 0, 10, 10), (20, 0, 30, 10)]
    new = [(21, 0, 31, 10), (1, 0, 11, 10), (50, 50, 60, 60)]
    assert box_iou((0, 0, 10, 10), (0, 0, 10, 10)) == 1.0 and box_iou((0, 0, 1, 1), (2, 2, 3, 3)) == 0.0
    assert match_faces(old, new) == [(0, 1), (1, 0)]
    # Same place, different person: not the same face (the same person elsewhere is, see below).
    vectors_old, vectors_new = [[1.0, 0.0], [0.6, 0.8]], [[0.0, 1.0], [1.0, 0.1], [1.0, 0.0]]
    assert match_faces(old, new, old_vectors=vectors_old, new_vectors=vectors_new, min_similarity=0.9) == [(0, 1)]


def test_match_faces_follows_a_resize_by_place_and_a_crop_by_identity():
    old = [(100, 100, 140, 140), (300, 100, 340, 140)]
    # Resized to 60%: no pixel overlap, the same place relative to the photo.
    resized = [(180, 60, 204, 84), (60, 60, 84, 84)]
    assert match_faces(old, resized) == []
    assert match_faces(old, resized, old_size=(500, 300), new_size=(300, 180)) == [(0, 1), (1, 0)]
    # Cropped: nowhere near the old places; the faces' identities pair them, most similar first,
    # each face once, never below the threshold.
    cropped = [(250, 40, 290, 80), (50, 40, 90, 80), (150, 40, 190, 80)]
    old_vectors = [np.array([1.0, 0.0, 0.0]), np.array([0.0, 1.0, 0.0])]
    new_vectors = [np.array([0.1, 1.0, 0.0]), np.array([1.0, 0.05, 0.0]), np.array([1.0, 0.3, 0.0])]
    pairs = match_faces(
        old, cropped, old_size=(500, 300), new_size=(400, 240), old_vectors=old_vectors, new_vectors=new_vectors,
        min_similarity=0.9,
    )
    assert pairs == [(0, 1), (1, 0)]
    unrelated = [np.array([0.0, 0.0, 1.0])] * 3
    assert match_faces(old, cropped, old_vectors=old_vectors, new_vectors=unrelated, min_similarity=0.5) == []


@pytest.mark.parametrize(
    "edit",
    [
        pytest.param(lambda im: im.resize((im.width * 6 // 10, im.height * 6 // 10), Image.LANCZOS), id="resize-60%"),
        pytest.param(lambda im: im.crop((im.width // 10, im.height // 10, im.width, im.height)), id="crop-10%"),
    ],
)
def test_resized_or_cropped_photo_keeps_the_users_decisions(library, tmp_path, analyzer, edit):
    album = copy_album(tmp_path / "Conference", ("group_four_conference.jpg",))
    scan_folders(library, [album], analyzer)
    faces = _faces_of(library, "group_four_conference.jpg")
    assert len(faces) == 4
    named = {face: people_ops.move_face(library, face, None, new_name=f"Person {k}").person_id for k, face in enumerate(faces)}

    path = album / "group_four_conference.jpg"
    with Image.open(path) as image:
        image.load()
        edit(image).save(path, quality=95)
    summary = scan_folders(library, [album], analyzer)

    assert (summary.changed, summary.faces_added) == (1, 0)
    assert _faces_of(library, "group_four_conference.jpg") == faces
    for face, person_id in named.items():
        person = people_ops.get_person(library, person_id)
        assert [f.id for f in person.faces] == [face]


def test_metadata_edit_keeps_faces_references_cover_and_user_moves(library, small_album, analyzer):
    scan_folders(library, [small_album], analyzer)
    band = _person_with_faces_in(library, "band_four_lowres_a.jpg", "band_four_b.jpg")
    people_ops.rename_person(library, band.id, "Paul")
    face_b = next(f.id for f in band.faces if f.photo_path.name == "band_four_b.jpg")
    ref_id = references.add_face_reference(library, "Paul", face_b).reference_id
    people_ops.set_cover(library, "Paul", face_b)
    other = _faces_of(library, "band_four_b.jpg")
    moved = next(face for face in other if face != face_b)
    ringo = people_ops.move_face(library, moved, None, new_name="Ringo").person_id

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
    ref_id = references.add_face_reference(library, "Paul", face_b).reference_id
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


def test_copy_of_a_photo_in_an_unplugged_album_does_not_take_that_photo(library, small_album, analyzer, tmp_path):
    other = copy_album(tmp_path / "Drive" / "Other", ("film_still_two.jpg",))
    scan_folders(library, [small_album, other], analyzer)
    [face] = _faces_of(library, "Other/film_still_two.jpg")
    grandma = people_ops.move_face(library, face, None, new_name="Grandma").person_id
    shutil.copyfile(other / "film_still_two.jpg", small_album / "copy.jpg")
    (tmp_path / "Drive").rename(tmp_path / "Unplugged")  # the other album's drive is offline

    summary = scan_folders(library, [small_album], analyzer)
    assert (summary.moved, summary.added) == (0, 1)
    assert _faces_of(library, "Other/film_still_two.jpg") == [face]
    # The copy's face is a new row (grouping may well put it on Grandma too).
    [copy_face] = _faces_of(library, "Small/copy.jpg")
    assert copy_face != face and face in {f.id for f in people_ops.get_person(library, grandma).faces}

    (tmp_path / "Unplugged").rename(tmp_path / "Drive")
    summary = scan_folders(library, [other], analyzer)
    assert (summary.unchanged, summary.moved, summary.added) == (1, 0, 0)


def test_a_moved_photo_is_taken_from_a_missing_row_before_an_unscanned_one(library, small_album, analyzer, tmp_path):
    scan_folders(library, [small_album], analyzer)
    shutil.copyfile(small_album / "two_boys.jpg", small_album / "two_boys copy.jpg")
    scan_folders(library, [small_album], analyzer)
    copy_faces = _faces_of(library, "two_boys copy.jpg")
    (small_album / "two_boys copy.jpg").unlink()
    scan_folders(library, [small_album], analyzer)  # the (newer) copy is missing, the original ok
    # The original moves before any scan saw it go: the missing row is the photo found again.
    (small_album / "sub").mkdir()
    shutil.move(small_album / "two_boys.jpg", small_album / "sub" / "found.jpg")
    summary = scan_folders(library, [small_album], analyzer)
    assert (summary.moved, summary.missing) == (1, 1)
    assert _faces_of(library, "sub/found.jpg") == copy_faces


def test_after_a_reembed_with_an_album_offline_scans_of_other_albums_leave_it_alone(
    library, small_album, analyzer, tmp_path
):
    other = copy_album(tmp_path / "Drive" / "Other", ("film_still_two.jpg", "two_sisters_print_scan.jpg"))
    scan_folders(library, [small_album, other], analyzer)
    (tmp_path / "Drive").rename(tmp_path / "Unplugged")
    better = _ArcFaceLike(analyzer)
    summary = scan_folders(library, [small_album], better, reembed=True)
    assert summary.failed == 0

    for _ in range(2):  # every later scan of the first album: no attempt at the offline photos
        summary = scan_folders(library, [small_album], better)
        assert (summary.failed, summary.reembedded, summary.unchanged) == (0, 0, 5)

    (tmp_path / "Unplugged").rename(tmp_path / "Drive")
    other_faces = _faces_of(library, "Other/film_still_two.jpg") + _faces_of(library, "two_sisters_print_scan.jpg")
    summary = scan_folders(library, [other], better)
    assert (summary.failed, summary.reembedded) == (0, len(other_faces))
    assert scan_folders(library, [other, small_album], better).reembedded == 0


def _statements_during(library, action) -> list[str]:
    statements: list[str] = []

    def record(_conn, _cursor, statement, *_args):
        statements.append(statement)

    event.listen(library.engine, "before_cursor_execute", record)
    try:
        action()
    finally:
        event.remove(library.engine, "before_cursor_execute", record)
    return statements


def test_unchanged_rescan_does_not_look_for_faces_without_embeddings(library, small_album, analyzer, tmp_path):
    scan_folders(library, [small_album], analyzer)
    statements = _statements_during(library, lambda: scan_folders(library, [small_album], analyzer))
    assert not [s for s in statements if "embeddings" in s]
    assert len([s for s in statements if s.lstrip().upper().startswith("SELECT")]) <= 6

    # A photo away during a reembed and back afterwards still gets its new embeddings.
    better = _ArcFaceLike(analyzer)
    shutil.move(small_album / "two_boys.jpg", tmp_path / "away.jpg")
    scan_folders(library, [small_album], better, reembed=True)
    statements = _statements_during(library, lambda: scan_folders(library, [small_album], better))
    assert not [s for s in statements if "embeddings" in s]
    shutil.move(tmp_path / "away.jpg", small_album / "back under a new name.jpg")  # found as moved
    summary = scan_folders(library, [small_album], better)
    assert summary.moved == 1
    assert summary.reembedded == len(_faces_of(library, "back under a new name.jpg")) > 0


def test_faces_added_by_a_cancelled_reembed_get_the_old_models_embeddings_next_time(library, small_album, analyzer):
    scan_folders(library, [small_album], analyzer)
    shutil.copyfile(ALBUM / "same_woman_child_and_adult.jpg", small_album / "new.jpg")
    token = CancelToken()
    # Stopped after the new photo is analysed (with the new model only), before re-embedding.
    cancel_at_embedding = lambda event: token.cancel() if event.stage == "embedding" else None
    with pytest.raises(Cancelled):
        scan_folders(library, [small_album], _ArcFaceLike(analyzer), reembed=True, progress=cancel_at_embedding,
                     cancel=token)
    assert len(_faces_of(library, "new.jpg")) > 0  # recorded before the cancel
    new_faces = _faces_of(library, "new.jpg")
    summary = scan_folders(library, [small_album], analyzer)  # the switch never happened: still dlib
    assert summary.reembedded == len(new_faces) > 0
    with library.reading() as conn:
        embedded = conn.execute(
            select(schema.embeddings.c.face_id).where(schema.embeddings.c.model_id == analyzer.embedding_model_id)
        ).scalars()
        assert set(new_faces) <= set(embedded)
