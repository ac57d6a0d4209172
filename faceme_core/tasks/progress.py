"""The two things every task shares: the progress event it reports and the token that cancels it."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Callable


@dataclass(frozen=True)
class TaskProgress:
    """One progress report. ``total`` is None while unknown (walking folders, first step of a download)."""

    stage: str  # a short machine-readable name: "walking", "analysing", "sampling", "downloading", ...
    done: int
    total: int | None
    item: str | None = None  # what is being worked on now (a photo path, a file name, "face 2/3")
    eta_seconds: float | None = None  # None until there is a rate to extrapolate
    message: str = ""  # a short human sentence, already in plain words

    @property
    def fraction(self) -> float | None:
        if not self.total:
            return None
        return min(1.0, max(0.0, self.done / self.total))


ProgressCallback = Callable[[TaskProgress], None]


def ignore_progress(_event: TaskProgress) -> None:
    """The default progress callback: report nothing."""


class Cancelled(Exception):
    """A task stopped because its token was cancelled. Deliberately not a ``FaceMeError``: callers that
    record per-item failures must let it through, so a user's cancel never reads as "photo failed"."""

    def __init__(self, message: str = "cancelled"):
        super().__init__(message)


class CancelToken:
    """Thread-safe cancel flag shared between whoever runs a task and whoever may stop it.

    A task calls ``raise_if_cancelled()`` at every point where stopping is safe (between photos,
    between denoising steps, between download chunks). ``cancel()`` may be called from any thread,
    including a signal handler or the GUI thread.
    """

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def raise_if_cancelled(self, message: str = "cancelled") -> None:
        if self._event.is_set():
            raise Cancelled(message)

    def wait(self, seconds: float) -> bool:
        """Sleep up to ``seconds``; True as soon as the token is cancelled (for polling loops)."""
        return self._event.wait(seconds)

    @staticmethod
    def never() -> "CancelToken":
        """A token nobody cancels, for callers that pass none."""
        return CancelToken()
