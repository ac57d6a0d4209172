"""Ctrl+C as a cancel: the first one cancels the task's token (it stops at its next safe point and
keeps what it finished); a second one interrupts at once, as Ctrl+C always does."""

from __future__ import annotations

import signal
import threading
from contextlib import contextmanager
from typing import Iterator

from faceme_core.cli.common import info
from faceme_core.tasks import CancelToken

CANCELLED_EXIT_CODE = 130  # 128 + SIGINT, what shells expect after Ctrl+C


@contextmanager
def cancel_on_ctrl_c(token: CancelToken) -> Iterator[CancelToken]:
    if threading.current_thread() is not threading.main_thread():  # signals reach the main thread only
        yield token
        return

    def on_interrupt(signum, frame):
        if token.cancelled:
            raise KeyboardInterrupt
        token.cancel()
        info("stopping after the current photo... (Ctrl+C again to stop at once)")

    previous = signal.signal(signal.SIGINT, on_interrupt)
    try:
        yield token
    finally:
        signal.signal(signal.SIGINT, previous)
