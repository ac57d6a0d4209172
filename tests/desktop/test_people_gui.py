"""People decisions through the UI (keys and mouse) change the library as the core says, and undo."""

from __future__ import annotations

from PySide6.QtCore import QItemSelectionModel, Qt
from PySide6.QtWidgets import QApplication, QDialogButtonBox, QLineEdit

from faceme_core.library.people import list_people
from faceme_desktop.views.merge_dialog import MergeDialog
from tests.desktop.conftest import open_library


def people_of(path):
    with open_library(path) as library:
        return {p.id: p for p in list_people(library)}


def people_window(make_window, scanned_library, qtbot):
    window = make_window(scanned_library)
    window.show_view("people")
    qtbot.waitUntil(lambda: window.people.model.rowCount() == 5, timeout=5000)
    return window


def test_rename_in_place_with_f2_then_undo_and_redo(make_window, scanned_library, qtbot):
    window = people_window(make_window, scanned_library, qtbot)
    grid = window.people.grid
    index = window.people.model.index(0, 0)
    person_id = index.data(257)
    grid.setFocus()
    grid.setCurrentIndex(index)
    qtbot.keyClick(grid, Qt.Key.Key_F2)
    editor = QApplication.focusWidget()
    assert isinstance(editor, QLineEdit), "F2 did not open the in-place editor"
    editor.selectAll()
    qtbot.keyClicks(editor, "Grandma Rose")
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: people_of(scanned_library)[person_id].name == "Grandma Rose", timeout=5000)
    qtbot.waitUntil(lambda: any(window.people.model.row_at(i).name == "Grandma Rose" for i in range(window.people.model.rowCount())), timeout=5000)
    undo = window.actions_by_name["undo"]
    qtbot.waitUntil(undo.isEnabled, timeout=5000)
    assert "Grandma Rose" in undo.text()
    qtbot.keyClick(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)  # Ctrl+Z
    qtbot.waitUntil(lambda: people_of(scanned_library)[person_id].name is None, timeout=5000)
    qtbot.waitUntil(window.actions_by_name["redo"].isEnabled, timeout=5000)
    qtbot.keyClick(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    qtbot.waitUntil(lambda: people_of(scanned_library)[person_id].name == "Grandma Rose", timeout=5000)


def test_merge_a_into_b_with_the_dialog_then_undo(make_window, scanned_library, qtbot):
    window = people_window(make_window, scanned_library, qtbot)
    before = people_of(scanned_library)
    grid = window.people.grid
    first, second = window.people.model.index(0, 0), window.people.model.index(1, 0)
    grid.selectionModel().select(first, QItemSelectionModel.SelectionFlag.Select)
    grid.selectionModel().select(second, QItemSelectionModel.SelectionFlag.Select)
    grid.setFocus()
    qtbot.keyClick(grid, Qt.Key.Key_M, Qt.KeyboardModifier.ControlModifier)  # Ctrl+M
    dialog = window.people.findChild(MergeDialog)
    assert dialog is not None and dialog.isVisible()
    source, target = dialog.source, dialog.target
    assert f"Merge {source.display_name} into {target.display_name}" == dialog.windowTitle()
    assert f"{source.face_count + target.face_count} faces" in dialog.text.text()
    dialog.swap()  # the user may turn the direction around; the dialog says the new one
    source, target = dialog.source, dialog.target
    qtbot.mouseClick(dialog.merge_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: source.id not in people_of(scanned_library), timeout=5000)
    after = people_of(scanned_library)
    assert {f.id for f in after[target.id].faces} == {f.id for f in before[source.id].faces} | {
        f.id for f in before[target.id].faces}
    qtbot.waitUntil(lambda: window.people.model.rowCount() == 4, timeout=5000)
    qtbot.waitUntil(window.actions_by_name["undo"].isEnabled, timeout=5000)
    window.actions_by_name["undo"].trigger()
    qtbot.waitUntil(lambda: set(people_of(scanned_library)) == set(before), timeout=5000)
    assert {f.id for f in people_of(scanned_library)[source.id].faces} == {f.id for f in before[source.id].faces}


def test_not_this_person_with_delete_on_the_person_page(make_window, scanned_library, qtbot):
    window = people_window(make_window, scanned_library, qtbot)
    index = window.people.model.index(0, 0)
    person_id = index.data(257)
    window.people.open_person(person_id)
    page = window.people.page
    qtbot.waitUntil(lambda: page.model.rowCount() == 2, timeout=5000)
    face_id = page.model.row_at(0).face_id
    page.grid.setFocus()
    page.grid.setCurrentIndex(page.model.index(0))
    qtbot.keyClick(page.grid, Qt.Key.Key_Delete)
    qtbot.waitUntil(lambda: face_id not in {f.id for f in people_of(scanned_library).get(person_id, None).faces}, timeout=5000)
    with open_library(scanned_library) as library:
        from sqlalchemy import select

        from faceme_core.library.db import schema

        with library.reading() as conn:
            rejected = conn.execute(select(schema.rejections.c.person_id).where(schema.rejections.c.face_id == face_id)).scalars().all()
    assert rejected == [person_id]  # remembered: automation never puts it back
    qtbot.waitUntil(lambda: page.model.rowCount() == 1, timeout=5000)


def test_hide_and_drag_faces_onto_another_person(make_window, scanned_library, qtbot):
    window = people_window(make_window, scanned_library, qtbot)
    people = window.people.model
    source_id, target_id = people.index(0).data(257), people.index(1).data(257)
    window.people.open_person(source_id)
    page = window.people.page
    qtbot.waitUntil(lambda: page.model.rowCount() == 2, timeout=5000)
    mime = page.model.mimeData([page.model.index(0)])
    face_id = page.model.row_at(0).face_id
    targets = page.targets.model()
    qtbot.waitUntil(lambda: targets.rowCount() == 5, timeout=5000)
    target_row = next(r for r in range(targets.rowCount()) if targets.index(r).data(257) == target_id)
    # What QListView does on a drop onto an item of the people list beside the faces.
    assert targets.dropMimeData(mime, Qt.DropAction.MoveAction, -1, -1, targets.index(target_row)) is False
    qtbot.waitUntil(lambda: face_id in {f.id for f in people_of(scanned_library)[target_id].faces}, timeout=5000)
    # Hide (Ctrl+H) the person the face went to: gone from the list, kept in the library, undoable.
    window.people.show_list()
    qtbot.waitUntil(lambda: window.people.model.index_of_id(target_id).isValid(), timeout=5000)
    window.people.grid.setCurrentIndex(window.people.model.index_of_id(target_id))
    window.people.grid.setFocus()
    qtbot.keyClick(window.people.grid, Qt.Key.Key_H, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: people_of(scanned_library)[target_id].hidden, timeout=5000)
    qtbot.waitUntil(lambda: not window.people.model.index_of_id(target_id).isValid(), timeout=5000)


def test_move_selected_faces_to_another_person_with_m(make_window, scanned_library, qtbot):
    from faceme_desktop.views.move_dialog import MoveDialog

    window = people_window(make_window, scanned_library, qtbot)
    source_id, target_id = window.people.model.index(0).data(257), window.people.model.index(1).data(257)
    window.people.open_person(source_id)
    page = window.people.page
    qtbot.waitUntil(lambda: page.model.rowCount() == 2, timeout=5000)
    page.grid.setFocus()
    page.grid.selectAll()  # multi-select: both faces
    qtbot.keyClick(page.grid, Qt.Key.Key_M)
    dialog = page.findChild(MoveDialog)
    assert dialog is not None and dialog.isVisible()
    qtbot.waitUntil(lambda: dialog.combo.count() >= 4, timeout=5000)
    dialog.combo.setEditText(dialog.combo.itemText(dialog.combo.findData(target_id)))
    qtbot.mouseClick(dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Ok), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: source_id not in people_of(scanned_library), timeout=5000)  # emptied: removed
    assert len(people_of(scanned_library)[target_id].faces) == 4


def test_dropped_reference_file_of_someone_else_is_flagged(make_window, scanned_library, faces_dir, qtbot):
    """Einstein's portrait dropped on a person of the band: added (the user chose it) and flagged."""
    window = people_window(make_window, scanned_library, qtbot)
    person_id = window.people.model.index(0).data(257)
    window.people.open_person(person_id)
    strip = window.people.page.references
    qtbot.waitUntil(lambda: strip.person_id == person_id, timeout=10_000)
    strip.add_files([faces_dir / "Einstein01.png"])
    qtbot.waitUntil(lambda: strip.flag.isVisibleTo(strip), timeout=30_000)
    assert "Einstein01.png looks like someone else" in strip.flag.text()
    with open_library(scanned_library) as library:
        from faceme_core.library.references import list_references

        assert [r.file_path.name for r in list_references(library, person_id) if r.kind == "file"] == ["Einstein01.png"]


def test_the_merge_sentence_counts_faces_in_words_and_names_the_survivor():
    from faceme_core.library.queries import PersonRow
    from faceme_desktop.views.merge_dialog import merge_outcome

    def person(id_, name, faces):
        return PersonRow(id_, name, False, faces, None, None, 0, None)

    assert merge_outcome(person(2, None, 2), person(1, "Grandma", 2)).startswith(
        "Both faces of <b>person 2</b> move to <b>Grandma</b>, which then has 4 faces and is called <b>Grandma</b>.")
    assert merge_outcome(person(2, "Rose", 1), person(1, None, 5)).startswith("The face of <b>Rose</b>")
    assert "is called <b>Rose</b>" in merge_outcome(person(2, "Rose", 1), person(1, None, 5))  # the named one wins
    assert merge_outcome(person(2, None, 7), person(1, None, 1)).startswith("All 7 faces of")
