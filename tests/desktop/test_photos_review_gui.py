"""The photo view (boxes by state, click a face and name it), the Review queue and the Restore list."""

from __future__ import annotations

from PySide6.QtCore import Qt

from faceme_core.library.people import list_people
from faceme_desktop.views.face_colors import STATE_COLORS
from tests.desktop.conftest import open_library


def test_photo_grid_folder_filter_and_opening_a_photo_to_name_a_face(make_window, scanned_library, gui_album, qtbot):
    window = make_window(scanned_library)
    photos = window.photos
    qtbot.waitUntil(lambda: photos.model.rowCount() == 5 and photos.folders.count() == 2, timeout=5000)
    assert photos.folders.item(1).text() == f"{gui_album.name} (5)"
    photos.folders.setCurrentRow(1)  # the album folder: the same five photos, filtered by folder
    qtbot.waitUntil(lambda: photos.folder == gui_album, timeout=2000)
    row = next(r for r in range(photos.model.rowCount()) if photos.model.row_at(r).path.name == "two_boys.jpg")
    photos.grid.activated.emit(photos.model.index(row))
    page = photos.page
    qtbot.waitUntil(lambda: len(page.canvas.items_by_face) == 2, timeout=5000)
    colours = {item.pen().color().name() for item in page.canvas.items_by_face.values()}
    assert colours <= {c.name() for c in STATE_COLORS.values()}
    # Click the middle of a face box on screen.
    face_id, item = next(iter(page.canvas.items_by_face.items()))
    point = page.canvas.mapFromScene(item.sceneBoundingRect().center())
    qtbot.mouseClick(page.canvas.viewport(), Qt.MouseButton.LeftButton, pos=point)
    assert page.panel.face is not None and page.panel.face.face_id == face_id
    qtbot.keyClicks(page.panel.name_edit, "Cousin Max")
    qtbot.keyClick(page.panel.name_edit, Qt.Key.Key_Return)

    def named():
        with open_library(scanned_library) as library:
            return next((p for p in list_people(library) if p.name == "Cousin Max"), None)

    qtbot.waitUntil(lambda: named() is not None, timeout=5000)
    assert face_id in {f.id for f in named().faces}
    # The box turns "named" (the user's decision) and shows the name.
    qtbot.waitUntil(lambda: page.canvas.items_by_face.get(face_id) is not None and page.canvas.items_by_face[face_id].face.state == "named", timeout=5000)
    assert page.canvas.items_by_face[face_id].face.person_name == "Cousin Max"
    assert page.panel.face is not None and page.panel.face.face_id == face_id  # still selected after the reload
    # "Open person" goes to the person's page, which shows the face.
    qtbot.mouseClick(page.panel.open_button, Qt.MouseButton.LeftButton)
    person_page = window.people.page
    assert window.stack.currentWidget() is window.people and person_page.person_id == named().id
    qtbot.waitUntil(lambda: person_page.model.index_of_id(face_id).isValid(), timeout=5000)
    # Set it as the person's cover.
    person_page.grid.setCurrentIndex(person_page.model.index_of_id(face_id))
    qtbot.mouseClick(person_page.buttons["cover"], Qt.MouseButton.LeftButton)

    def cover():
        with open_library(scanned_library) as library:
            return next(p.cover_face_id for p in list_people(library) if p.name == "Cousin Max")

    qtbot.waitUntil(lambda: cover() == face_id, timeout=5000)


def test_review_answers_with_the_keyboard(make_window, scanned_library, qtbot):
    window = make_window(scanned_library)
    window.show_view("review")
    review = window.review
    qtbot.waitUntil(lambda: review.current is not None, timeout=5000)
    total = len(review.items)
    item = review.current
    review.setFocus()
    qtbot.keyClick(review, Qt.Key.Key_Right)  # skip: the next question, nothing decided
    assert review.current is not None and review.current.key != item.key or total == 1
    qtbot.keyClick(review, Qt.Key.Key_Left)
    answered = review.current
    with open_library(scanned_library) as library:
        before = {p.id: {f.id for f in p.faces} for p in list_people(library)}
    qtbot.keyClick(review, Qt.Key.Key_Return)  # yes

    def after():
        with open_library(scanned_library) as library:
            return {p.id: {f.id for f in p.faces} for p in list_people(library)}

    qtbot.waitUntil(lambda: after() != before, timeout=5000)
    now = after()
    if answered.kind == "same_person":
        assert answered.person_b not in now and now[answered.person_a] == before[answered.person_a] | before[answered.person_b]
    elif answered.kind == "twice_in_photo":
        assert answered.face_b not in now.get(answered.person_a, set())
    else:
        assert answered.face_a in now[answered.person_a]


def test_photos_on_the_command_line_are_listed_for_restore(make_window, scanned_library, gui_album, qtbot):
    photo = gui_album / "two_boys.jpg"
    window = make_window(scanned_library, photos=(photo,))
    assert window.stack.currentWidget() is window.restore
    assert window.restore.photos == [photo]


def test_folder_labels_tell_same_named_folders_apart():
    from pathlib import Path

    from faceme_core.library.queries import FolderRow
    from faceme_desktop.views.photos_view import folder_label

    folders = [FolderRow(Path("/home/a/Album/1960/roll"), 3), FolderRow(Path("/home/a/Album/1961/roll"), 2)]
    assert [folder_label(f.path, folders) for f in folders] == ["Album/1960/roll", "Album/1961/roll"]
    single = [FolderRow(Path("/home/a/Family album"), 9)]
    assert folder_label(single[0].path, single) == "Family album"


def test_pages_left_open_show_a_rename_made_in_another_view(make_window, scanned_library, qtbot):
    from faceme_core.library.people import rename_person

    window = make_window(scanned_library)
    photos, people = window.photos, window.people
    qtbot.waitUntil(lambda: photos.model.rowCount() == 5 and photos.model.row_at(4) is not None, timeout=5000)
    row = next(r for r in range(5) if photos.model.row_at(r).path.name == "two_boys.jpg")
    photos.open_photo(photos.model.row_at(row).id)
    qtbot.waitUntil(lambda: len(photos.page.canvas.items_by_face) == 2, timeout=5000)
    face = next(item.face for item in photos.page.canvas.items_by_face.values() if item.face.person_id is not None)
    window.open_person(face.person_id)  # the person's page, while the photo page stays open behind
    qtbot.waitUntil(lambda: people.page.person is not None and people.page.person.id == face.person_id, timeout=5000)
    window.show_view("review")  # both pages hidden now; the rename comes from elsewhere
    window.session.edit("Rename", rename_person, face.person_id, "Renamed Elsewhere")
    qtbot.waitUntil(lambda: window.session.pending_edits == 0, timeout=5000)
    window.show_view("people")
    qtbot.waitUntil(lambda: people.page.person.display_name == "Renamed Elsewhere", timeout=5000)
    window.show_view("photos")
    qtbot.waitUntil(lambda: photos.page.canvas.items_by_face[face.face_id].face.person_name == "Renamed Elsewhere",
                    timeout=5000)
