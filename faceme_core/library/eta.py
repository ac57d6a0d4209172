"""Remaining-time estimates for long operations (scan, restore jobs)."""

from __future__ import annotations

import time
from typing import Callable


class EtaClock:
    """Extrapolates the rate of the items done so far in this run (earlier runs do not count)."""

    def __init__(self, total: int, clock: Callable[[], float] = time.monotonic):
        self._total = total
        self._clock = clock
        self._start = clock()

    def eta(self, done: int) -> float | None:
        if done <= 0:
            return None
        elapsed = self._clock() - self._start
        return max(0.0, elapsed / done * (self._total - done))

    def elapsed(self) -> float:
        return self._clock() - self._start
