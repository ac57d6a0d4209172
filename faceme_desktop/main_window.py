"""The main window: sidebar + one view per tab, menus, the status bar's task progress, and drops.

It wires parts together and holds no logic of its own: views talk to the session, scans go through
the ScanController, errors to ``error_dialog``.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QThreadPool
from PySide6.QtWidgets import QHBoxLayout, QLabel, QMainWindow, QPushButton, QStackedWidget, QVBoxLayout, QWidget

from faceme_core.imageio import SUPPORTED_SUFFIXES
from faceme_desktop import core_queries
from faceme_desktop.about import show_about
from faceme_desktop.error_dialog import show_error
from faceme_desktop.menus import EDIT, FILE, HELP, VIEW, make_action, refresh_action_icons
from faceme_desktop.restore_wiring import install_restore_parts
from faceme_desktop.scan_controller import ScanController
from faceme_desktop.session import LibrarySession
from faceme_desktop.settings import AppSettings
from faceme_desktop.sidebar import Sidebar
from faceme_desktop.status_progress import StatusProgress
from faceme_desktop.thumbnails import ThumbnailLoader
from faceme_desktop.views.people_view import PeopleView
from faceme_desktop.views.photos_view import PhotosView
from faceme_desktop.views.preferences_dialog import PreferencesDialog
from faceme_desktop.views.restore_view import RestoreView
from faceme_desktop.views.review_view import ReviewView
from faceme_desktop.views.welcome_view import WelcomeView


def split_drop(paths: list[Path]) -> tuple[list[Path], list[Path]]:
    """(folders to scan, image files to restore) among dropped paths; anything else is ignored."""
    folders = [p for p in paths if p.is_dir()]
    images = [p for p in paths if p.is_file() and p.suffix.lower() in SUPPORTED_SUFFIXES]
    return folders, images


class ReembedBanner(QWidget):
    """Offers to re-embed when a better face model is installed (every decision is kept)."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("reembedBanner")
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.accept_button = QPushButton("Re-embed faces")
        self.accept_button.setObjectName("acceptReembed")
        self.later_button = QPushButton("Not now")
        self.later_button.clicked.connect(self.hide)
        layout = QHBoxLayout(self)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.accept_button)
        layout.addWidget(self.later_button)
        self.hide()

    def offer(self, model_id: str) -> None:
        self.label.setText(
            f"A better face model ({model_id}) is installed. Re-embed your faces with it? Names, merges "
            "and every other decision are kept; it takes about as long as the first scan."
        )
        self.show()


class MainWindow(QMainWindow):
    def __init__(self, session: LibrarySession, settings: AppSettings, *, photos: tuple[Path, ...] = (), analyzer=None):
        super().__init__()
        self.setObjectName("mainWindow")
        self.setWindowTitle(f"FaceMe - {session.library.path.name}")
        self.setAcceptDrops(True)
        self.session = session
        self.settings = settings
        self.loader = ThumbnailLoader(self)
        self.scans = ScanController(session, settings.face_backend, self, analyzer=analyzer)
        self.status = StatusProgress()
        self.statusBar().addPermanentWidget(self.status)
        self.scans.started.connect(self.status.follow)
        self.scans.message.connect(lambda text: self.statusBar().showMessage(text, 10_000))
        self.scans.failed.connect(lambda error: show_error(self, error))
        session.error.connect(lambda error: show_error(self, error))
        session.message.connect(lambda text: self.statusBar().showMessage(text, 6000))

        self.welcome = WelcomeView()
        self.welcome.folder_chosen.connect(lambda folder: self.add_folders([folder]))
        self.photos = PhotosView(session, self.loader)
        self.people = PeopleView(session, self.loader)
        self.review = ReviewView(session, self.loader)
        self.restore = RestoreView(session, settings, analyzer=analyzer)  # part 2: restore
        self.restore.add_photos(list(photos))
        self.photos.open_person.connect(self.open_person)
        self.photos.restore_photos.connect(self.restore_photos)
        self.photos.status_message.connect(lambda text: self.statusBar().showMessage(text, 10_000))
        self.people.open_photo.connect(self.open_photo)
        self.review.open_person.connect(self.open_person)
        self.stack = QStackedWidget()
        self.views = {"welcome": self.welcome, "photos": self.photos, "people": self.people, "review": self.review, "restore": self.restore}
        for view in self.views.values():
            self.stack.addWidget(view)
        self.sidebar = Sidebar()
        self.sidebar.currentRowChanged.connect(self._on_sidebar)
        self.banner = ReembedBanner()
        self.banner.accept_button.clicked.connect(self.reembed)
        central = QWidget()
        layout = QHBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.sidebar)
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.addWidget(self.banner)
        right_layout.addWidget(self.stack, 1)
        layout.addWidget(right, 1)
        self.setCentralWidget(central)
        self.actions_by_name = {}
        self._build_menus()
        install_restore_parts(self)  # part 2: Jobs tab, Models dialog, restore actions
        session.undo_state.connect(self._on_undo_state)
        session.refresh_undo_state()
        self.resize(1200, 800)
        geometry, state = settings.window_state()
        if geometry is not None:
            self.restoreGeometry(geometry)
        if state is not None:
            self.restoreState(state)
        self.show_view("restore" if photos else "photos")
        session.query(core_queries.photo_count, on_result=self._on_photo_count)
        session.query(
            core_queries.better_embedding_model, settings.face_backend, on_result=self._on_better_model,
            on_error=lambda _e: None, slow=True,
        )

    # --- menus --------------------------------------------------------------------------------------
    def _build_menus(self) -> None:
        slots = {
            "addFolder": self.welcome.choose_folder,
            "cancelTask": self.cancel_running,
            "quit": self.close,
            "undo": self.session.undo,
            "redo": self.session.redo,
            "preferences": self.show_preferences,
            "showPhotos": lambda: self.show_view("photos"),
            "showPeople": lambda: self.show_view("people"),
            "showReview": lambda: self.show_view("review"),
            "showRestore": lambda: self.show_view("restore"),
            "about": lambda: show_about(self),
        }
        for title, specs in (("&File", FILE), ("&Edit", EDIT), ("&View", VIEW), ("&Help", HELP)):
            menu = self.menuBar().addMenu(title)
            for spec in specs:
                act = make_action(self, spec, slots[spec.name])
                menu.addAction(act)
                self.actions_by_name[spec.name] = act
            if title == "&Edit":  # the people list's own actions, listed with their keys
                menu.addSeparator()
                for act in self.people.actions_by_name.values():
                    menu.addAction(act)
        self.actions_by_name["undo"].setEnabled(False)
        self.actions_by_name["redo"].setEnabled(False)
        self.welcome.add_button.setToolTip(self.actions_by_name["addFolder"].toolTip())

    def cancel_running(self) -> None:
        """File > Cancel running task: the scan and the restore running in the Restore view (a job is
        paused with its own button: it stays resumable)."""
        self.scans.cancel()
        if self.restore.controller is not None and self.restore.controller.busy:
            self.restore.cancel()

    def show_preferences(self) -> PreferencesDialog:
        dialog = PreferencesDialog(self.settings, self)
        dialog.accepted.connect(lambda: setattr(self.scans, "backend", self.settings.face_backend))
        dialog.open()
        return dialog

    def _on_undo_state(self, state) -> None:
        for name, text in (("undo", state.undo), ("redo", state.redo)):
            act = self.actions_by_name[name]
            act.setEnabled(text is not None)
            verb = "Undo" if name == "undo" else "Redo"
            act.setText(f"&{verb} {text}" if text else f"&{verb}")

    def refresh_icons(self) -> None:
        refresh_action_icons(self.actions_by_name)
        self.sidebar.refresh_icons()
        self.status.refresh_icons()
        for view in self.views.values():
            if hasattr(view, "refresh_icons"):
                view.refresh_icons()

    # --- navigation ----------------------------------------------------------------------------------
    def show_view(self, key: str) -> None:
        self.stack.setCurrentWidget(self.views[key])
        self.sidebar.blockSignals(True)
        self.sidebar.select("photos" if key == "welcome" else key)  # welcome: the empty album's Photos
        self.sidebar.blockSignals(False)

    def _on_sidebar(self, row: int) -> None:
        key = self.sidebar.item(row).data(256) if row >= 0 else None
        if key == "photos" and self.stack.currentWidget() is self.welcome:
            return  # still nothing to show but the welcome
        if key:
            self.show_view(key)

    def _on_photo_count(self, count: int) -> None:
        if count == 0 and not self.scans.busy and self.stack.currentWidget() is self.photos:
            self.show_view("welcome")

    def open_person(self, person_id: int) -> None:
        self.show_view("people")
        self.people.open_person(person_id)

    def open_photo(self, photo_id: int) -> None:
        self.show_view("photos")
        self.photos.open_photo(photo_id)

    def restore_photos(self, photos: list[Path]) -> None:
        self.restore.add_photos(photos)
        self.show_view("restore")

    # --- scanning -------------------------------------------------------------------------------------
    def add_folders(self, folders: list[Path]) -> None:
        if self.scans.scan(folders) is not None:
            self.show_view("photos")  # results appear there as they come

    def _on_better_model(self, model_id: str | None) -> None:
        if model_id:
            self.banner.offer(model_id)

    def reembed(self) -> None:
        self.banner.hide()
        self.session.query(core_queries.album_folders, on_result=lambda folders: self.scans.scan(folders, reembed=True))

    # --- drops -----------------------------------------------------------------------------------------
    def dragEnterEvent(self, event) -> None:  # noqa: N802
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:  # noqa: N802
        paths = [Path(url.toLocalFile()) for url in event.mimeData().urls() if url.isLocalFile()]
        self.handle_drop(paths)
        event.acceptProposedAction()

    def handle_drop(self, paths: list[Path]) -> None:
        folders, images = split_drop(paths)
        if folders:
            self.add_folders(folders)
        if images:
            self.restore.add_photos(images)
            if not folders:
                self.show_view("restore")

    # --- closing ---------------------------------------------------------------------------------------
    def closeEvent(self, event) -> None:  # noqa: N802
        self.settings.save_window_state(self.saveGeometry(), self.saveState())
        self.scans.cancel()
        self.jobs.stop_and_wait()  # part 2: a running job pauses, resumable next time
        self.restore.controller.cancel()
        if self.scans.task is not None and self.scans.task.running:
            QThreadPool.globalInstance().waitForDone(10_000)  # the scan stops at its next photo
        self.loader.cancel_pending()
        self.loader.wait(2000)
        self.session.close()
        super().closeEvent(event)
