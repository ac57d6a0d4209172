"""The compare view: the split follows a drag, Space shows the original while held, side by side
keeps both views at the same zoom and scroll, identity drops are red, and a re-run redoes one face."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage

from faceme_desktop.views.compare_view import DROP_COLOUR, CompareView, identity_dropped
from tests.desktop.restore_support import tiny_engine, tiny_models_dir  # noqa: F401 - fixtures
from tests.desktop.test_restore_gui import restore_window  # noqa: F401 - fixture

PHOTO = "two_boys.jpg"


def image(width, height, colour) -> QImage:
    result = QImage(width, height, QImage.Format.Format_RGB888)
    result.fill(colour)
    return result


def test_drag_moves_the_split_and_space_shows_the_original_while_held(qtbot):
    view = CompareView()
    qtbot.addWidget(view)
    view.resize(800, 600)
    view.show()
    split = view.split_view
    split.set_images(image(200, 100, Qt.GlobalColor.red), image(400, 200, Qt.GlobalColor.blue))  # 2x result
    assert split.before.scale() == 2.0  # the original on the result's pixel grid
    view.fit()
    handle = split.mapFromScene(200, 100)
    target = split.mapFromScene(300, 100)
    qtbot.mousePress(split.viewport(), Qt.MouseButton.LeftButton, pos=handle)
    qtbot.mouseMove(split.viewport(), target)
    qtbot.mouseRelease(split.viewport(), Qt.MouseButton.LeftButton, pos=target)
    assert split.split == pytest.approx(0.75, abs=0.02)
    assert split.captions == ("Original", "Restored") and white_pixels_top_left(split) > 0
    qtbot.keyPress(view, Qt.Key.Key_Space)
    assert split.split == 1.0 and split.captions == ("Original", None)
    qtbot.keyRelease(view, Qt.Key.Key_Space)
    assert split.split == pytest.approx(0.75, abs=0.02)


def white_pixels_top_left(view) -> int:
    """White caption text in the view's top-left corner (the images here are red and blue)."""
    shot = view.viewport().grab().toImage()
    return sum(shot.pixelColor(x, y).lightness() > 240 for x in range(0, 90) for y in range(0, 36))


def test_side_by_side_views_share_zoom_and_scroll(qtbot):
    view = CompareView()
    qtbot.addWidget(view)
    view.resize(900, 600)
    view.show()
    for v in (view.left_view, view.right_view):
        v.set_images(image(1000, 800, Qt.GlobalColor.red), image(1000, 800, Qt.GlobalColor.blue))
    view.set_mode(1)
    qtbot.waitUntil(lambda: view.left_view.viewport().width() > 100)
    view.left_view.zoom(4.0)
    view.left_view.zoomed.emit(4.0)  # what the wheel does: zoom here, then tell the other view
    qtbot.waitUntil(lambda: view.left_view.horizontalScrollBar().maximum() > 0)
    assert view.right_view.transform().m11() == pytest.approx(view.left_view.transform().m11())
    view.left_view.horizontalScrollBar().setValue(view.left_view.horizontalScrollBar().maximum() // 2)
    assert view.right_view.horizontalScrollBar().value() == view.left_view.horizontalScrollBar().value() > 0
    assert view.left_view.split == 1.0 and view.right_view.split == 0.0  # original left, result right
    assert view.left_view.captions == ("Original", None) and view.right_view.captions == (None, "Restored")


def test_identity_that_dropped_is_red():
    assert identity_dropped(0.6, 0.4) and not identity_dropped(0.4, 0.6) and not identity_dropped(None, 0.3)


def test_rerun_one_face_through_the_compare_view_keeps_the_others(restore_window, gui_album, qtbot, monkeypatch):
    view = restore_window.restore
    qtbot.mouseClick(view.run_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: view.pages.currentWidget() is view.compare, timeout=60_000)
    first = view.results[gui_album / PHOTO]
    assert len(first.faces) >= 2
    # the identity column is red exactly where the score dropped
    for row, face in enumerate(first.setup.faces):
        done = first.face(face.index)
        if done and identity_dropped(done.restored.report.identity_before, done.restored.report.identity_after):
            assert view.compare.faces.item(row, 5).foreground().color() == DROP_COLOUR

    from faceme_desktop.dialogs import rerun_dialog

    def accept_with_seed(dialog):
        dialog.new_seed.setChecked(False)
        dialog.seed.setValue(1234)
        dialog.strength.setValue(3.0)
        return True

    monkeypatch.setattr(rerun_dialog.RerunDialog, "exec", accept_with_seed)
    rerun = view.compare.findChild(type(view.run_button), "rerun1")
    with qtbot.waitSignal(view.controller.restored, timeout=60_000):
        qtbot.mouseClick(rerun, Qt.MouseButton.LeftButton)
    second = view.results[gui_album / PHOTO]
    assert second.face(1).restored.report.seed == 1234 and second.face(1).options.identity_strength == 3.0
    assert second.face(0).restored is first.face(0).restored  # not sampled again
    assert not np.array_equal(second.photo.pixels, first.photo.pixels)
