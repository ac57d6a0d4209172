"""The item models pass Qt's model tester with real rows, and the people filter does what it says."""

from __future__ import annotations

from pathlib import Path

import pytest

from faceme_desktop import core_queries
from faceme_desktop.core_queries import PersonSummary
from faceme_desktop.models.faces_model import PersonFacesModel
from faceme_desktop.models.people_model import CROWDED, PeopleFilterModel, PeopleModel, decode_face_ids
from faceme_desktop.models.photos_model import PhotosModel
from faceme_desktop.models.roles import ID_ROLE
from faceme_desktop.thumbnails import ThumbnailLoader
from tests.desktop.conftest import open_library


@pytest.fixture
def loader(qtbot):
    loader = ThumbnailLoader()
    yield loader
    loader.wait()


def test_models_pass_the_model_tester(qtmodeltester, scanned_library, loader):
    with open_library(scanned_library) as library:
        photos = core_queries.list_photo_rows(library)
        people = core_queries.people_summaries(library)
        faces = core_queries.person_faces_least_similar_first(library, people[0].id)
    photos_model = PhotosModel(loader, 64)
    photos_model.set_rows(photos)
    qtmodeltester.check(photos_model)
    people_model = PeopleModel(loader, 64)
    people_model.set_rows(people)
    qtmodeltester.check(people_model)
    proxy = PeopleFilterModel()
    proxy.setSourceModel(people_model)
    proxy.set_show_small(True)
    qtmodeltester.check(proxy)
    faces_model = PersonFacesModel(loader, 64)
    faces_model.set_rows(faces)
    qtmodeltester.check(faces_model)
    assert faces_model.rowCount() == people[0].face_count
    mime = faces_model.mimeData([faces_model.index(0), faces_model.index(1)])
    assert decode_face_ids(mime) == sorted(f.face_id for f in faces[:2])


def _person(id, name, count, last=0.0):
    return PersonSummary(id, name, False, count, 0, None, last)


def test_people_filter_hides_small_unnamed_groups_and_sorts(qtbot, loader):
    model = PeopleModel(loader, 64)
    strangers = [_person(100 + i, None, 1) for i in range(CROWDED)]  # enough people to hide small groups
    model.set_rows([_person(1, None, 2, 5.0), _person(2, "Zoe", 1, 1.0), _person(3, None, 9, 2.0), _person(4, "adam", 4, 9.0)] + strangers)
    proxy = PeopleFilterModel()
    proxy.setSourceModel(model)
    proxy.sort(0)

    def ids():
        return [proxy.index(i, 0).data(ID_ROLE) for i in range(proxy.rowCount())]

    assert ids() == [3, 4, 2]  # by count; the unnamed pair is hidden, named Zoe with 1 face is not
    assert proxy.hidden_small_groups() == 1 + CROWDED
    proxy.set_sort_key("name")
    assert ids() == [4, 2, 3]
    proxy.set_sort_key("recent")
    assert ids() == [4, 3, 2]
    proxy.set_show_small(True)
    assert ids()[:4] == [4, 1, 3, 2] and len(ids()) == 4 + CROWDED
    proxy.set_search("zo")
    assert ids() == [2]


def test_thumbnails_load_lazily_into_the_pixmap_cache(qtbot, scanned_library, loader):
    with open_library(scanned_library) as library:
        people = core_queries.people_summaries(library)
    model = PeopleModel(loader, 64)
    model.set_rows(people)
    index = model.index(0)
    assert index.data(1) is None  # DecorationRole: not loaded yet, queued
    with qtbot.waitSignal(model.dataChanged, timeout=5000):
        pass
    pixmap = index.data(1)
    assert pixmap is not None and not pixmap.isNull() and max(pixmap.width(), pixmap.height()) <= 64 * 2
    assert Path(people[0].cover_thumbnail).exists()
