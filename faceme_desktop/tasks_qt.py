"""The core's long tasks on Qt's thread pool (superqt workers): progress in, Cancel out, errors surfaced.

A core task is a plain function ``fn(*, progress, cancel)`` that reports ``TaskProgress`` and raises
``Cancelled`` when its ``CancelToken`` is cancelled. ``RunningTask`` runs one on a pool thread and
re-emits what happens as Qt signals, delivered on the GUI thread (queued connections), so a slot may
touch widgets. Progress is throttled: a task reporting thousands of events per second never floods
the GUI thread's event queue.
"""

from __future__ import annotations

import logging
import time
from typing import Any, Callable

from PySide6.QtCore import QObject, Signal
from superqt.utils import create_worker

from faceme_core.tasks import Cancelled, CancelToken, TaskProgress

log = logging.getLogger(__name__)

TaskFunction = Callable[..., Any]  # fn(*, progress: ProgressCallback, cancel: CancelToken) -> result
PROGRESS_INTERVAL_S = 0.05


class RunningTask(QObject):
    """One run of a task. Signals arrive on the GUI thread; exactly one of succeeded/failed/cancelled fires, then finished."""

    progress = Signal(object)  # TaskProgress
    succeeded = Signal(object)  # the function's return value
    failed = Signal(object)  # the exception (never Cancelled)
    cancelled = Signal()
    finished = Signal()

    def __init__(self, title: str, fn: TaskFunction, parent: QObject | None = None):
        super().__init__(parent)
        self.title = title
        self.token = CancelToken()
        self._fn = fn
        self._last_emit = 0.0
        self._last_stage: str | None = None
        self._held: TaskProgress | None = None  # the newest event not emitted yet (throttled)
        self.running = False
        self._worker = None

    def start(self) -> None:
        self.running = True
        self._worker = create_worker(
            self._run,
            _start_thread=False,
            _connect={"returned": self._on_returned, "errored": self._on_errored},
        )
        self._worker.start()

    def cancel(self) -> None:
        self.token.cancel()

    def _run(self) -> Any:  # on a pool thread
        try:
            return self._fn(progress=self._report, cancel=self.token)
        finally:
            if self._held is not None:  # the last word of the task is always shown
                self.progress.emit(self._held)

    def _report(self, event: TaskProgress) -> None:  # on a pool thread
        now = time.monotonic()
        final = event.total is not None and event.done >= event.total
        if final or event.stage != self._last_stage or now - self._last_emit >= PROGRESS_INTERVAL_S:
            self._last_emit, self._last_stage, self._held = now, event.stage, None
            self.progress.emit(event)
        else:
            self._held = event

    def _on_returned(self, result: Any) -> None:
        self.running = False
        self.succeeded.emit(result)
        self.finished.emit()

    def _on_errored(self, error: BaseException) -> None:
        self.running = False
        if isinstance(error, Cancelled):
            self.cancelled.emit()
        else:
            log.info("task %r failed: %s", self.title, error)
            self.failed.emit(error)
        self.finished.emit()


class OneTaskAtATime(QObject):
    """A controller that runs at most one ``RunningTask`` at a time: ``busy``, ``cancel()``, and
    ``launch(task)``, which starts it and announces it through ``started``."""

    started = Signal(object)  # RunningTask (the status bar follows it)

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self.task: RunningTask | None = None

    @property
    def busy(self) -> bool:
        return self.task is not None and self.task.running

    def launch(self, task: RunningTask) -> RunningTask:
        self.task = task
        task.start()
        self.started.emit(task)
        return task

    def cancel(self) -> None:
        if self.busy:
            self.task.cancel()


def format_eta(seconds: float | None) -> str:
    """"about 3 min left" in plain words; empty while unknown."""
    if seconds is None:
        return ""
    seconds = max(0, int(round(seconds)))
    if seconds < 60:
        return f"about {seconds} s left"
    if seconds < 3600:
        return f"about {round(seconds / 60)} min left"
    return f"about {seconds // 3600} h {round(seconds % 3600 / 60)} min left"
