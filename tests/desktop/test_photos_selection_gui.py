"""Photos chosen in the grid (Ctrl+click, Ctrl+A) go to Restore or become a restore job."""

from __future__ import annotations

from PySide6.QtCore import Qt

from faceme_core.library.jobs import job_items, list_jobs
from tests.desktop.conftest import open_library
from tests.library.fakes import fake_restore


def grid_row(photos, name: str) -> int:
    return next(r for r in range(photos.model.rowCount()) if photos.model.row_at(r).path.name == name)


def test_ctrl_click_two_photos_and_restore_them(make_window, scanned_library, gui_album, analyzer, qtbot):
    window = make_window(scanned_library, analyzer=analyzer)
    photos = window.photos
    qtbot.waitUntil(lambda: photos.model.rowCount() == 5 and photos.model.row_at(4) is not None, timeout=5000)
    button = photos.buttons["restoreSelected"]
    assert not button.isEnabled() and "Ctrl+Shift+R" in photos.actions_by_name["restoreSelected"].toolTip()
    file_menu = window.menuBar().actions()[0].menu()
    assert {"restoreSelected", "jobFromSelection"} <= {a.objectName() for a in file_menu.actions()}
    for name, modifier in (("two_boys.jpg", Qt.KeyboardModifier.NoModifier),
                           ("band_four_b.jpg", Qt.KeyboardModifier.ControlModifier)):
        rect = photos.grid.visualRect(photos.model.index(grid_row(photos, name)))
        qtbot.mouseClick(photos.grid.viewport(), Qt.MouseButton.LeftButton, modifier, rect.center())
    assert photos.selected_rows() == sorted(grid_row(photos, n) for n in ("two_boys.jpg", "band_four_b.jpg"))
    assert button.isEnabled() and photos.selection_label.text() == "2 photos selected"
    photos.grid.setFocus()
    qtbot.keyClick(photos.grid, Qt.Key.Key_R, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    qtbot.waitUntil(lambda: window.stack.currentWidget() is window.restore, timeout=5000)
    assert sorted(p.name for p in window.restore.photos) == ["band_four_b.jpg", "two_boys.jpg"]
    assert all(p.parent == gui_album for p in window.restore.photos)


def test_select_all_and_make_a_job_from_the_selection(make_window, scanned_library, qtbot, tmp_path):
    window = make_window(scanned_library)
    photos, jobs = window.photos, window.jobs
    jobs.restorer_factory = lambda options: fake_restore
    jobs.choose_out_dir = lambda: tmp_path / "out"
    qtbot.waitUntil(lambda: photos.model.rowCount() == 5, timeout=5000)
    photos.grid.setFocus()
    qtbot.keyClick(photos.grid, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    assert photos.selection_label.text() == "5 photos selected"
    qtbot.mouseClick(photos.buttons["jobFromSelection"], Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: jobs.task is not None and not jobs.task.running, timeout=10_000)
    assert window.stack.currentWidget() is jobs
    with open_library(scanned_library) as library:
        (job,) = list_jobs(library)
        items = job_items(library, job.id)
    assert job.total == 5 and {item.state for item in items} == {"done"}
    assert {item.photo_path.name for item in items} == {photos.model.row_at(r).path.name for r in range(5)}


def test_an_open_photo_is_restored_with_its_button(make_window, scanned_library, analyzer, qtbot):
    window = make_window(scanned_library, analyzer=analyzer)
    photos = window.photos
    qtbot.waitUntil(lambda: photos.model.rowCount() == 5 and photos.model.row_at(4) is not None, timeout=5000)
    photo = photos.model.row_at(grid_row(photos, "two_boys.jpg"))
    photos.open_photo(photo.id)
    qtbot.waitUntil(lambda: photos.page.detail is not None, timeout=5000)
    qtbot.mouseClick(photos.page.restore_button, Qt.MouseButton.LeftButton)
    assert window.stack.currentWidget() is window.restore and window.restore.photos == [photo.path]
