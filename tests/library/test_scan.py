"""`scan_folders`: incremental, move-aware, failure-tolerant scanning that never touches the album."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import select

from faceme_core.errors import LibraryError
from faceme_core.faces.types import Embedding, Face, PhotoFaces
from faceme_core.library import people as people_ops
from faceme_core.library import references
from faceme_core.library.db import schema
from faceme_core.library.albums import register_albums
from faceme_core.library.scan import ACTIVE_MODEL_KEY, scan_folders
from faceme_core.tasks import Cancelled, CancelToken
from tests.library.conftest import ReplayAnalyzer, file_hashes


def _photos(library) -> dict[str, object]:
    with library.reading() as conn:
        return {Path(row.path).name: row for row in conn.execute(select(schema.photos))}


def _faces_of(library, name: str) -> list[int]:
    with library.reading() as conn:
        return (
            conn.execute(
                select(schema.faces.c.id)
                .join(schema.photos)
                .where(schema.photos.c.path.like(f"%{name}"))
                .order_by(schema.faces.c.id)
            )
            .scalars()
            .all()
        )


def _all_faces(library):
    with library.reading() as conn:
        return conn.execute(select(schema.faces)).all()


def _person_with_faces_in(library, *names: str):
    for person in people_ops.list_people(library):
        if all(any(face.photo_path.name == name for face in person.faces) for name in names):
            return person
    raise AssertionError(f"no person has faces in all of {names}")


def test_first_scan_records_photos_faces_and_people_without_touching_the_album(library, album, analyzer):
    before = file_hashes(album)
    progress = []
    summary = scan_folders(library, [album], analyzer, progress=progress.append)

    assert (summary.found, summary.added, summary.failed) == (9, 9, 0)
    photos = _photos(library)
    assert set(photos) == set(before)
    hepburn = photos["hepburn_portrait_lowres.jpg"]
    assert (hepburn.status, hepburn.width, hepburn.height, len(hepburn.content_hash)) == ("ok", 225, 225, 32)
    with library.reading() as conn:
        faces = conn.execute(select(schema.faces)).all()
        models = set(conn.execute(select(schema.embeddings.c.model_id)).scalars())
    assert len(faces) == summary.faces_added >= 15
    assert models == {"dlib/resnet-v1"}
    # Thumbnails are cached beside the library, never in the album, and the album is byte-identical.
    assert all((library.thumbnails_dir / face.thumbnail).is_file() for face in faces)
    assert file_hashes(album) == before
    # The band is in two photos, the boy at the railing is the left boy of two_boys: grouped.
    assert summary.people_created >= 2
    _person_with_faces_in(library, "band_four_lowres_a.jpg", "band_four_b.jpg")
    _person_with_faces_in(library, "boy_at_railing_lowres.jpg", "two_boys.jpg")
    analysing = [p for p in progress if p.stage == "analysing"]
    assert analysing[0].total == 9 and analysing[-1].done == 9
    assert any(p.eta_seconds is not None for p in analysing[1:-1])


def test_unchanged_rescan_analyses_nothing(library, small_album, analyzer):
    scan_folders(library, [small_album], analyzer)
    analyzer.calls.clear()
    with library.reading() as conn:
        before = conn.execute(select(schema.faces.c.id, schema.assignments.c.person_id).join(schema.assignments)).all()
    summary = scan_folders(library, [small_album], analyzer)
    assert (summary.unchanged, summary.added, summary.people_created) == (5, 0, 0)
    assert analyzer.calls == []
    with library.reading() as conn:
        assert (
            conn.execute(select(schema.faces.c.id, schema.assignments.c.person_id).join(schema.assignments)).all()
            == before
        )


def test_moved_and_renamed_photo_keeps_its_faces_people_and_references(library, small_album, analyzer):
    scan_folders(library, [small_album], analyzer)
    boy = _person_with_faces_in(library, "boy_at_railing_lowres.jpg", "two_boys.jpg")
    people_ops.rename_person(library, boy.id, "Tom")
    face_id = next(face.id for face in boy.faces if face.photo_path.name == "two_boys.jpg")
    ref_id = references.add_face_reference(library, "Tom", face_id).reference_id
    faces_before = _faces_of(library, "two_boys.jpg")

    (small_album / "1998").mkdir()
    shutil.move(small_album / "two_boys.jpg", small_album / "1998" / "brothers.jpg")
    analyzer.calls.clear()
    summary = scan_folders(library, [small_album], analyzer)

    assert (summary.moved, summary.added, summary.missing) == (1, 0, 0)
    assert analyzer.calls == []
    assert "two_boys.jpg" not in _photos(library)
    assert _faces_of(library, "1998/brothers.jpg") == faces_before
    tom = people_ops.get_person(library, "Tom")
    assert face_id in [face.id for face in tom.faces]
    [ref] = references.list_references(library, "Tom")
    assert (ref.id, ref.photo_path) == (ref_id, small_album / "1998" / "brothers.jpg")


def test_deleted_photo_is_marked_missing_and_comes_back_intact(library, small_album, analyzer):
    scan_folders(library, [small_album], analyzer)
    band = _person_with_faces_in(library, "band_four_lowres_a.jpg", "band_four_b.jpg")
    kept = small_album.parent / "kept.jpg"
    shutil.move(small_album / "band_four_b.jpg", kept)

    summary = scan_folders(library, [small_album], analyzer)
    assert summary.missing == 1
    assert _photos(library)["band_four_b.jpg"].status == "missing"
    # Not forgotten: the faces and the person are still there.
    assert [f.id for f in people_ops.get_person(library, band.id).faces] == [f.id for f in band.faces]

    shutil.move(kept, small_album / "band_four_b.jpg")
    analyzer.calls.clear()
    scan_folders(library, [small_album], analyzer)
    assert _photos(library)["band_four_b.jpg"].status == "ok"
    assert analyzer.calls == []


def test_bad_files_are_recorded_and_the_scan_goes_on(library, small_album, analyzer):
    (small_album / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    summary = scan_folders(library, [small_album], analyzer)
    assert (summary.added, summary.failed) == (5, 1)
    assert summary.failures[0][0] == small_album / "broken.jpg"
    broken = _photos(library)["broken.jpg"]
    assert broken.status == "error" and broken.error

    analyzer.calls.clear()
    assert scan_folders(library, [small_album], analyzer).failed == 0  # unchanged: not retried
    assert analyzer.calls == []

    shutil.copyfile(small_album / "hepburn_portrait_lowres.jpg", small_album / "broken.jpg")  # fixed
    summary = scan_folders(library, [small_album], analyzer)
    assert summary.changed == 1
    assert _photos(library)["broken.jpg"].status == "ok"
    assert len(_faces_of(library, "broken.jpg")) == 1


def test_new_content_at_the_same_path_is_analysed_again(library, small_album, analyzer):
    scan_folders(library, [small_album], analyzer)
    old_faces = _faces_of(library, "two_boys.jpg")
    old_thumbnails = {library.thumbnails_dir / f.thumbnail for f in _all_faces(library) if f.id in old_faces}
    assert old_thumbnails and all(path.is_file() for path in old_thumbnails)
    shutil.copyfile(small_album / "hepburn_portrait_lowres.jpg", small_album / "two_boys.jpg")
    summary = scan_folders(library, [small_album], analyzer)
    assert summary.changed == 1
    new_faces = _faces_of(library, "two_boys.jpg")
    assert len(new_faces) == 1 and not set(new_faces) & set(old_faces)
    assert not any(path.exists() for path in old_thumbnails)  # no stale cache left behind
    # The copy shares its thumbnail with the original Hepburn photo; both stay usable.
    assert all((library.thumbnails_dir / f.thumbnail).is_file() for f in _all_faces(library))


def test_faceme_outputs_and_the_library_folder_are_not_scanned(tmp_path, small_album, analyzer):
    from faceme_core.imageio import load_photo, save_photo
    from faceme_core.library.library import Library

    save_photo(load_photo(small_album / "two_boys.jpg"), small_album / "two_boys_restored.jpg")
    with Library.open(small_album / "library" / "faces.sqlite") as library:  # library inside the album
        summary = scan_folders(library, [small_album], analyzer)
        assert (summary.found, summary.outputs_skipped) == (5, 1)
        assert "two_boys_restored.jpg" not in _photos(library)
        assert library.thumbnails_dir.is_relative_to(small_album) and any(library.thumbnails_dir.rglob("*.jpg"))
        assert scan_folders(library, [small_album], analyzer).found == 5  # thumbnails never become photos
    # Nor do another library's thumbnails (a user data folder inside the scanned folder).
    with Library.open(tmp_path / "other.sqlite") as other:
        summary = scan_folders(other, [small_album], analyzer)
        assert summary.found == 5 and not any("thumbnails" in path for path in _photos(other))


def test_folder_arguments_are_checked(library, small_album, analyzer):
    with pytest.raises(LibraryError, match="no such folder"):
        scan_folders(library, [small_album / "nope"], analyzer)
    with pytest.raises(LibraryError, match="not a folder"):
        scan_folders(library, [small_album / "two_boys.jpg"], analyzer)


def test_nested_folders_share_one_album(library, tmp_path):
    outer, inner = tmp_path / "Photos", tmp_path / "Photos" / "1990"
    inner.mkdir(parents=True)
    with library.transaction() as conn:
        first = register_albums(conn, [str(inner)])
        second = register_albums(conn, [str(outer)])  # the parent absorbs the child album
        third = register_albums(conn, [str(inner)])
        albums = conn.execute(select(schema.albums.c.path)).scalars().all()
    assert albums == [str(outer)]
    assert second[str(outer)] == third[str(inner)] != first[str(inner)]


def test_cancel_stops_between_photos_and_a_rerun_finishes(library, small_album, analyzer):
    token = CancelToken()
    events = []

    def progress(event):
        events.append(event)
        if event.stage == "analysing" and event.item and event.done == 2:
            token.cancel()  # while the third photo is about to be recorded

    with pytest.raises(Cancelled):
        scan_folders(library, [small_album], analyzer, progress=progress, cancel=token)
    photos = _photos(library)
    assert len(photos) == 2 and all(row.status == "ok" for row in photos.values())  # none "failed"
    assert events[-1].stage == "analysing" and events[-1].done == 2  # nothing reported after the cancel
    summary = scan_folders(library, [small_album], analyzer)
    assert (summary.added, summary.unchanged, summary.failed) == (3, 2, 0)
    assert all(row.status == "ok" for row in _photos(library).values())


# --- a better embedding model arrives ----------------------------------------------------------


class _ArcFaceLike:
    """A stand-in for the insightface backend: dlib vectors mapped into 512 dims by a fixed isometry
    (so who looks like whom is unchanged), under insightface's model id."""

    model_id = "insightface/antelopev2/glintr100"

    def __init__(self, dlib_analyzer: ReplayAnalyzer):
        self.inner = dlib_analyzer
        basis, _ = np.linalg.qr(np.random.default_rng(0).normal(size=(512, 128)))
        self.basis = basis.astype(np.float32)
        self.name = "insightface"
        self.embedding_model_id = self.model_id
        self.backend = self

    def _map(self, embedding: Embedding) -> Embedding:
        vector = self.basis @ embedding.vector
        return Embedding(self.model_id, vector / np.linalg.norm(vector))

    def embed(self, rgb, detection) -> Embedding:
        return self._map(self.inner.backend.embed(rgb, detection))

    def analyze(self, photo) -> PhotoFaces:
        found = self.inner.analyze(photo)
        faces = [Face(f.detection, self._map(f.embedding), f.quality) for f in found.faces]
        return PhotoFaces(found.size_wh, faces, found.skipped, self.name)


def test_reembed_switches_model_and_keeps_every_user_decision(library, small_album, analyzer):
    scan_folders(library, [small_album], analyzer)
    band = _person_with_faces_in(library, "band_four_lowres_a.jpg", "band_four_b.jpg")
    people_ops.rename_person(library, band.id, "Bandmate")
    hepburn_face = _faces_of(library, "hepburn_portrait_lowres.jpg")[0]
    audrey = people_ops.move_face(library, hepburn_face, None, new_name="Audrey").person_id
    rejected_face = next(face.id for face in band.faces if face.photo_path.name == "band_four_b.jpg")
    people_ops.reject_face(library, rejected_face, "Bandmate")

    better = _ArcFaceLike(analyzer)
    with pytest.raises(LibraryError, match="--reembed"):
        scan_folders(library, [small_album], better)

    summary = scan_folders(library, [small_album], better, reembed=True)
    with library.reading() as conn:
        models = conn.execute(select(schema.embeddings.c.model_id)).scalars().all()
        total_faces = len(conn.execute(select(schema.faces.c.id)).all())
    assert summary.reembedded == total_faces
    assert models.count("dlib/resnet-v1") == models.count(better.model_id) == total_faces
    assert library.get_meta(ACTIVE_MODEL_KEY) == better.model_id
    # User decisions survive the switch (automatic grouping around them may differ: new thresholds).
    audrey_now = people_ops.get_person(library, "Audrey")
    assert audrey_now.id == audrey and hepburn_face in {f.id for f in audrey_now.faces}
    assert next(f for f in audrey_now.faces if f.id == hepburn_face).assigned_by == "user"
    assert people_ops.get_person(library, "Bandmate").id == band.id
    assert all(rejected_face not in {f.id for f in p.faces} for p in people_ops.list_people(library) if p.id == band.id)
    # A rescan with the new model is now the normal, free case.
    assert scan_folders(library, [small_album], better).unchanged == 5


def test_idle_rescan_skips_grouping_but_a_scan_killed_before_grouping_finishes_it(library, small_album, analyzer):
    from faceme_core.library.library import set_meta
    from faceme_core.library.scan import GROUPING_PENDING_KEY

    scan_folders(library, [small_album], analyzer)
    people_before = {p.id: {f.id for f in p.faces} for p in people_ops.list_people(library)}
    phases = []
    scan_folders(library, [small_album], analyzer, progress=lambda p: phases.append(p.stage))
    assert "grouping" not in phases

    with library.transaction() as conn:  # the state a kill between the last photo and grouping leaves
        conn.execute(schema.assignments.delete())
        conn.execute(schema.people.delete())
        set_meta(conn, GROUPING_PENDING_KEY, "1")
    summary = scan_folders(library, [small_album], analyzer)
    assert summary.added == 0 and summary.people_created == len(people_before)
    assert sorted(map(sorted, ({f.id for f in p.faces} for p in people_ops.list_people(library)))) == sorted(
        map(sorted, people_before.values())
    )
