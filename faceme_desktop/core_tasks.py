"""The core's long tasks in the shape ``RunningTask`` runs: ``fn(*, progress, cancel)``."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

from faceme_core.library.library import Library
from faceme_core.library.types import ScanSummary
from faceme_core.tasks import CancelToken, ProgressCallback, TaskProgress


def scan(
    library: Library,
    folders: Sequence[Path],
    backend: str,
    *,
    reembed: bool = False,
    progress: ProgressCallback,
    cancel: CancelToken,
    analyzer=None,
    workers: int | None = None,
) -> ScanSummary:
    """Scan ``folders`` into ``library``; the ``backend`` analyzer is made here, off the GUI thread.

    Photos are analysed in worker processes (the scan's default): dlib holds the GIL for seconds per
    photo, which in a thread of this process would freeze the window."""
    from faceme_core.library.scan import scan_folders

    if analyzer is None:
        from faceme_core.faces.analyzer import create_analyzer

        progress(TaskProgress("loading", 0, None, None, None, "Loading the face models"))
        analyzer = create_analyzer(backend)
    cancel.raise_if_cancelled()
    return scan_folders(library, folders, analyzer, reembed=reembed, progress=progress, cancel=cancel, workers=workers)
