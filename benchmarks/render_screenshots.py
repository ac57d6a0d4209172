"""Render each view of a populated library in a real window to PNGs in resources/screenshots/.

The library is the test album scanned with dlib (real faces), with a few people named, one merge
and a reference, as a user would have it after ten minutes. Run under Xvfb (a real X server, real
fonts), e.g.:

    xvfb-run -a -s "-screen 0 1400x900x24" python -m benchmarks.render_screenshots
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ALBUM = ROOT / "tests" / "data" / "album"
OUT = ROOT / "resources" / "screenshots"
SIZE = (1280, 800)


def settle(app, seconds: float = 1.0) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents()
        time.sleep(0.01)


def populate(folder: Path) -> Path:
    from faceme_core.faces.analyzer import create_analyzer
    from faceme_core.library.library import Library
    from faceme_core.library.people import list_people, rename_person
    from faceme_core.library.references import add_face_reference
    from faceme_core.library.scan import scan_folders

    album = folder / "Family album"
    shutil.copytree(ALBUM, album)
    library_path = folder / "library" / "library.sqlite"
    with Library.open(library_path) as library:
        scan_folders(library, [album], create_analyzer("dlib"), workers=1)
        people = sorted(list_people(library), key=lambda p: -len(p.faces))
        for person, name in zip(people, ("Aunt Clara", "Uncle Jim", "Grandpa Joe", "Marie")):
            rename_person(library, person.id, name)
        add_face_reference(library, people[0].id, people[0].faces[0].id)
    return library_path


def dark_palette():
    from PySide6.QtGui import QColor, QPalette

    palette = QPalette()
    for role, colour in (
        (QPalette.ColorRole.Window, "#2b2b2b"), (QPalette.ColorRole.WindowText, "#e6e6e6"),
        (QPalette.ColorRole.Base, "#1e1e1e"), (QPalette.ColorRole.AlternateBase, "#333333"),
        (QPalette.ColorRole.Text, "#e6e6e6"), (QPalette.ColorRole.Button, "#3a3a3a"),
        (QPalette.ColorRole.ButtonText, "#e6e6e6"), (QPalette.ColorRole.Highlight, "#3d7bd9"),
        (QPalette.ColorRole.HighlightedText, "#ffffff"), (QPalette.ColorRole.Midlight, "#444444"),
        (QPalette.ColorRole.ToolTipBase, "#333333"), (QPalette.ColorRole.ToolTipText, "#e6e6e6"),
        (QPalette.ColorRole.PlaceholderText, "#9a9a9a"),
    ):
        palette.setColor(role, QColor(colour))
    palette.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.WindowText, QColor("#808080"))
    palette.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text, QColor("#808080"))
    return palette


def start_shots(prefix: str):
    """A temporary home, isolated settings and the application: (work folder, app)."""
    from faceme_desktop.app import create_application
    from faceme_desktop.settings import isolate_settings

    work = Path(tempfile.mkdtemp(prefix=prefix))
    os.environ["FACEME_HOME"] = str(work / "home")
    isolate_settings(work / "settings")
    OUT.mkdir(parents=True, exist_ok=True)
    return work, create_application(["faceme-desktop"])


def main() -> None:
    from PySide6.QtWidgets import QApplication

    from faceme_desktop.about import show_about
    from faceme_desktop.app import build_window
    from faceme_desktop.theme import ThemeWatcher
    from faceme_desktop.settings import AppSettings
    from faceme_desktop.start_options import StartOptions

    work, app = start_shots("faceme-shots-")

    def shoot(window, name: str, widget=None) -> None:
        settle(app, 1.2)
        (widget or window).grab().save(str(OUT / f"{name}.png"))
        print(OUT / f"{name}.png")

    empty = build_window(StartOptions(work / "empty" / "library.sqlite", ()), AppSettings())
    empty.resize(*SIZE)
    empty.show()
    shoot(empty, "welcome")
    album = work / "Scanned album"
    shutil.copytree(ALBUM, album)
    empty.add_folders([album])  # what the welcome button and a folder drop do
    task = empty.scans.task
    deadline = time.monotonic() + 60
    while empty.photos.model.rowCount() < 2 and time.monotonic() < deadline:
        settle(app, 0.2)
    shoot(empty, "scanning")  # photos appear while the scan goes on; progress, ETA and Cancel below
    task.cancel()
    while task.running:
        settle(app, 0.2)
    empty.close()

    library_path = populate(work)
    window = build_window(StartOptions(library_path, (ALBUM / "two_sisters_print_scan.jpg",)), AppSettings())
    window.resize(*SIZE)
    window.show()
    window.show_view("photos")
    shoot(window, "photos")
    photos = window.photos
    row = next(r for r in range(photos.model.rowCount()) if photos.model.row_at(r).path.name == "band_four_b.jpg")
    photos.open_photo(photos.model.row_at(row).id)
    settle(app, 1.5)
    items = list(photos.page.canvas.items_by_face.values())
    if items:
        photos.page.canvas.select_face(items[1 if len(items) > 1 else 0].face.face_id)
    shoot(window, "photo")
    photos.show_grid()
    window.show_view("people")
    shoot(window, "people")
    people = window.people
    people.open_person(people.model.index(0).data(257))
    shoot(window, "person")
    people.show_list()
    grid = people.grid
    from PySide6.QtCore import QItemSelectionModel

    grid.selectionModel().select(people.model.index(0), QItemSelectionModel.SelectionFlag.ClearAndSelect)
    grid.selectionModel().select(people.model.index(4), QItemSelectionModel.SelectionFlag.Select)
    dialog = people.merge_selected()
    if dialog is not None:
        settle(app, 0.8)
        shoot(window, "merge", dialog)
        dialog.reject()
    window.show_view("review")
    shoot(window, "review")
    window.show_view("restore")
    shoot(window, "restore")
    about = show_about(window)
    shoot(window, "about", about)
    about.close()
    # The system turning dark: the palette changes, the theme watcher has every icon made again.
    watcher = ThemeWatcher(app)
    watcher.changed.connect(window.refresh_icons)
    app.setStyle("Fusion")
    app.setPalette(dark_palette())
    window.show_view("people")
    shoot(window, "people-dark")
    photos.open_photo(photos.model.row_at(row).id)
    window.show_view("photos")
    shoot(window, "photo-dark")
    window.close()
    QApplication.processEvents()
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
