"""The core's long tasks in the shape ``RunningTask`` runs: ``fn(*, progress, cancel)``.

``scan_folders`` on main still reports ``ScanProgress`` and polls ``should_stop``; this adapter turns
that into ``TaskProgress`` and ``CancelToken``/``Cancelled`` until the scan branch's version (which
takes them directly) is merged. No decision is taken here.
"""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Sequence

from faceme_core.library.library import Library
from faceme_core.library.types import ScanProgress, ScanSummary
from faceme_core.tasks import Cancelled, CancelToken, ProgressCallback, TaskProgress

_PHASE_WORDS = {
    "walking": "Looking for photos",
    "analysing": "Finding faces",
    "embedding": "Computing face fingerprints",
    "grouping": "Grouping faces into people",
}


def _as_task_progress(event: ScanProgress) -> TaskProgress:
    item = str(event.current) if event.current is not None else None
    words = _PHASE_WORDS.get(event.phase, event.phase)
    name = f": {event.current.name}" if event.current is not None else ""
    return TaskProgress(event.phase, event.done, event.total or None, item, event.eta_seconds, words + name)


def scan(
    library: Library,
    folders: Sequence[Path],
    backend: str,
    *,
    reembed: bool = False,
    progress: ProgressCallback,
    cancel: CancelToken,
    analyzer=None,
) -> ScanSummary:
    """Scan ``folders`` into ``library`` with the ``backend`` face analyzer (made here, off the GUI thread)."""
    from faceme_core.library.scan import scan_folders

    if analyzer is None:
        from faceme_core.faces.analyzer import create_analyzer

        progress(TaskProgress("loading", 0, None, None, None, "Loading the face models"))
        analyzer = create_analyzer(backend)
    cancel.raise_if_cancelled()
    parameters = inspect.signature(scan_folders).parameters
    if "cancel" in parameters:  # the task-style scan (scan branch)
        return scan_folders(library, folders, analyzer, reembed=reembed, progress=progress, cancel=cancel)
    summary = scan_folders(
        library,
        folders,
        analyzer,
        reembed=reembed,
        progress=lambda event: progress(_as_task_progress(event)),
        should_stop=lambda: cancel.cancelled,
    )
    if summary.cancelled:
        raise Cancelled("scan cancelled (the photos done so far are kept)")
    return summary
