"""The status bar's part for the running task: what it does, a progress bar, the ETA and Cancel."""

from __future__ import annotations

from pathlib import PurePath

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QToolButton, QWidget

from faceme_core.tasks import TaskProgress
from faceme_desktop.icons import icon
from faceme_desktop.tasks_qt import RunningTask, format_eta


LABEL_WIDTH = 380
STAGE_WORDS = {
    "loading": "Loading the face models",
    "walking": "Looking for photos",
    "analysing": "Finding faces",
    "embedding": "Computing face fingerprints",
    "grouping": "Grouping faces into people",
}


def describe(event: TaskProgress) -> str:
    """'Finding faces: IMG_0042.jpg (30/120), 2 failed' from a task's progress event."""
    text = STAGE_WORDS.get(event.stage, event.stage.replace("_", " ").capitalize())
    if event.item:
        text += f": {PurePath(event.item).name}"
    if event.total:
        text += f" ({event.done}/{event.total})"
    if event.message and event.message.lower() != text.lower() and event.message.lower() not in STAGE_WORDS.get(event.stage, "").lower():
        text += f", {event.message}"
    return text


class StatusProgress(QWidget):
    """Shows one ``RunningTask`` at a time; hidden when none runs."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.label = QLabel()
        self.label.setFixedWidth(LABEL_WIDTH)  # a steady width: the status bar never clips it mid-text
        self.bar = QProgressBar()
        self.bar.setFixedWidth(180)
        self.bar.setTextVisible(False)
        self.eta = QLabel()
        self.cancel_button = QToolButton()
        self.cancel_button.setObjectName("cancelTask")
        self.cancel_button.setText("Cancel")
        self.cancel_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.cancel_button.setToolTip("Stop the running task (Ctrl+.); what is done so far is kept")
        self.cancel_button.clicked.connect(self._on_cancel)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        for widget in (self.label, self.bar, self.eta, self.cancel_button):
            layout.addWidget(widget)
        self._task: RunningTask | None = None
        self.refresh_icons()
        self.hide()

    def refresh_icons(self) -> None:
        self.cancel_button.setIcon(icon("cancel"))

    def follow(self, task: RunningTask) -> None:
        self._task = task
        self._say(task.title + "...")
        self.bar.setRange(0, 0)  # busy until the first event with a total
        self.eta.clear()
        self.cancel_button.setEnabled(True)
        task.progress.connect(self._on_progress)
        task.finished.connect(self._on_finished)
        self.show()

    def _on_progress(self, event: TaskProgress) -> None:
        if event.total:
            self.bar.setRange(0, event.total)
            self.bar.setValue(min(event.done, event.total))
        else:
            self.bar.setRange(0, 0)
        self._say(describe(event))
        self.eta.setText(format_eta(event.eta_seconds))

    def _on_cancel(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self.cancel_button.setEnabled(False)
            self._say("Stopping...")

    def _say(self, text: str) -> None:
        """The text, shortened in the middle (a long file name) so the count at its end stays visible."""
        self.label.setText(self.label.fontMetrics().elidedText(text, Qt.TextElideMode.ElideMiddle, LABEL_WIDTH - 4))
        self.label.setToolTip(text)

    def _on_finished(self) -> None:
        self._task = None
        self.hide()
