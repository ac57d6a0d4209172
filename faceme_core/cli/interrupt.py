"""Ctrl+C and SIGTERM cancel the running task cleanly instead of killing it mid-write."""

from __future__ import annotations

import signal
import threading
from contextlib import contextmanager
from typing import Iterator

from faceme_core.cli.common import info
from faceme_core.tasks import CancelToken

CANCELLED_EXIT_CODE = 130  # what shells report for a command stopped by Ctrl+C


@contextmanager
def cancel_on_interrupt(token: CancelToken) -> Iterator[CancelToken]:
    """While inside, SIGINT (Ctrl+C) and SIGTERM cancel ``token``: the task stops at its next safe point
    (between denoising steps, photos or download chunks) and leaves no partial file. A second Ctrl+C
    stops at once (KeyboardInterrupt). Outside the main thread signals cannot be caught: no change."""
    if threading.current_thread() is not threading.main_thread():
        yield token
        return

    def cancel(signum, _frame) -> None:
        if token.cancelled and signum == signal.SIGINT:
            raise KeyboardInterrupt
        token.cancel()
        info("stopping... (Ctrl+C again to stop at once)")

    previous = {sig: signal.signal(sig, cancel) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield token
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


# The scan branch named the same helper cancel_on_ctrl_c; one implementation serves both.
cancel_on_ctrl_c = cancel_on_interrupt
