"""The paged item models pass Qt's model tester with real rows, read only the pages shown, and load
thumbnails lazily."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from faceme_core.library import queries
from faceme_desktop.models.faces_model import PersonFacesModel
from faceme_desktop.models.people_model import PeopleModel, decode_face_ids
from faceme_desktop.models.photos_model import PhotosModel
from faceme_desktop.thumbnails import ThumbnailLoader
from tests.desktop.conftest import open_library


@pytest.fixture
def loader(qtbot):
    loader = ThumbnailLoader()
    yield loader
    loader.wait()


def serve(model, library, fn, **bound):
    """Answer the model's page requests at once (the app does it on a worker thread)."""
    asked = []

    def on_needed(generation, offset):
        asked.append(offset)
        model.apply_page(generation, fn(library, offset=offset, limit=model.page_size, **bound))

    model.page_needed.connect(on_needed)
    return asked


def test_models_pass_the_model_tester(qtmodeltester, scanned_library, loader):
    with open_library(scanned_library) as library:
        photos = PhotosModel(loader, 64, page_size=2)
        serve(photos, library, queries.photos_page)
        photos.start()
        assert photos.rowCount() == 5
        qtmodeltester.check(photos)
        people = PeopleModel(loader, 64)
        serve(people, library, queries.people_page, everyone=True)
        people.start()
        qtmodeltester.check(people)
        person = people.row_at(0)
        faces = PersonFacesModel(loader, 64)
        serve(faces, library, queries.person_faces_page, person=person.id)
        faces.start()
        qtmodeltester.check(faces)
        assert faces.rowCount() == person.face_count
        mime = faces.mimeData([faces.index(0), faces.index(1)])
        assert decode_face_ids(mime) == sorted(faces.row_at(i).face_id for i in (0, 1))


def test_only_the_pages_shown_are_read_and_a_refresh_keeps_rows(qtbot, scanned_library, loader):
    with open_library(scanned_library) as library:
        model = PhotosModel(loader, 64, page_size=2)
        asked = serve(model, library, queries.photos_page)
        model.start()
        assert asked == [0] and model.rowCount() == 5
        assert model.row_at(4) is None  # its page was never asked for
        model.index(4).data(Qt.ItemDataRole.DisplayRole)  # shown: its page is asked for
        assert asked == [0, 4] and model.row_at(4) is not None
        name = model.row_at(4).path.name
        model.refresh()  # library changed: rows stay while pages are read again
        assert model.row_at(4).path.name == name
        model.index(4).data(Qt.ItemDataRole.DisplayRole)
        assert asked[-1] == 4


def test_answers_to_an_older_question_are_dropped(qtbot, scanned_library, loader):
    with open_library(scanned_library) as library:
        model = PhotosModel(loader, 64)
        model.start()
        assert model.rowCount() == 0  # nobody answered yet
        stale_generation = model.generation
        model.start()
        model.apply_page(stale_generation, queries.photos_page(library, limit=model.page_size))
        assert model.rowCount() == 0
        model.apply_page(model.generation, queries.photos_page(library, limit=1))
        model.page_size = 1
        assert model.rowCount() == 5 and model.index(3).data(Qt.ItemDataRole.DisplayRole) == "..."


def test_thumbnails_load_lazily_into_the_pixmap_cache(qtbot, scanned_library, loader):
    with open_library(scanned_library) as library:
        model = PeopleModel(loader, 64)
        serve(model, library, queries.people_page, everyone=True)
        model.start()
    index = model.index(0)
    assert index.data(Qt.ItemDataRole.DecorationRole) is None  # not loaded yet: queued
    with qtbot.waitSignal(model.dataChanged, timeout=5000):
        pass
    pixmap = index.data(Qt.ItemDataRole.DecorationRole)
    assert pixmap is not None and not pixmap.isNull() and max(pixmap.width(), pixmap.height()) <= 64 * 2


def test_photo_thumbnails_are_kept_on_disk_per_photo_version(qtbot, tmp_path, gui_album):
    import os
    import shutil

    from faceme_desktop.thumbnails import read_scaled_cached

    photo = tmp_path / "photo.jpg"
    shutil.copyfile(gui_album / "band_four_b.jpg", photo)
    cache = tmp_path / "cache"
    first = read_scaled_cached(photo, 128, cache)
    assert max(first.width(), first.height()) == 128
    entries = list(cache.rglob("*.jpg"))
    assert len(entries) == 1
    again = read_scaled_cached(photo, 128, cache)  # from the cache: same size, no new entry
    assert (again.width(), again.height()) == (first.width(), first.height()) and len(list(cache.rglob("*.jpg"))) == 1
    stat = photo.stat()
    os.utime(photo, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))  # the photo changed: a new entry
    read_scaled_cached(photo, 128, cache)
    assert len(list(cache.rglob("*.jpg"))) == 2
    assert not list(cache.rglob("*.part"))
