"""The Models dialog: each component's state (installed, missing, invalid), size and licence; download
all or one with bytes, speed and ETA, and Cancel (the next try resumes); import from a folder;
verify; where the models are stored; the device and offload mode the engine runs with."""

from __future__ import annotations

import time
from functools import partial
from pathlib import Path

from PySide6.QtCore import Qt, QThreadPool, QUrl, Signal
from PySide6.QtGui import QBrush, QColor, QDesktopServices
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
)

from faceme_core import paths
from faceme_core.models.manifest import component
from faceme_core.models.store import ComponentStatus, model_status
from faceme_core.tasks import TaskProgress
from faceme_desktop.error_dialog import show_error
from faceme_desktop.icons import icon
from faceme_desktop.tasks_qt import RunningTask, format_eta

COLUMNS = ("Component", "State", "Size", "Licence")
OFFLOAD_TEXT = {  # engine.offload's modes, in words (see that module for the memory each needs)
    "none": "none (fastest; 12 GB GPUs and larger)",
    "model": "model (parts not running leave the GPU)",
    "group": "group (a few layers at a time; GPUs under 8 GB)",
    "sequential": "sequential (least memory, slowest)",
}
STATE_COLOURS = {"installed": QColor("#2e7d32"), "missing": QColor("#757575"), "invalid": QColor("#c62828")}


def human_bytes(count: int | None) -> str:
    if count is None:
        return ""
    value = float(count)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GB"


class SpeedMeter:
    """Bytes per second over this download (the bytes a resumed download already had do not count)."""

    def __init__(self, clock=time.monotonic):
        self._clock = clock
        self._start: tuple[float, int] | None = None
        self._item: str | None = None

    def speed(self, event: TaskProgress) -> float | None:
        now = self._clock()
        if self._start is None or event.item != self._item or event.done < self._start[1]:
            self._start, self._item = (now, event.done), event.item
            return None
        elapsed = now - self._start[0]
        return (event.done - self._start[1]) / elapsed if elapsed > 0 else None


def status_rows(models_dir: Path, deep: bool = False) -> list[ComponentStatus]:  # worker thread
    return model_status(models_dir, deep=deep)


def verify_summary(statuses: list[ComponentStatus]) -> str:
    """One line after Verify: how many components are sound, and each one that is not, with why."""
    def titles(state: str) -> list[ComponentStatus]:
        return [s for s in statuses if s.state == state]

    installed, invalid, missing = titles("installed"), titles("invalid"), titles("missing")
    parts = [f"Verified: {len(installed)} of {len(statuses)} components installed and sound"]
    parts += [f"{s.name} is invalid ({s.errors[0] if s.errors else 'unreadable'})" for s in invalid]
    if missing:
        parts.append("missing: " + ", ".join(s.name for s in missing))
    warned = [s.name for s in installed if s.warnings]
    if warned:
        parts.append("warnings for " + ", ".join(warned) + " (hover the state)")
    return "; ".join(parts)


class ModelsDialog(QDialog):
    models_changed = Signal()  # installed, imported: the restore engine is loaded anew
    offload_changed = Signal(str)  # an OFFLOAD_MODES name

    def __init__(self, parent=None, *, models_dir: Path | None = None, fetcher=None, device_text: str = "",
                 missing_text: str = "", offload: str = "none"):
        super().__init__(parent)
        self.setObjectName("modelsDialog")
        self.setWindowTitle("FaceMe models")
        self.resize(1000, 420)
        self.models_dir = Path(models_dir) if models_dir else paths.models_dir()
        self.fetcher = fetcher  # None: the Hugging Face downloader; tests pass a fake
        self.statuses: list[ComponentStatus] = []
        self.verifying = False
        self.task: RunningTask | None = None
        self._speed = SpeedMeter()
        self.pool = QThreadPool(self)

        self.missing = QLabel(missing_text)
        self.missing.setObjectName("modelsMissing")
        self.missing.setWordWrap(True)
        self.missing.setVisible(bool(missing_text))
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setObjectName("modelsTable")
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.verticalHeader().hide()
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        self.table.setWordWrap(False)
        self.store = QLabel()
        self.store.setObjectName("modelsStore")
        self.store.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.store.setText(f"Stored in: {self.models_dir} (and the Hugging Face cache)")
        open_store = QPushButton("Open folder")
        open_store.clicked.connect(lambda: QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.models_dir))))
        self.device = QLabel(f"Device: {device_text}" if device_text else "")
        self.device.setObjectName("modelsDevice")
        self.offload = QComboBox()
        self.offload.setObjectName("offload")
        for mode, text in OFFLOAD_TEXT.items():
            self.offload.addItem(text, mode)
        self.offload.setCurrentIndex(max(0, self.offload.findData(offload)))
        self.offload.setToolTip("For GPUs with little memory: keep weights in CPU memory and bring them in as "
                                "they run (slower). Out-of-memory errors name this remedy.")
        self.offload.currentIndexChanged.connect(lambda _i: self.offload_changed.emit(self.offload.currentData()))

        self.download_all = QPushButton("Download all")
        self.download_all.setObjectName("downloadAll")
        self.download_one = QPushButton("Download selected")
        self.download_one.setObjectName("downloadSelected")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setObjectName("cancelDownload")
        self.cancel_button.setToolTip("Stop the download; what was fetched is kept and the next try resumes")
        self.cancel_button.setEnabled(False)
        self.import_button = QPushButton("Import from folder...")
        self.verify_button = QPushButton("Verify")
        self.verify_button.setObjectName("verifyModels")
        self.verify_button.setToolTip("Check every file thoroughly (reads the weights' headers)")
        close = QPushButton("Close")
        self.download_all.clicked.connect(lambda: self.download(("all",)))
        self.download_one.clicked.connect(self.download_selected)
        self.cancel_button.clicked.connect(self.cancel)
        self.import_button.clicked.connect(self.import_folder)
        self.verify_button.clicked.connect(self.verify)
        close.clicked.connect(self.accept)
        self.progress = QProgressBar()
        self.progress.setObjectName("downloadProgress")
        self.progress_label = QLabel()
        self.progress_label.setObjectName("downloadLabel")
        self.progress_label.setWordWrap(True)

        buttons = QHBoxLayout()
        for button in (self.download_all, self.download_one, self.cancel_button, self.import_button, self.verify_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        buttons.addWidget(close)
        store_row = QHBoxLayout()
        store_row.addWidget(self.store, 1)
        store_row.addWidget(open_store)
        device_row = QHBoxLayout()
        device_row.addWidget(self.device)
        device_row.addStretch(1)
        device_row.addWidget(QLabel("Offload"))
        device_row.addWidget(self.offload)
        layout = QVBoxLayout(self)
        layout.addWidget(self.missing)
        layout.addWidget(self.table, 1)
        layout.addLayout(store_row)
        layout.addLayout(device_row)
        layout.addWidget(self.progress)
        layout.addWidget(self.progress_label)
        layout.addLayout(buttons)
        self.refresh()

    # --- state ---------------------------------------------------------------------------------------------
    def refresh(self, deep: bool = False) -> None:
        from superqt.utils import create_worker

        worker = create_worker(status_rows, self.models_dir, deep, _start_thread=False,
                               _connect={"returned": self._on_statuses, "errored": self._on_status_error})
        worker.start()

    def verify(self) -> None:
        """Reads every installed component again, thoroughly; the table and a one-line summary show it."""
        if self.verifying or (self.task is not None and self.task.running):
            return
        self.verifying = True
        for button in (self.download_all, self.download_one, self.import_button, self.verify_button):
            button.setEnabled(False)
        self.progress.setRange(0, 0)
        self.progress_label.setText("Verifying every file...")
        self.refresh(deep=True)

    def _on_status_error(self, error: BaseException) -> None:
        if self.verifying:
            self._end_verify("")
        show_error(self, error)

    def _end_verify(self, text: str) -> None:
        self.verifying = False
        for button in (self.download_all, self.download_one, self.import_button, self.verify_button):
            button.setEnabled(True)
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.progress_label.setText(text)

    def _on_statuses(self, statuses: list[ComponentStatus]) -> None:
        self.statuses = statuses
        self.table.setRowCount(len(statuses))
        for row, status in enumerate(statuses):
            spec = component(status.name)
            state = QTableWidgetItem(status.state)
            state.setForeground(QBrush(STATE_COLOURS[status.state]))
            problems = "\n".join(status.errors + status.warnings)
            if problems:
                state.setToolTip(problems)
            if status.warnings and status.state == "installed":
                state.setIcon(icon("warning"))
            size = human_bytes(status.size_bytes) if status.size_bytes else f"~{human_bytes(spec.approx_bytes)}"
            name = QTableWidgetItem(spec.title)
            name.setToolTip(f"{status.name}: {status.path or 'not installed'}")
            licence = QTableWidgetItem(spec.licence)
            licence.setToolTip(spec.licence)
            cells = [name, state, QTableWidgetItem(size), licence]
            for column, item in enumerate(cells):
                self.table.setItem(row, column, item)
        if self.verifying:
            self._end_verify(verify_summary(statuses))

    def state_of(self, name: str) -> str | None:
        return next((s.state for s in self.statuses if s.name == name), None)

    # --- downloading ---------------------------------------------------------------------------------------
    def download_selected(self) -> None:
        rows = sorted({index.row() for index in self.table.selectionModel().selectedRows()})
        names = tuple(self.statuses[row].name for row in rows if row < len(self.statuses))
        if names:
            self.download(names)

    def download(self, names: tuple[str, ...]) -> RunningTask | None:
        from faceme_core.tasks.download_models import download_models

        if self.task is not None and self.task.running:
            return None
        fn = partial(download_models, names, self.models_dir, fetcher=self.fetcher)
        task = RunningTask("Downloading models", fn, self)
        task.progress.connect(self._on_progress)
        task.succeeded.connect(lambda _r: self._on_done("Download finished"))
        task.cancelled.connect(lambda: self._on_done("Download cancelled: what was fetched is kept; the next try resumes"))
        task.failed.connect(self._on_failed)
        self.task = task
        self._speed = SpeedMeter()
        for button in (self.download_all, self.download_one, self.import_button, self.verify_button):
            button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.progress.setRange(0, 0)
        self.progress_label.setText("Starting the download...")
        task.start()
        return task

    def _on_progress(self, event: TaskProgress) -> None:
        if event.total:
            # bytes can exceed a QProgressBar's int range: show per mille
            self.progress.setRange(0, 1000)
            self.progress.setValue(int(1000 * event.done / event.total))
        else:
            self.progress.setRange(0, 0)
        speed = self._speed.speed(event)
        parts = [f"{event.item}: {human_bytes(event.done)}" + (f" of {human_bytes(event.total)}" if event.total else "")]
        if speed:
            parts.append(f"{human_bytes(int(speed))}/s")
        if event.eta_seconds is not None:
            parts.append(format_eta(event.eta_seconds))
        self.progress_label.setText(", ".join(parts))

    def cancel(self) -> None:
        if self.task is not None and self.task.running:
            self.task.cancel()
            self.cancel_button.setEnabled(False)
            self.progress_label.setText("Stopping the download...")

    def _on_done(self, text: str) -> None:
        self._idle()
        self.progress_label.setText(text)
        self.models_changed.emit()
        self.refresh()

    def _on_failed(self, error: BaseException) -> None:
        self._idle()
        self.progress_label.setText("")
        show_error(self, error)

    def _idle(self) -> None:
        for button in (self.download_all, self.download_one, self.import_button):
            button.setEnabled(True)
        self.verify_button.setEnabled(not self.verifying)
        self.cancel_button.setEnabled(False)
        self.progress.setRange(0, 1)
        self.progress.setValue(0)

    # --- importing -----------------------------------------------------------------------------------------
    def import_folder(self, folder: Path | None = None) -> None:
        from superqt.utils import create_worker

        from faceme_core.models.install import import_models

        if folder is None:
            chosen = QFileDialog.getExistingDirectory(self, "Import models from")
            if not chosen:
                return
            folder = Path(chosen)
        self.progress_label.setText(f"Importing from {folder}...")
        worker = create_worker(import_models, Path(folder), self.models_dir, _start_thread=False,
                               _connect={"returned": self._on_imported, "errored": self._on_failed})
        worker.start()

    def _on_imported(self, results) -> None:
        names = ", ".join(r.name for r in results) or "nothing recognised"
        self.progress_label.setText(f"Imported: {names}")
        self.models_changed.emit()
        self.refresh()

    def closeEvent(self, event) -> None:  # noqa: N802
        self.cancel()
        super().closeEvent(event)

    def done(self, result: int) -> None:
        self.cancel()
        super().done(result)
