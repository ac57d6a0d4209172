"""Scan stage "analysing": each to-do photo is hashed, recognised as unchanged, moved or to analyse,
and recorded in its own transaction, in walk order.

With worker processes the analyses run ahead of the recording: the main process hashes a few photos
ahead, submits those that need an analysis, and records results in order, so the library (ids,
faces, people) ends exactly as after a serial scan. What a photo needs is decided again when it is
recorded (an earlier photo of this scan may have changed the answer, e.g. two copies of one moved
photo); a speculative analysis is then dropped, or a missing one run. In flight at once: at most
``LOOKAHEAD_PER_WORKER`` photos per worker, never the whole album.
"""

from __future__ import annotations

import concurrent.futures
from collections import deque
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Callable, Iterator, Sequence

from faceme_core.errors import LibraryError
from faceme_core.library.library import Library
from faceme_core.library.scan import photo_writes
from faceme_core.library.scan.analysis import (
    AnalysisJob,
    AnalysisResult,
    Analyzer,
    analyse_in_worker,
    analyse_photo,
)
from faceme_core.library.scan.decide import plan_photo
from faceme_core.library.scan.files import content_hash
from faceme_core.library.scan.inventory import PhotoToScan
from faceme_core.library.scan.photo_writes import Recorded
from faceme_core.tasks import CancelToken
from faceme_core.tasks.processes import stop_now, worker_pool

LOOKAHEAD_PER_WORKER = 2
MIN_PHOTOS_PER_WORKER = 2  # fewer photos than this per worker: starting processes costs more than it saves
_POLL_SECONDS = 0.1  # how often a wait for a worker looks at the cancel token


@dataclass(frozen=True)
class HashedPhoto:
    item: PhotoToScan
    digest: str | None  # None: the file could not be read, see error
    error: str = ""


def hash_photo(item: PhotoToScan) -> HashedPhoto:
    try:
        return HashedPhoto(item, content_hash(item.entry.path))
    except OSError as error:
        return HashedPhoto(item, None, f"cannot read the file: {error.strerror or error}")


def pool_size(analyzer: Analyzer, photos: int, workers: int) -> int:
    """Worker processes worth starting: none (0) for an analyzer that cannot be rebuilt in another
    process (no ``spec``: test doubles, customised analyzers) or for a handful of photos."""
    if getattr(analyzer, "spec", None) is None:
        return 0
    size = min(workers, photos // MIN_PHOTOS_PER_WORKER)
    return size if size > 1 else 0


class _InProcess:
    """Analyses run in this process when recorded (workers=1: the serial baseline)."""

    def __init__(self, analyzer: Analyzer):
        self.analyzer = analyzer

    def submit(self, job: AnalysisJob) -> None:
        pass

    def discard(self, job: AnalysisJob) -> None:
        pass

    def result(self, job: AnalysisJob, cancel: CancelToken) -> AnalysisResult:
        return analyse_photo(job, self.analyzer)

    def close(self, finished: bool) -> None:
        pass


class _Pool:
    """Analyses run in worker processes, submitted ahead of their recording."""

    def __init__(self, analyzer: Analyzer, workers: int):
        self.executor = worker_pool(workers, "faceme_core.library.scan.analysis:start_worker", analyzer.spec)
        self.pending: dict[str, concurrent.futures.Future] = {}

    def submit(self, job: AnalysisJob) -> None:
        self.pending[job.path] = self.executor.submit(analyse_in_worker, job)

    def discard(self, job: AnalysisJob) -> None:
        future = self.pending.pop(job.path, None)
        if future is not None:
            future.cancel()

    def result(self, job: AnalysisJob, cancel: CancelToken) -> AnalysisResult:
        future = self.pending.pop(job.path, None) or self.executor.submit(analyse_in_worker, job)
        while not future.done():
            cancel.raise_if_cancelled()
            concurrent.futures.wait([future], timeout=_POLL_SECONDS)
        try:
            return future.result()
        except BrokenProcessPool:  # a worker died: killed, out of memory, or a crash in native code
            raise LibraryError(
                f"{job.path}: a worker process analysing photos stopped unexpectedly (out of memory, or a "
                "crash in the face detector); the photos recorded so far are kept: scan again, with one "
                "worker to analyse in a single process"
            ) from None

    def close(self, finished: bool) -> None:
        if finished:  # nothing is left: the processes exit
            self.executor.shutdown(wait=True)
        else:  # cancelled or failed: the photos in flight are dropped (at worst a stray hidden temp
            # thumbnail is left), queued ones never start
            stop_now(self.executor)


def scan_photos(
    library: Library,
    analyzer: Analyzer,
    todo: Sequence[PhotoToScan],
    *,
    workers: int,
    cancel: CancelToken,
    before_each: Callable[[int, PhotoToScan], None],
) -> Iterator[tuple[PhotoToScan, Recorded]]:
    """Record every photo of ``todo``, yielding each as it is committed; ``before_each(index, photo)``
    runs before each (progress), then the token is checked: a cancel leaves the photos recorded so far
    committed and raises ``Cancelled``."""
    size = pool_size(analyzer, len(todo), workers)
    analyses = _Pool(analyzer, size) if size else _InProcess(analyzer)
    lookahead = size * LOOKAHEAD_PER_WORKER
    upcoming = iter(todo)
    window: deque[HashedPhoto] = deque()
    finished = False

    def job(hashed: HashedPhoto) -> AnalysisJob:
        return AnalysisJob(hashed.item.entry.path, hashed.digest, library.thumbnails_dir)

    try:
        for index in range(len(todo)):
            while len(window) <= lookahead and (item := next(upcoming, None)) is not None:
                hashed = hash_photo(item)
                if size and hashed.digest and plan_photo(library, item, hashed.digest).action == "analyse":
                    analyses.submit(job(hashed))
                window.append(hashed)
            hashed = window.popleft()
            before_each(index, hashed.item)
            cancel.raise_if_cancelled()
            yield hashed.item, _record(library, analyzer.name, hashed, analyses, job, cancel)
        finished = True
    finally:
        analyses.close(finished)


def _record(library: Library, analyzer_name: str, hashed: HashedPhoto, analyses, job, cancel) -> Recorded:
    item = hashed.item
    if hashed.digest is None:
        return photo_writes.record_failure(library, item, item.known_id, None, hashed.error)
    plan = plan_photo(library, item, hashed.digest)  # again: earlier photos of this scan count
    if plan.action == "same_content":
        analyses.discard(job(hashed))
        return photo_writes.record_same_content(library, item, plan)
    if plan.action == "moved":
        analyses.discard(job(hashed))
        return photo_writes.record_moved(library, item, plan)
    result = analyses.result(job(hashed), cancel)
    if result.photo is None:
        previous_id = plan.previous.id if plan.previous is not None else None
        return photo_writes.record_failure(
            library, item, previous_id, hashed.digest, result.error, retired=plan.retired
        )
    return photo_writes.record_analysed(library, item, plan, hashed.digest, result.photo, analyzer_name)
