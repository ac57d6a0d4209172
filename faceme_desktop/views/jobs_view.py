"""The Jobs tab: album restore jobs (the core's persisted jobs) with progress, ETA, pause, cancel,
resume (jobs live in the library, so they survive a restart), per-photo errors and per-face
outcomes, "open output folder" and retry of failed photos."""

from __future__ import annotations

import os
import time
from functools import partial
from pathlib import Path
from typing import Callable

from PySide6.QtCore import Qt, QUrl, Signal
from PySide6.QtGui import QBrush, QColor, QDesktopServices
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from faceme_core.library import jobs as core_jobs
from faceme_core.library.types import FaceOutcome, JobInfo, JobItemInfo
from faceme_core.restore.album_adapter import AlbumRestoreSettings
from faceme_core.tasks import TaskProgress
from faceme_desktop.error_dialog import show_error
from faceme_desktop.icons import icon
from faceme_desktop.session import LibrarySession
from faceme_desktop.settings import AppSettings
from faceme_desktop.tasks_qt import RunningTask, format_eta

JOB_COLUMNS = ("Job", "State", "Photos", "Failed", "Output folder", "Created")
ITEM_COLUMNS = ("Photo", "State", "Faces / reason")
STATE_TEXT = {"interrupted": "interrupted (resume it)", "paused": "paused", "pending": "not started",
              "running": "running", "done": "done", "cancelled": "cancelled"}
FAILED_COLOUR = QColor("#c62828")

# job options (JSON) -> the per-photo restore function run_job calls
RestorerFactory = Callable[[dict], Callable]


def open_album_restorer_for(settings: AppSettings) -> RestorerFactory:
    """Loads the engine with the device and offload mode chosen when the job (re)starts."""

    def factory(options: dict):
        from faceme_core.restore.album_adapter import open_album_restorer
        from faceme_desktop.restore_settings import RestoreSettings

        return open_album_restorer(AlbumRestoreSettings.from_json(options) if options else AlbumRestoreSettings(),
                                   device=settings.device, offload=RestoreSettings().offload)

    return factory


def run_job_task(library, job_id: int, factory: RestorerFactory, *, progress, cancel) -> JobInfo:  # worker thread
    core_jobs.check_resumable(library, job_id)  # before loading models (minutes), say what is wrong
    progress(TaskProgress("loading", 0, None, message="Loading the restoration models"))
    restorer = factory(core_jobs.job_options(library, job_id))
    cancel.raise_if_cancelled()
    return core_jobs.run_job(library, job_id, restorer, progress=progress, cancel=cancel)


def outcome_text(face: FaceOutcome) -> str:
    who = face.person or (f"person {face.person_id}" if face.person_id is not None else "unassigned")
    if face.mode == "skipped":
        return f"{who}: left as it was ({face.detail})"
    parts = [f"{who}: {'blind' if face.mode == 'blind' else f'{len(face.references)} reference(s)'}"]
    if face.identity_before is not None and face.identity_after is not None:
        arrow = "↓" if face.identity_after < face.identity_before else "↑"
        parts.append(f"identity {face.identity_before:.2f} → {face.identity_after:.2f} {arrow}")
    if face.seed is not None:
        parts.append(f"seed {face.seed}")
    return ", ".join(parts)


def photos_under(library, folder: Path) -> list[Path]:  # worker thread
    from faceme_core.library.photos import list_photos

    root = os.path.realpath(folder)
    return [p.path for p in list_photos(library, "ok") if p.face_count and
            os.path.realpath(p.path).startswith(root.rstrip(os.sep) + os.sep)]


class PeopleDialog(QDialog):
    """Choose people whose photos to restore."""

    def __init__(self, people: list[tuple[int, str, int]], parent=None):
        super().__init__(parent)
        self.setWindowTitle("Restore the photos of...")
        self.list = QListWidget()
        for person_id, name, faces in people:
            item = QListWidgetItem(f"{name} ({faces} photo(s))")
            item.setData(Qt.ItemDataRole.UserRole, person_id)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Unchecked)
            self.list.addItem(item)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.list)
        layout.addWidget(buttons)

    def chosen(self) -> list[int]:
        return [self.list.item(i).data(Qt.ItemDataRole.UserRole) for i in range(self.list.count())
                if self.list.item(i).checkState() == Qt.CheckState.Checked]


class JobsView(QWidget):
    status_message = Signal(str)
    models_requested = Signal(str)

    def __init__(self, session: LibrarySession, settings: AppSettings, parent: QWidget | None = None, *,
                 restorer_factory: RestorerFactory | None = None,
                 photos_provider: Callable[[], list[Path]] | None = None,
                 options_provider: Callable[[], dict] | None = None):
        super().__init__(parent)
        self.setObjectName("jobsView")
        self.session = session
        self.settings = settings
        self.restorer_factory = restorer_factory or open_album_restorer_for(settings)
        self.photos_provider = photos_provider or (lambda: [])
        self.options_provider = options_provider or (lambda: AlbumRestoreSettings().to_json())
        self.choose_out_dir: Callable[[], Path | None] = self._ask_out_dir
        self.jobs: list[JobInfo] = []
        self.items: list[JobItemInfo] = []
        self.task: RunningTask | None = None
        self.running_job: int | None = None
        self._build()
        session.changed.connect(self.refresh)
        self.refresh()

    def _build(self) -> None:
        self.new_button = QToolButton()
        self.new_button.setObjectName("newJob")
        self.new_button.setText("New job")
        self.new_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.new_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QMenu(self.new_button)
        menu.addAction("From the photos in Restore", self.new_from_restore_list)
        menu.addAction("From a folder...", self.new_from_folder)
        menu.addAction("From people...", self.new_from_people)
        self.new_button.setMenu(menu)
        self.run_button = QPushButton("Resume")
        self.run_button.setObjectName("runJob")
        self.run_button.setToolTip("Start or resume the selected job; finished photos are never redone")
        self.pause_button = QPushButton("Pause")
        self.pause_button.setObjectName("pauseJob")
        self.pause_button.setToolTip("Stop within one denoising step; the photo in progress is redone on resume")
        self.cancel_button = QPushButton("Cancel job")
        self.cancel_button.setObjectName("cancelJob")
        self.cancel_button.setToolTip("Stop for good; photos already restored stay")
        self.retry_button = QPushButton("Retry failed")
        self.retry_button.setObjectName("retryFailed")
        self.open_button = QPushButton("Open output folder")
        self.open_button.setObjectName("openOutput")
        self.run_button.clicked.connect(self.resume_selected)
        self.pause_button.clicked.connect(self.pause)
        self.cancel_button.clicked.connect(self.cancel_selected)
        self.retry_button.clicked.connect(self.retry_selected)
        self.open_button.clicked.connect(self.open_output)
        bar = QHBoxLayout()
        for widget in (self.new_button, self.run_button, self.pause_button, self.cancel_button, self.retry_button,
                       self.open_button):
            bar.addWidget(widget)
        bar.addStretch(1)

        self.table = QTableWidget(0, len(JOB_COLUMNS))
        self.table.setObjectName("jobsTable")
        self.table.setHorizontalHeaderLabels(JOB_COLUMNS)
        self.table.verticalHeader().hide()
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setSectionResizeMode(4, QHeaderView.ResizeMode.Stretch)
        self.table.itemSelectionChanged.connect(self._on_selection)
        self.item_table = QTableWidget(0, len(ITEM_COLUMNS))
        self.item_table.setObjectName("jobItems")
        self.item_table.setHorizontalHeaderLabels(ITEM_COLUMNS)
        self.item_table.verticalHeader().hide()
        self.item_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.item_table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.item_table.horizontalHeader().setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.item_table.setWordWrap(True)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.table)
        split.addWidget(self.item_table)
        split.setStretchFactor(1, 2)

        self.progress = QProgressBar()
        self.progress.setObjectName("jobProgress")
        self.progress.setTextVisible(False)
        self.progress_label = QLabel("No job running")
        self.progress_label.setObjectName("jobProgressLabel")
        self.progress_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.eta = QLabel()
        progress_row = QHBoxLayout()
        progress_row.addWidget(self.progress_label, 1)
        progress_row.addWidget(self.progress, 1)
        progress_row.addWidget(self.eta)
        title = QLabel("<h3>Restore jobs</h3>Restore many photos at once. Jobs are kept in the library: "
                       "pause, quit and resume later; finished photos are never redone.")
        title.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addWidget(title)
        layout.addLayout(bar)
        layout.addWidget(split, 1)
        layout.addLayout(progress_row)
        self.refresh_icons()
        self._update_buttons()

    def refresh_icons(self) -> None:
        self.new_button.setIcon(icon("restore"))
        self.open_button.setIcon(icon("folder"))

    # --- reading ----------------------------------------------------------------------------------------------
    def refresh(self) -> None:
        self.session.query(core_jobs.list_jobs, on_result=self._on_jobs, on_error=lambda _e: None)

    def selected_job(self) -> JobInfo | None:
        rows = {index.row() for index in self.table.selectionModel().selectedRows()}
        if not rows:
            return None
        row = min(rows)
        return self.jobs[row] if row < len(self.jobs) else None

    def _on_jobs(self, jobs: list[JobInfo]) -> None:
        selected = self.selected_job()
        keep = selected.id if selected else (jobs[-1].id if jobs else None)
        self.jobs = list(reversed(jobs))  # newest first
        self.table.blockSignals(True)
        self.table.setRowCount(len(self.jobs))
        for row, job in enumerate(self.jobs):
            cells = (f"#{job.id}", STATE_TEXT.get(job.state, job.state), f"{job.done}/{job.total}",
                     str(job.failed), str(job.out_dir), time.strftime("%Y-%m-%d %H:%M", time.localtime(job.created_at)))
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if column == 3 and job.failed:
                    item.setForeground(QBrush(FAILED_COLOUR))
                self.table.setItem(row, column, item)
            if job.id == keep:
                self.table.selectRow(row)
        self.table.blockSignals(False)
        self._on_selection()

    def _on_selection(self) -> None:
        job = self.selected_job()
        self._update_buttons()
        if job is None:
            self.item_table.setRowCount(0)
            return
        self.session.query(core_jobs.job_items, job.id, on_result=self._on_items, on_error=lambda _e: None)

    def _on_items(self, items: list[JobItemInfo]) -> None:
        self.items = items
        self.item_table.setRowCount(len(items))
        for row, item in enumerate(items):
            photo = QTableWidgetItem(item.photo_path.name)
            photo.setToolTip(f"{item.photo_path}\n-> {item.output_path}")
            state = QTableWidgetItem(item.state)
            if item.state == "failed":
                state.setForeground(QBrush(FAILED_COLOUR))
                detail = item.error or "failed"
            elif item.faces:
                detail = "; ".join(outcome_text(face) for face in item.faces)
            else:
                detail = ""
            self.item_table.setItem(row, 0, photo)
            self.item_table.setItem(row, 1, state)
            self.item_table.setItem(row, 2, QTableWidgetItem(detail))

    def _update_buttons(self) -> None:
        job = self.selected_job()
        running = self.task is not None and self.task.running
        self.run_button.setEnabled(job is not None and not running and job.state not in ("done", "cancelled"))
        self.pause_button.setEnabled(running)
        self.cancel_button.setEnabled(job is not None and job.state not in ("done", "cancelled"))
        self.retry_button.setEnabled(job is not None and job.failed > 0 and not running)
        self.open_button.setEnabled(job is not None)

    # --- creating ---------------------------------------------------------------------------------------------
    def new_from_restore_list(self) -> None:
        photos = self.photos_provider()
        if not photos:
            self.status_message.emit("Add photos to the Restore tab first (drop them on the window)")
            return
        self.create_job(photos=photos)

    def new_from_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Restore the photos in")
        if folder:
            self.session.query(photos_under, Path(folder), on_result=lambda photos: self.create_job(photos=photos))

    def new_from_people(self) -> None:
        from faceme_core.library.people import list_people

        def chosen(people) -> None:
            rows = [(p.id, p.display_name, len(p.faces)) for p in people if p.name or len(p.faces) >= 3]
            dialog = PeopleDialog(rows, self)
            if dialog.exec() and dialog.chosen():
                self.create_job(people=dialog.chosen())

        self.session.query(lambda library: list_people(library, include_hidden=False), on_result=chosen)

    def create_job(self, *, photos=(), people=()) -> None:
        out_dir = self.choose_out_dir()
        if out_dir is None:
            return
        options = self.options_provider()
        self.session.edit("New restore job", core_jobs.create_job, out_dir, photos=list(photos), people=list(people),
                          options=options, on_result=self._on_created)

    def _on_created(self, job_id: int) -> None:
        self.status_message.emit(f"Restore job #{job_id} created")
        self.refresh()
        self.run_job(job_id)

    def _ask_out_dir(self) -> Path | None:
        start = str(self.settings.output_folder or Path.home())
        folder = QFileDialog.getExistingDirectory(self, "Where to write the restored photos (outside your albums)", start)
        if not folder:
            return None
        self.settings.output_folder = Path(folder)
        return Path(folder)

    # --- running ----------------------------------------------------------------------------------------------
    def resume_selected(self) -> None:
        job = self.selected_job()
        if job is not None:
            self.run_job(job.id)

    def run_job(self, job_id: int) -> RunningTask | None:
        if self.task is not None and self.task.running:
            self.status_message.emit("A job is already running: pause it first")
            return None
        task = RunningTask(f"Restore job #{job_id}", partial(run_job_task, self.session.library, job_id,
                                                             self.restorer_factory), self)
        task.progress.connect(self._on_progress)
        task.succeeded.connect(lambda info: self.status_message.emit(
            f"Job #{info.id}: {info.done}/{info.total} photos done, {info.failed} failed"))
        task.cancelled.connect(lambda: self.status_message.emit(f"Job #{job_id} paused: resume it any time"))
        task.failed.connect(self._on_failed)
        task.finished.connect(self._on_finished)
        self.task, self.running_job = task, job_id
        self.progress.setRange(0, 0)
        self.progress_label.setText(f"Job #{job_id}: starting...")
        task.start()
        self._update_buttons()
        return task

    def pause(self) -> None:
        if self.task is not None and self.task.running:
            self.task.cancel()  # the core puts the photo in progress back and pauses the job
            self.progress_label.setText("Pausing...")

    def cancel_selected(self) -> None:
        job = self.selected_job()
        if job is None:
            return
        if self.running_job == job.id and self.task is not None and self.task.running:
            self.task.cancel()
        self.session.edit(f"Cancel job #{job.id}", core_jobs.cancel_job, job.id, on_result=lambda _r: self.refresh())

    def retry_selected(self) -> None:
        job = self.selected_job()
        if job is not None:
            self.session.edit(f"Retry failed photos of job #{job.id}", core_jobs.retry_failed, job.id,
                              on_result=lambda count: self._on_retry(job.id, count))

    def _on_retry(self, job_id: int, count: int) -> None:
        self.status_message.emit(f"{count} failed photo(s) queued again")
        if count:
            self.run_job(job_id)

    def open_output(self) -> None:
        job = self.selected_job()
        if job is not None:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(job.out_dir)))

    def _on_progress(self, event: TaskProgress) -> None:
        if event.stage == "photos":
            self.progress.setRange(0, event.total or 0)
            self.progress.setValue(event.done)
            current = f" - {Path(event.item).name}" if event.item else ""
            self.progress_label.setText(f"Job #{self.running_job}: {event.message}{current}")
            self.eta.setText(format_eta(event.eta_seconds))
            self.refresh()
        elif event.stage == "sampling":
            self.progress_label.setText(f"Job #{self.running_job}: {event.item}, step {event.done}/{event.total}")
        else:
            self.progress_label.setText(event.message or event.stage)

    def _on_failed(self, error: BaseException) -> None:
        from faceme_core.errors import ModelMissingError

        if isinstance(error, ModelMissingError):
            self.models_requested.emit(str(error))
        else:
            show_error(self, error)

    def _on_finished(self) -> None:
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.eta.clear()
        self.progress_label.setText("No job running")
        self.running_job = None
        self.session.check_revision()
        self.refresh()
        self._update_buttons()

    def stop_and_wait(self, msecs: int = 10_000) -> None:
        """Closing the window: pause the running job (it resumes next time) and wait for it to stop."""
        if self.task is not None and self.task.running:
            self.task.cancel()
            from PySide6.QtCore import QThreadPool

            QThreadPool.globalInstance().waitForDone(msecs)
