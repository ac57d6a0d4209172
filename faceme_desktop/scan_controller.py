"""Starting scans (and re-embeds) in the background, one at a time, and telling the window about them."""

from __future__ import annotations

from functools import partial
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from faceme_core.library.types import ScanSummary
from faceme_desktop import core_tasks
from faceme_desktop.session import LibrarySession
from faceme_desktop.tasks_qt import OneTaskAtATime, RunningTask


def summary_sentence(summary: ScanSummary) -> str:
    parts = [f"{summary.added} new photo(s)", f"{summary.faces_added} face(s)", f"{summary.people_created} new group(s)"]
    if summary.failed:
        parts.append(f"{summary.failed} could not be read")
    return "Scan finished: " + ", ".join(parts)


class ScanController(OneTaskAtATime):
    message = Signal(str)  # a sentence for the status bar
    failed = Signal(object)  # the exception

    def __init__(self, session: LibrarySession, backend: str, parent: QObject | None = None, analyzer=None):
        super().__init__(parent)
        self.session = session
        self.backend = backend
        self.analyzer = analyzer  # tests pass a ready one; else made on the worker thread

    def scan(self, folders: list[Path], *, reembed: bool = False) -> RunningTask | None:
        if self.busy:
            self.message.emit("A scan is already running: wait for it or cancel it first")
            return None
        title = "Re-embedding faces" if reembed else f"Scanning {', '.join(f.name or str(f) for f in folders)}"
        fn = partial(core_tasks.scan, self.session.library, list(folders), self.backend, reembed=reembed, analyzer=self.analyzer)
        task = RunningTask(title, fn, self)
        task.progress.connect(lambda _event: self.session.check_revision())  # results appear as they come
        task.succeeded.connect(lambda summary: self.message.emit(summary_sentence(summary)))
        task.cancelled.connect(lambda: self.message.emit("Scan cancelled: the photos done so far are kept"))
        task.failed.connect(self.failed)
        task.finished.connect(self.session.check_revision)
        return self.launch(task)
