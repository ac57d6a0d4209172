"""The open library as the GUI sees it: background reads, background edits and change notification.

Every read and write runs on a pool thread, so the GUI thread never waits on SQLite (a scan holds
the write lock for a moment per photo; a slow disk can stall any query). Results come back on the GUI
thread through a queued signal. ``changed`` fires whenever the library's revision moves, whoever
committed (this window, a scan thread, a ``faceme`` command in a terminal); views reload then.
"""

from __future__ import annotations

import logging
from typing import Any, Callable

from PySide6.QtCore import QObject, QRunnable, QThreadPool, QTimer, Signal

from faceme_core.library import undo
from faceme_core.library.library import Library

log = logging.getLogger(__name__)

POLL_INTERVAL_MS = 250
ResultCallback = Callable[[Any], None]


class _Job(QRunnable):
    def __init__(self, relay: "_Relay", fn: Callable[[], Any], on_result: ResultCallback | None, on_error):
        super().__init__()
        self._relay, self._fn, self._on_result, self._on_error = relay, fn, on_result, on_error

    def run(self) -> None:  # on a pool thread
        try:
            result = self._fn()
        except Exception as error:  # noqa: BLE001 - delivered to the GUI, which shows it
            self._relay.delivered.emit(self._on_error, error)
        else:
            if self._on_result is not None:
                self._relay.delivered.emit(self._on_result, result)


class _Relay(QObject):
    """Lives on the GUI thread; its queued signal carries (callback, value) across threads."""

    delivered = Signal(object, object)

    def __init__(self, parent: QObject):
        super().__init__(parent)
        self.closed = False
        self.delivered.connect(self._call)

    def _call(self, callback, value) -> None:
        if self.closed:
            return  # the session closed with this result still queued: the widgets it was for are gone
        callback(value)


class LibrarySession(QObject):
    changed = Signal()  # the library's content changed: reload what you show
    error = Signal(object)  # an edit or a query failed (the window shows it)
    edited = Signal(str)  # an edit of this window succeeded: its description ("Rename person 3")
    undo_state = Signal(object)  # faceme_core.library.undo.UndoState, after every change
    message = Signal(str)  # a sentence for the status bar ("Undid merge of Rose into Grandma")

    def __init__(self, library: Library, parent: QObject | None = None, *, poll_ms: int = POLL_INTERVAL_MS):
        super().__init__(parent)
        self.library = library
        self._relay = _Relay(self)
        self._reads = QThreadPool(self)
        self._reads.setMaxThreadCount(2)
        # Slow reads (review queues over every face, reference suggestions, model checks) get their
        # own thread, so they never hold up the page reads a scrolling grid waits for.
        self._slow_reads = QThreadPool(self)
        self._slow_reads.setMaxThreadCount(1)
        self._writes = QThreadPool(self)  # one thread: edits run in the order the user made them
        self._writes.setMaxThreadCount(1)
        self._revision = library.revision()
        self._timer = QTimer(self)
        self._timer.setInterval(poll_ms)
        self._timer.timeout.connect(self.check_revision)
        self._timer.start()
        self.pending_edits = 0

    @property
    def revision(self) -> int:
        return self._revision

    def check_revision(self) -> None:
        revision = self.library.revision()  # microseconds: a PRAGMA on an idle connection
        if revision != self._revision:
            self._revision = revision
            self.changed.emit()
            self.query(undo.state, on_result=self.undo_state.emit)

    def query(
        self, fn: Callable[..., Any], *args, on_result: ResultCallback, on_error: ResultCallback | None = None,
        slow: bool = False,
    ) -> None:
        """Run ``fn(library, *args)`` on a pool thread; ``on_result(value)`` on the GUI thread.
        ``slow``: a read that may take seconds (it queues behind other slow reads only)."""
        pool = self._slow_reads if slow else self._reads
        pool.start(_Job(self._relay, lambda: fn(self.library, *args), on_result, on_error or self.error.emit))

    def edit(self, description: str, fn: Callable[..., Any], *args, on_result: ResultCallback | None = None, **kwargs) -> None:
        """Run the core edit ``fn(library, *args, **kwargs)`` in order with the other edits."""
        self.pending_edits += 1

        def done(value):
            self.pending_edits -= 1
            self.edited.emit(description)
            self.check_revision()
            if on_result is not None:
                on_result(value)

        def failed(error):
            self.pending_edits -= 1
            self.error.emit(error)

        log.info("edit: %s", description)
        self._writes.start(_Job(self._relay, lambda: fn(self.library, *args, **kwargs), done, failed))

    def undo(self) -> None:
        self.edit("Undo", undo.undo, on_result=lambda result: self._said("Undid", result))

    def redo(self) -> None:
        self.edit("Redo", undo.redo, on_result=lambda result: self._said("Redid", result))

    def _said(self, verb: str, result) -> None:
        self.message.emit(f"{verb} {result.description}" if result is not None else f"Nothing to {verb[:-1].lower()}")

    def refresh_undo_state(self) -> None:
        self.query(undo.state, on_result=self.undo_state.emit)

    def wait_idle(self, msecs: int = 5000) -> bool:
        """Wait for background reads and edits (closing the window; tests)."""
        return all(pool.waitForDone(msecs) for pool in (self._writes, self._reads, self._slow_reads))

    def close(self) -> None:
        """Stop watching, finish pending work and close the library (the session owns it)."""
        if not self._timer.isActive():
            return
        self._timer.stop()
        self.wait_idle()
        self._relay.closed = True
        self.library.close()
