"""How training commands show progress on a terminal: one line, rewritten in place, on stderr."""

from __future__ import annotations

import sys

from faceme_core.tasks import TaskProgress


def print_progress(event: TaskProgress) -> None:
    total = "?" if event.total is None else event.total
    eta = "" if event.eta_seconds is None else f" eta {event.eta_seconds / 60:.1f} min"
    line = f"{event.stage}: {event.done}/{total}{eta} {event.item or ''}"[:160]
    print(f"\r{line.ljust(80)}", end="", file=sys.stderr, flush=True)
