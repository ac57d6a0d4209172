"""Start-up: arguments, settings, logging, the error hook, the theme watcher, and the main window."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

from PySide6.QtCore import QThreadPool
from PySide6.QtGui import QGuiApplication, QIcon
from PySide6.QtWidgets import QApplication

from faceme_core.library.library import Library
from faceme_desktop.error_dialog import show_error
from faceme_desktop.logging_setup import setup_logging
from faceme_desktop.pyside_fixes import keep_none_alive
from faceme_desktop.settings import AppSettings, configure_application_names
from faceme_desktop.start_options import StartOptions, parse_start_options
from faceme_desktop.theme import ThemeWatcher
from faceme_desktop.thumbnails import configure_pixmap_cache

log = logging.getLogger(__name__)
ICON_SIZES = (16, 32, 48, 64, 128, 256, 512)


def icon_files() -> list[Path]:
    """The app icon's files: the checkout's ``resources/icons``, else where the package installed them
    (``share/icons/hicolor``, see pyproject's data-files)."""
    checkout = Path(__file__).resolve().parents[1] / "resources" / "icons"
    if (checkout / "faceme-desktop.svg").exists():
        hicolor, svg = checkout / "hicolor", checkout / "faceme-desktop.svg"
    else:
        hicolor = Path(sys.prefix) / "share" / "icons" / "hicolor"
        svg = hicolor / "scalable" / "apps" / "faceme-desktop.svg"
    return [hicolor / f"{s}x{s}" / "apps" / "faceme-desktop.png" for s in ICON_SIZES] + [svg]


def app_icon() -> QIcon:
    icon = QIcon.fromTheme("faceme-desktop")
    if icon.isNull():
        icon = QIcon()
        for path in icon_files():
            if path.exists():
                icon.addFile(str(path))
    return icon


def install_excepthook() -> None:
    """An exception escaping a slot becomes an error dialog (and a log entry), not a silent crash."""

    def hook(kind, error, trace):
        if issubclass(kind, KeyboardInterrupt):
            sys.__excepthook__(kind, error, trace)
            return
        error.__traceback__ = trace
        show_error(QApplication.activeWindow(), error)

    sys.excepthook = hook


def open_library(start: StartOptions, settings: AppSettings) -> Library:
    library = Library.open(start.library or settings.library_path)
    if start.library is None:  # --library opens another library for this run only
        settings.library_path = library.path
    return library


def build_window(start: StartOptions, settings: AppSettings, analyzer=None):
    """The session on the library and the main window (the app object must exist)."""
    from faceme_desktop.main_window import MainWindow
    from faceme_desktop.session import LibrarySession

    library = open_library(start, settings)
    session = LibrarySession(library)
    window = MainWindow(session, settings, photos=start.photos, analyzer=analyzer)
    return window


def create_application(argv: list[str]) -> QApplication:
    keep_none_alive()  # before any Qt call: see pyside_fixes
    configure_application_names()
    app = QApplication.instance() or QApplication(argv)
    QGuiApplication.setDesktopFileName("faceme-desktop")  # ties the window to resources' .desktop file
    app.setWindowIcon(app_icon())
    configure_pixmap_cache()
    # superqt runs long tasks on the global pool; keep room beside a scan for other tasks.
    pool = QThreadPool.globalInstance()
    pool.setMaxThreadCount(max(4, pool.maxThreadCount()))
    return app


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv if argv is None else argv)
    start = parse_start_options(argv[1:])
    app = create_application(argv)
    log_path = setup_logging()
    log.info("FaceMe Desktop starting (log: %s)", log_path)
    install_excepthook()
    settings = AppSettings()
    try:
        window = build_window(start, settings)
    except Exception as error:  # noqa: BLE001 - a library that cannot open is shown, then we quit
        from faceme_desktop.error_dialog import build_error_box

        build_error_box(None, error, "FaceMe cannot start").exec()
        return 2
    theme = ThemeWatcher(app)
    theme.changed.connect(window.refresh_icons)
    window.show()
    return app.exec()
