"""Scanning through the window: the welcome view's button, a folder drop, progress, Cancel, and a GUI
thread that never stalls while the scan runs."""

from __future__ import annotations

import time

from PySide6.QtCore import QMimeData, QPointF, Qt, QTimer, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication, QFileDialog

from faceme_core.library.people import list_people
from faceme_desktop.settings import AppSettings
from tests.desktop.conftest import open_library

MAX_STALL_S = 0.100


class Watchdog:
    """Ticks every 10 ms on the GUI thread and remembers the longest gap between ticks."""

    def __init__(self):
        self.longest = 0.0
        self.stage = "start"
        self.where = ""
        self._last = time.monotonic()
        self.timer = QTimer()
        self.timer.setInterval(10)
        self.timer.timeout.connect(self._tick)

    def _tick(self):
        now = time.monotonic()
        if now - self._last > self.longest:
            self.longest, self.where = now - self._last, self.stage
        self._last = now

    def start(self):
        self._last = time.monotonic()
        self.timer.start()

    def stop(self):
        self.timer.stop()


def test_first_run_scan_through_the_welcome_view_shows_the_people(make_window, tmp_path, gui_album, dlib_analyzer, qtbot, monkeypatch):
    library_path = tmp_path / "new" / "library.sqlite"
    AppSettings().face_backend = "dlib"  # offline, CPU (the default "auto" would pick it here too)
    window = make_window(library_path)
    assert window.scans.backend == "dlib"
    qtbot.waitUntil(lambda: window.stack.currentWidget() is window.welcome, timeout=10_000)
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: str(gui_album))
    watchdog = Watchdog()
    watchdog.start()
    qtbot.mouseClick(window.welcome.add_button, Qt.MouseButton.LeftButton)
    task = window.scans.task
    assert task is not None and window.status.isVisible()
    task.progress.connect(lambda event: setattr(watchdog, "stage", f"{event.stage} {event.done}/{event.total}"))
    assert window.stack.currentWidget() is window.photos  # results appear while the scan runs
    seen_rows = []
    window.photos.loaded.connect(lambda: seen_rows.append(window.photos.model.rowCount()))
    with qtbot.waitSignal(task.finished, timeout=60_000):
        pass
    watchdog.stop()
    assert not window.status.isVisible()
    assert watchdog.longest < MAX_STALL_S, (
        f"the GUI thread stalled {watchdog.longest * 1000:.0f} ms during the scan (after {watchdog.where})")
    qtbot.waitUntil(lambda: window.photos.model.rowCount() == 5, timeout=5000)
    assert any(0 < n < 5 for n in seen_rows), f"photos only appeared at the end: {seen_rows}"
    # The band (four people, two photos each) and the boy (two photos): five people of two faces.
    window.show_view("people")
    window.people.show_small.setChecked(True)
    qtbot.waitUntil(lambda: window.people.model.rowCount() == 5, timeout=5000)
    counts = sorted(window.people.model.row_at(i).face_count for i in range(window.people.model.rowCount()))
    assert counts == [2, 2, 2, 2, 2]
    with open_library(library_path) as library:
        assert sorted(len(p.faces) for p in list_people(library)) == counts


def drop_folder(window, folder):
    """What a drag from a file manager delivers: drag-enter (which must be accepted), then the drop."""
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(folder))])
    args = (Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    enter = QDragEnterEvent(QPointF(50, 50), *args)
    QApplication.sendEvent(window, enter)
    assert enter.isAccepted(), "the window refused the folder"
    QApplication.sendEvent(window, QDropEvent(QPointF(50, 50), *args))


def test_dropping_a_folder_starts_a_scan_that_cancel_stops(make_window, tmp_path, gui_album, analyzer, qtbot):
    from faceme_core.library.photos import list_photos

    library_path = tmp_path / "lib" / "library.sqlite"
    slow_photos = []
    original_analyze = analyzer.analyze

    def slow_analyze(photo):  # slow enough for Cancel to land between photos
        slow_photos.append(photo.path)
        time.sleep(0.3)
        return original_analyze(photo)

    analyzer.analyze = slow_analyze
    window = make_window(library_path, analyzer=analyzer)
    drop_folder(window, gui_album)
    task = window.scans.task
    assert task is not None, "the drop did not start a scan"
    qtbot.waitUntil(lambda: len(slow_photos) >= 1, timeout=10_000)
    with qtbot.waitSignal(task.cancelled, timeout=10_000):
        qtbot.mouseClick(window.status.cancel_button, Qt.MouseButton.LeftButton)
    assert len(slow_photos) < 5
    qtbot.waitUntil(lambda: "cancelled" in window.statusBar().currentMessage(), timeout=2000)
    with open_library(library_path) as library:  # what was done before the cancel is kept
        assert 1 <= len(list_photos(library)) < 5
