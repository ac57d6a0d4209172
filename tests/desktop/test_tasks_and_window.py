"""The task worker (progress, cancel, errors), the status bar's progress, and window-level habits:
errors in a dialog, the re-embed offer, shortcuts in tooltips, saved window geometry."""

from __future__ import annotations

import subprocess
import sys
import time

from PySide6.QtCore import QByteArray
from PySide6.QtWidgets import QMessageBox

from faceme_core.errors import LibraryError
from faceme_core.tasks import TaskProgress
from faceme_desktop import core_queries
from faceme_desktop.settings import AppSettings
from faceme_desktop.status_progress import StatusProgress
from faceme_desktop.tasks_qt import RunningTask


def counting_task(*, progress, cancel):
    for done in range(200):
        cancel.raise_if_cancelled()
        progress(TaskProgress("counting", done, 200, f"item {done}", eta_seconds=200 - done, message="Counting"))
        time.sleep(0.002)
    return "all counted"


def test_a_task_reports_throttled_progress_and_its_result_on_the_gui_thread(qtbot):
    task = RunningTask("Counting", counting_task)
    events = []
    task.progress.connect(events.append)
    with qtbot.waitSignal(task.succeeded, timeout=10_000) as result:
        task.start()
    assert result.args == ["all counted"]
    assert 1 <= len(events) < 200  # throttled: not one queued signal per event
    assert events[-1].done == 199  # the last event always gets through
    assert not task.running


def test_cancel_stops_a_task_and_is_not_a_failure(qtbot):
    task = RunningTask("Counting", counting_task)
    failed = []
    task.failed.connect(failed.append)
    with qtbot.waitSignal(task.cancelled, timeout=10_000):
        task.start()
        qtbot.waitSignal(task.progress, timeout=5000).wait()
        task.cancel()
    assert failed == []


def test_errors_come_back_as_the_exception(qtbot):
    def broken(*, progress, cancel):
        raise LibraryError("the album folder is gone")

    task = RunningTask("Broken", broken)
    with qtbot.waitSignal(task.failed, timeout=10_000) as failure:
        task.start()
    assert isinstance(failure.args[0], LibraryError)


def test_status_bar_shows_progress_eta_and_cancel(qtbot):
    status = StatusProgress()
    qtbot.addWidget(status)
    task = RunningTask("Scanning Album", counting_task)
    status.follow(task)
    assert status.isVisibleTo(status.parentWidget() or status) or not status.isHidden()
    task.progress.emit(TaskProgress("analysing", 30, 120, "/album/a.jpg", 150.0, "2 failed"))
    assert (status.bar.value(), status.bar.maximum()) == (30, 120)
    assert status.label.text() == "Finding faces: a.jpg (30/120), 2 failed"
    assert status.eta.text() == "about 2 min left"
    long_name = "a_very_long_file_name_from_a_scanner_" * 4 + ".jpg"
    task.progress.emit(TaskProgress("analysing", 31, 120, f"/album/{long_name}", 150.0))
    assert status.label.text().endswith("(31/120)") and "…" in status.label.text()  # the count stays visible
    assert status.label.toolTip() == f"Finding faces: {long_name} (31/120)"
    task.finished.emit()
    assert status.isHidden()


def test_a_failing_scan_shows_its_message_in_a_dialog(make_window, scanned_library, tmp_path, qtbot):
    window = make_window(scanned_library)
    task = window.scans.scan([tmp_path / "no such folder"])
    with qtbot.waitSignal(task.finished, timeout=30_000):
        pass
    qtbot.waitUntil(lambda: window.findChild(QMessageBox, "errorBox") is not None, timeout=5000)
    box = window.findChild(QMessageBox, "errorBox")
    assert "no such folder" in box.text() and not box.detailedText()  # a FaceMeError: its own words


def test_reembed_is_offered_when_a_better_model_is_installed(make_window, scanned_library, qtbot, monkeypatch):
    monkeypatch.setattr(core_queries, "better_embedding_model", lambda library, backend: "insightface/antelopev2/glintr100")
    window = make_window(scanned_library)
    qtbot.waitUntil(lambda: window.banner.isVisibleTo(window), timeout=10_000)
    assert "keeps" in window.banner.label.text() or "kept" in window.banner.label.text()
    asked = []
    monkeypatch.setattr(window.scans, "scan", lambda folders, reembed=False: asked.append((folders, reembed)))
    window.banner.accept_button.click()
    qtbot.waitUntil(lambda: bool(asked), timeout=5000)
    assert asked[0][1] is True and len(asked[0][0]) == 1


def test_menu_actions_show_their_shortcuts_and_icons_follow_the_palette(make_window, scanned_library, qtbot):
    window = make_window(scanned_library)
    for name in ("addFolder", "undo", "redo", "showPeople", "cancelTask"):
        action = window.actions_by_name[name]
        assert not action.shortcut().isEmpty()
        assert action.shortcut().toString() in action.toolTip().replace("&", "")
    assert window.actions_by_name["redo"].shortcut().toString() == "Ctrl+Shift+Z"
    window.refresh_icons()  # what the theme watcher triggers: every icon is made again
    assert not window.actions_by_name["undo"].icon().isNull()


def test_window_geometry_is_kept_between_runs(make_window, scanned_library, qtbot):
    window = make_window(scanned_library)
    window.resize(795, 520)  # within the offscreen screen (800 x 600), above the minimum width
    window.close()
    geometry, state = AppSettings().window_state()
    assert isinstance(geometry, QByteArray) and not geometry.isEmpty()
    again = make_window(scanned_library)
    assert (again.width(), again.height()) == (795, 520)
    assert AppSettings().library_path != scanned_library  # a library given on the command line is for one run


def test_command_line_help_needs_no_display():
    result = subprocess.run([sys.executable, "-m", "faceme_desktop", "--help"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and "--library PATH" in result.stdout and "PHOTO" in result.stdout


def test_preferences_change_the_kept_settings_and_the_scan_backend(make_window, scanned_library, tmp_path, qtbot):
    window = make_window(scanned_library)
    dialog = window.show_preferences()
    dialog.backend.setCurrentIndex(dialog.backend.findData("dlib"))
    dialog.device.setCurrentIndex(dialog.device.findData("cpu"))
    dialog.output.setText(str(tmp_path / "restored"))
    dialog.accept()
    settings = AppSettings()
    assert (settings.face_backend, settings.device, settings.output_folder) == ("dlib", "cpu", tmp_path / "restored")
    assert window.scans.backend == "dlib"


def test_results_still_queued_when_the_session_closes_are_dropped(qtbot, tmp_path):
    from faceme_core.library.library import Library
    from faceme_desktop.session import LibrarySession

    session = LibrarySession(Library.open(tmp_path / "library.sqlite"))
    got = []
    session.query(lambda library: "late", on_result=got.append)
    session.close()  # waits for the read: its result is queued for widgets that are going away
    qtbot.wait(50)
    assert got == []
    session.deleteLater()
