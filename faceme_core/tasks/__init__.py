"""Long work as plain, Qt-free tasks: typed progress events in, one cancellation style out.

Every long operation of the core (scan, restore photos, album jobs, model downloads) is a function
that takes ``progress: ProgressCallback | None`` and ``cancel: CancelToken | None``. It reports
``TaskProgress`` events and, when the token is cancelled, stops at the next check by raising
``Cancelled`` (which is *not* a ``FaceMeError``: a user's cancel is never recorded as a failure).
The CLI prints the events; the desktop app wraps the same functions in Qt workers.

- ``restore_photos.restore_photos``: whole photos with one set of reference photos (``faceme restore``)
- ``download_models.download_models``: model components, with byte progress (``faceme models download``)
- ``faceme_core.library.jobs.run_job``: an album restore job (``faceme restore-album``)
"""

from faceme_core.tasks.progress import (
    Cancelled,
    CancelToken,
    ProgressCallback,
    TaskProgress,
    ignore_progress,
)

__all__ = ["Cancelled", "CancelToken", "ProgressCallback", "TaskProgress", "ignore_progress"]
