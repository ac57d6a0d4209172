"""GUI test fixtures: settings isolated per test, and a library of the small test album scanned once
(real dlib faces) then copied for each test, so only one test pays for a real scan."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from faceme_core.library.library import Library
from faceme_desktop.pyside_fixes import keep_none_alive
from faceme_desktop.settings import AppSettings, configure_application_names, isolate_settings
from faceme_desktop.start_options import StartOptions
from faceme_desktop.thumbnails import configure_pixmap_cache
from tests.library.conftest import SMALL_ALBUM, ReplayAnalyzer, copy_album
from tests.library.conftest import analysis_cache, analyzer, dlib_analyzer  # noqa: F401 (the library tests' fixtures)


keep_none_alive()  # the GUI tests run on the same binding as the app (see pyside_fixes)


@pytest.fixture(autouse=True)
def isolated_settings(tmp_path):
    """No test reads or writes the user's settings: QSettings go to ini files in tmp_path."""
    configure_application_names()
    folder = tmp_path / "settings"
    isolate_settings(folder)
    return folder




@pytest.fixture(scope="session")
def gui_album(tmp_path_factory) -> Path:
    return copy_album(tmp_path_factory.mktemp("gui") / "Album", SMALL_ALBUM)


@pytest.fixture(scope="session")
def scanned_template(tmp_path_factory, gui_album, dlib_analyzer, analysis_cache) -> Path:
    from faceme_core.library.scan import scan_folders

    folder = tmp_path_factory.mktemp("scanned")
    with Library.open(folder / "library.sqlite") as library:
        scan_folders(library, [gui_album], ReplayAnalyzer(dlib_analyzer, analysis_cache))
    return folder


@pytest.fixture
def scanned_library(tmp_path, scanned_template) -> Path:
    """A fresh copy of the scanned library (its photos are the session's album copy)."""
    target = tmp_path / "lib"
    shutil.copytree(scanned_template, target)
    return target / "library.sqlite"


@pytest.fixture
def make_window(qtbot):
    from faceme_desktop.app import build_window

    configure_pixmap_cache()
    windows = []

    def make(library_path: Path, photos: tuple[Path, ...] = (), analyzer=None):
        window = build_window(StartOptions(library_path, tuple(photos)), AppSettings(), analyzer=analyzer)
        qtbot.addWidget(window)
        window.show()
        windows.append(window)
        return window

    yield make
    for window in windows:
        window.close()


def open_library(path: Path) -> Library:
    return Library.open(path, create=False)
