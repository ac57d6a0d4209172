"""The Restore view through the window: a drop lists the photo's faces; Run restores and opens the
compare view; Save as writes an output and its sidecar; Cancel mid-sampling writes nothing; a face
left untouched keeps its pixels bit-identical (tiny models, so the restored pixels are noise)."""

from __future__ import annotations

import re

import numpy as np
import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent
from sqlalchemy import func, select

from faceme_core.faces.paste import crop_to_output_matrix, warped_square_box
from faceme_core.imageio import load_photo
from faceme_core.library.db import schema
from faceme_core.restore.provenance import read_sidecar
from tests.desktop.conftest import open_library
from tests.desktop.restore_support import tiny_engine, tiny_models_dir  # noqa: F401 - fixtures

PHOTO = "two_boys.jpg"


def drop_files(widget, paths) -> None:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    event = QDropEvent(QPointF(20, 20), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                       Qt.KeyboardModifier.NoModifier)
    widget.dropEvent(event)


def faces_in_library(library_path, photo) -> int:
    with open_library(library_path) as library, library.reading() as conn:
        photo_id = conn.execute(select(schema.photos.c.id).where(schema.photos.c.path == str(photo))).scalar_one()
        return conn.execute(select(func.count()).where(schema.faces.c.photo_id == photo_id)).scalar_one()


@pytest.fixture
def restore_window(make_window, scanned_library, gui_album, analyzer, tiny_engine, qtbot):
    window = make_window(scanned_library, analyzer=analyzer)
    view = window.restore
    view.controller.session_factory = lambda: tiny_engine
    view.confirm_warnings = lambda warnings: True
    drop_files(window, [gui_album / PHOTO])
    qtbot.waitUntil(lambda: view.setup is not None and len(view.cards) == len(view.setup.faces), timeout=10_000)
    view.steps.setValue(2)
    view.random_seed.setChecked(False)
    view.seed.setValue(7)
    return window


def test_a_dropped_photo_opens_the_restore_view_with_its_faces(restore_window, scanned_library, gui_album, qtbot):
    view = restore_window.restore
    assert restore_window.stack.currentWidget() is view
    expected = faces_in_library(scanned_library, gui_album / PHOTO)
    assert expected >= 2 and len(view.setup.faces) == expected and len(view.cards) == expected
    assert view.setup.photo_id is not None  # the library's faces and people, not a new detection
    for card, face in zip(view.cards, view.setup.faces):
        assert card.badge.text() in ("named by you", "guessed", "no person")
        assert card.person.currentData() == face.person_id
    qtbot.waitUntil(lambda: view.cards[0].crop.pixmap() is not None and not view.cards[0].crop.pixmap().isNull())


def test_run_restores_through_the_gui_opens_compare_and_save_writes_output_and_sidecar(restore_window, gui_album, qtbot, tmp_path):
    view = restore_window.restore
    steps = []
    view.controller.started.connect(lambda task: task.progress.connect(
        lambda e: e.stage == "sampling" and steps.append((e.done, e.total))))
    qtbot.mouseClick(view.run_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: view.pages.currentWidget() is view.compare, timeout=60_000)
    result = view.results[gui_album / PHOTO]
    assert (2, 2) in steps  # per-step progress reached the view
    assert view.compare.faces.rowCount() == len(result.setup.faces)
    assert result.photo.pixels.shape == result.original.pixels.shape
    assert {f.restored.report.seed for f in result.faces} == {7}

    output = tmp_path / "out" / "boys-restored.png"
    output.parent.mkdir()
    view.choose_output = lambda suggested: output
    qtbot.mouseClick(view.compare.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(output.is_file, timeout=10_000)
    qtbot.waitUntil(lambda: (output.parent / (output.name + ".faceme.json")).is_file(), timeout=5000)
    record = read_sidecar(output)
    assert record["settings"]["seed"] == 7 and len(record["faces"]) == len(result.setup.faces)
    assert np.array_equal(load_photo(output).pixels, result.photo.pixels)


def test_cancel_mid_sampling_leaves_no_output(restore_window, gui_album, qtbot, tmp_path):
    view = restore_window.restore
    view.steps.setValue(1000)
    before = sorted(p.name for p in gui_album.iterdir())
    qtbot.mouseClick(view.run_button, Qt.MouseButton.LeftButton)

    def sampling_under_way() -> bool:  # progress is throttled: some step numbers are never shown
        found = re.search(r"step (\d+)/1000", view.progress_label.text())
        return found is not None and int(found.group(1)) >= 2

    qtbot.waitUntil(sampling_under_way, timeout=60_000)
    assert view.cancel_button.isEnabled() and "(Ctrl+.)" in view.cancel_button.toolTip()
    with qtbot.waitSignal(view.controller.cancelled, timeout=20_000):
        restore_window.actions_by_name["cancelTask"].trigger()  # File > Cancel running task, Ctrl+.
    assert "nothing was written" in view.progress_label.text()
    assert view.results == {} and view.pages.currentWidget() is not view.compare
    assert sorted(p.name for p in gui_album.iterdir()) == before  # nothing beside the photo either


def test_a_face_left_untouched_keeps_its_pixels_bit_identical(restore_window, gui_album, qtbot):
    view = restore_window.restore
    card = view.cards[0]
    qtbot.mouseClick(card.findChild(type(card.modes.buttons()[0]), "mode_untouched"), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: view.setup.faces[0].mode == "untouched")
    qtbot.mouseClick(view.run_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: view.pages.currentWidget() is view.compare, timeout=60_000)
    result = view.results[gui_album / PHOTO]
    assert 0 not in {f.choice.index for f in result.faces} and result.faces  # the others were restored
    original, restored = result.original.pixels, result.photo.pixels
    touched = np.zeros(original.shape[:2], bool)  # where a restored face may have been pasted
    for face in result.faces:
        box = warped_square_box(crop_to_output_matrix(face.restored.face.matrix, 1), face.restored.face.size,
                                original.shape[1], original.shape[0])
        x0, y0, x1, y1 = box
        touched[y0:y1, x0:x1] = True
    x0, y0, x1, y1 = (int(v) for v in result.setup.faces[0].box)
    region = np.zeros_like(touched)
    region[max(0, y0):y1, max(0, x0):x1] = True
    untouched = region & ~touched
    assert untouched.sum() > 0.5 * region.sum()  # most of the face is away from the others
    assert np.array_equal(original[untouched], restored[untouched])


def test_the_year_of_a_scanned_print_is_kept_and_the_faces_read_again(restore_window, scanned_library, gui_album, qtbot):
    from faceme_core.library.photo_years import photo_year

    view = restore_window.restore
    assert view.year.isEnabled()
    view.year.setValue(1961)
    view.year.editingFinished.emit()
    qtbot.waitUntil(lambda: view.setup.year == 1961, timeout=10_000)
    with open_library(scanned_library) as library, library.reading() as conn:
        assert photo_year(conn, view.setup.photo_id) == 1961
    assert "taken 1961" in view.photo_title.text()


def test_a_photo_outside_the_library_is_matched_against_references_and_the_guess_is_flagged(
        make_window, scanned_library, gui_album, analyzer, qtbot, tmp_path):
    import shutil

    from faceme_core.library.people import list_people
    from faceme_core.library.references import add_face_reference

    with open_library(scanned_library) as library:
        person = next(p for p in list_people(library) if any(f.photo_path.name == PHOTO for f in p.faces))
        face = next(f for f in person.faces if f.photo_path.name == PHOTO)
        add_face_reference(library, person.id, face.id)
    outside = tmp_path / "new scans" / "copy.jpg"
    outside.parent.mkdir()
    shutil.copyfile(gui_album / PHOTO, outside)  # the same faces, in a file the library does not have

    window = make_window(scanned_library, analyzer=analyzer)
    view = window.restore
    drop_files(window, [outside])
    qtbot.waitUntil(lambda: view.setup is not None and len(view.cards) == len(view.setup.faces), timeout=10_000)
    assert view.setup.photo_id is None and "not in your library" in view.photo_title.text()
    matched = [f for f in view.setup.faces if f.person_id == person.id]
    assert len(matched) == 1 and matched[0].assigned == "guessed" and matched[0].mode == "references"
    assert matched[0].match_similarity > 0.99 and matched[0].references[0].reference.face_id == face.id
    card = view.cards[matched[0].index]
    assert card.badge.text() == "guessed"
    assert "only guessed" in view.warnings.text()
    # the user confirms the person: no longer a guess, no warning
    card.person.setCurrentIndex(0)  # first "Unknown person": nobody's references
    qtbot.waitUntil(lambda: view.setup.faces[matched[0].index].person_id is None, timeout=5000)
    card = view.cards[matched[0].index]
    card.person.setCurrentIndex(card.person.findData(person.id))
    qtbot.waitUntil(lambda: view.setup.faces[matched[0].index].assigned == "user", timeout=5000)
    assert "only guessed" not in view.warnings.text()
