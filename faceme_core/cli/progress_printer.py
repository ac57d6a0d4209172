"""Progress lines on stderr for long commands, throttled so a fast loop does not flood the terminal."""

from __future__ import annotations

import time

from faceme_core.cli.common import info


def format_eta(seconds: float | None) -> str:
    if seconds is None:
        return "ETA --:--"
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    return f"ETA {hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"ETA {rest // 60}:{rest % 60:02d}"


class ProgressPrinter:
    """Prints progress lines to stderr, at most every ``interval`` seconds (and the last one)."""

    def __init__(self, interval: float = 1.0):
        self._interval = interval
        self._last = 0.0

    def __call__(self, line: str, *, final: bool = False) -> None:
        now = time.monotonic()
        if final or now - self._last >= self._interval:
            self._last = now
            info(line)
