"""Start-up pieces: arguments, settings, errors, About, icons following the palette, log file."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QSettings
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QApplication

from faceme_core.errors import LibraryError
from faceme_desktop.about import MODEL_LICENCES, about_html
from faceme_desktop.error_dialog import build_error_box, error_text
from faceme_desktop.logging_setup import setup_logging
from faceme_desktop.settings import AppSettings
from faceme_desktop.start_options import parse_start_options
from faceme_desktop.tasks_qt import format_eta
from faceme_desktop.theme import ThemeWatcher


def test_start_options_take_a_library_and_photos(tmp_path):
    options = parse_start_options(["--library", str(tmp_path / "lib.sqlite"), "a.jpg", str(tmp_path / "b.png")])
    assert options.library == tmp_path / "lib.sqlite"
    assert options.photos == (Path("a.jpg").absolute(), tmp_path / "b.png")
    assert parse_start_options([]).library is None


def test_a_mistyped_option_is_an_error_not_a_qt_argument(capsys):
    with pytest.raises(SystemExit) as stopped:
        parse_start_options(["--libary", "x.sqlite"])
    assert stopped.value.code == 2 and "--libary" in capsys.readouterr().err
    assert parse_start_options(["-platform", "offscreen", "a.jpg"]).photos == (Path("a.jpg").absolute(),)


def test_library_from_the_command_line_is_not_remembered(isolated_settings, tmp_path):
    from faceme_desktop.app import open_library
    from faceme_desktop.start_options import StartOptions

    settings = AppSettings()
    usual = tmp_path / "usual.sqlite"
    settings.library_path = usual
    open_library(StartOptions(library=tmp_path / "other.sqlite", photos=()), settings).close()
    assert settings.library_path == usual


def test_settings_persist_in_the_isolated_folder(isolated_settings, tmp_path):
    settings = AppSettings()
    settings.library_path = tmp_path / "mine.sqlite"
    settings.face_backend = "dlib"
    settings.device = "cpu"
    settings.output_folder = tmp_path / "out"
    settings.sync()
    again = AppSettings()
    assert (again.library_path, again.face_backend, again.device, again.output_folder) == (
        tmp_path / "mine.sqlite", "dlib", "cpu", tmp_path / "out")
    assert Path(QSettings().fileName()).is_relative_to(isolated_settings)
    assert any(isolated_settings.rglob("*.ini"))


def test_faceme_errors_show_their_message_and_bugs_show_details(qtbot):
    text, details = error_text(LibraryError("no person named 'Bob'"))
    assert text == "no person named 'Bob'" and details is None
    try:
        raise KeyError("boom")
    except KeyError as error:
        box = build_error_box(None, error)
    qtbot.addWidget(box)
    assert "Something went wrong" in box.text()
    assert "KeyError: 'boom'" in box.detailedText() and "Traceback" in box.detailedText()


def test_about_lists_versions_and_every_model_licence():
    html = about_html()
    assert "Qt" in html and "PySide6" in html
    for model, licence in MODEL_LICENCES:
        assert model in html and licence in html


def test_palette_change_asks_for_new_icons(qtbot):
    app = QApplication.instance()
    watcher = ThemeWatcher(app)
    palette = app.palette()
    try:
        dark = QPalette(palette)
        dark.setColor(QPalette.ColorRole.Window, dark.color(QPalette.ColorRole.Shadow))
        with qtbot.waitSignal(watcher.changed, timeout=2000):
            app.setPalette(dark)
    finally:
        app.setPalette(palette)
        app.removeEventFilter(watcher)
        watcher.deleteLater()


def test_log_file_is_written(tmp_path):
    import logging

    path = setup_logging(tmp_path / "logs" / "faceme-desktop.log")
    logging.getLogger("faceme_desktop.test").warning("hello log")
    for handler in logging.getLogger().handlers:
        handler.flush()
    assert "hello log" in path.read_text()
    for handler in list(logging.getLogger().handlers):  # leave no handler pointing into tmp_path
        if getattr(handler, "faceme_log", False):
            logging.getLogger().removeHandler(handler)
            handler.close()


def test_eta_in_plain_words():
    assert format_eta(None) == ""
    assert format_eta(12) == "about 12 s left"
    assert format_eta(150) == "about 2 min left"
    assert format_eta(3 * 3600 + 600) == "about 3 h 10 min left"


def test_none_survives_the_bindings_lost_references(qtbot):
    """Thousands of void Qt calls (each loses a reference to None on PySide6 6.12 / Python 3.11)
    leave None alive: the app's work-around holds (this aborted the interpreter before it)."""
    import sys

    from PySide6.QtGui import QImage, QPainter

    from faceme_desktop.pyside_fixes import keep_none_alive

    keep_none_alive()
    image = QImage(8, 8, QImage.Format.Format_ARGB32)
    painter = QPainter(image)
    for _ in range(50_000):
        painter.save()
        painter.restore()
        image.isNull()  # a bool
    painter.end()
    assert sys.getrefcount(None) > 0 and sys.getrefcount(False) > 0
