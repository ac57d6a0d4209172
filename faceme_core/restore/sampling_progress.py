"""Turn the engine's per-step events into the tasks' ``TaskProgress`` (stage "sampling")."""

from __future__ import annotations

import time
from typing import Callable

from faceme_core.engine.restorer import ProgressEvent
from faceme_core.tasks import ProgressCallback, TaskProgress

SAMPLING_STAGE = "sampling"


def sampling_reporter(
    progress: ProgressCallback, photo_name: str, message: str = "", clock: Callable[[], float] = time.monotonic
) -> Callable[[ProgressEvent], None]:
    """A callback for ``Restorer``/``restore_photo`` reporting each denoising step of one photo.

    ``done``/``total`` count the steps of the face being sampled (``item`` names it); the ETA covers
    the sampling left in this photo (every face's steps), extrapolated from the steps done so far.
    """
    started = clock()
    steps_seen = 0

    def report(event: ProgressEvent) -> None:
        nonlocal steps_seen
        steps_seen += 1
        all_steps = event.face_count * event.step_count
        elapsed = clock() - started
        eta = elapsed / steps_seen * max(0, all_steps - steps_seen)
        progress(TaskProgress(
            stage=SAMPLING_STAGE, done=event.step, total=event.step_count,
            item=f"{photo_name}: face {event.face_index + 1}/{event.face_count}",
            eta_seconds=eta, message=message,
        ))

    return report
