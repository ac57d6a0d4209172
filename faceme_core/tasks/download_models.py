"""Download model components as a task: byte progress, ETA and cancel (``faceme models download``).

What to fetch is decided here (components already installed are skipped unless ``force``; offline
mode refuses before touching the network); how is the ``Fetcher``'s job. The real one is
``models.download.HubFetcher``; tests and the desktop app's Models dialog pass a fake one.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Protocol, Sequence

from faceme_core import paths
from faceme_core.models.byte_progress import ByteProgress
from faceme_core.models.download import (
    IMPORT_HINT,
    DownloadResult,
    HubFetcher,
    ModelDownloadError,
    download_sources,
    offline_mode,
)
from faceme_core.models.manifest import expand_names
from faceme_core.models.store import component_status
from faceme_core.tasks.progress import CancelToken, ProgressCallback, TaskProgress, ignore_progress

DOWNLOAD_STAGE = "downloading"


class Fetcher(Protocol):
    """Fetches and installs components that come from one place together (controlnet and mix share a
    repository), reporting bytes through ``on_bytes`` and stopping with ``Cancelled`` when asked."""

    uses_network: bool  # offline mode (HF_HUB_OFFLINE) applies only to fetchers that go online

    def fetch(self, names: tuple[str, ...], models_dir: Path, *, on_bytes: ByteProgress,
              cancel: CancelToken) -> list[DownloadResult]: ...


def download_models(
    components: Sequence[str] = ("all",),
    models_dir: Path | None = None,
    *,
    force: bool = False,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
    fetcher: Fetcher | None = None,
) -> list[DownloadResult]:
    """Download ``components`` (names or groups: "all", "faceme", ...) that are not installed yet.

    Reports ``TaskProgress(stage="downloading", done=bytes, total=bytes or None, item=components)``
    per download, with an ETA from this run's speed. Raises ``Cancelled`` when ``cancel`` is cancelled
    (components already fetched stay; the next call fetches the rest) and ``ModelDownloadError`` when
    a download fails. Returns one result per component, in the order asked."""
    progress = progress or ignore_progress
    cancel = cancel or CancelToken.never()
    fetcher = fetcher or HubFetcher()
    models_dir = models_dir or paths.models_dir()
    wanted = expand_names(list(components))
    results: list[DownloadResult] = []
    todo = []
    for name in wanted:
        status = component_status(name, models_dir)
        if status.state == "installed" and not force:
            results.append(DownloadResult(name, "already installed", status.path))
        else:
            todo.append(name)
    if todo and fetcher.uses_network and offline_mode():
        raise ModelDownloadError(
            f"cannot download {', '.join(todo)}: offline mode is on (HF_HUB_OFFLINE), so "
            f"{download_sources(todo)} cannot be reached. Unset HF_HUB_OFFLINE on a machine with internet access, or "
            f"{IMPORT_HINT}."
        )
    units = download_units(todo)
    for number, unit in enumerate(units, start=1):
        cancel.raise_if_cancelled("download cancelled")
        report = _ByteReporter(progress, ", ".join(unit), f"download {number}/{len(units)}")
        report(0, None)
        results += fetcher.fetch(unit, models_dir, on_bytes=report, cancel=cancel)
    order = {name: i for i, name in enumerate(wanted)}
    return sorted(results, key=lambda r: order[r.name])


def download_units(names: Sequence[str]) -> list[tuple[str, ...]]:
    """The downloads ``names`` need, in the order they run: controlnet and mix come from one repository."""
    units: list[tuple[str, ...]] = [("base",)] if "base" in names else []
    faceme = tuple(name for name in ("controlnet", "mix") if name in names)
    if faceme:
        units.append(faceme)
    units += [(name,) for name in ("photomaker", "antelopev2") if name in names]
    return units


class _ByteReporter:
    """Bytes in, TaskProgress out, with an ETA from the speed since this download started (bytes a
    resumed download already had do not count as speed)."""

    def __init__(self, progress: ProgressCallback, item: str, message: str, clock=time.monotonic):
        self._progress, self._item, self._message, self._clock = progress, item, message, clock
        self._started = clock()
        self._first: int | None = None

    def __call__(self, done: int, total: int | None) -> None:
        if self._first is None and done:
            self._first, self._started = done, self._clock()  # the first chunk: what was there before
        eta = None
        fetched = done - (self._first or 0)
        elapsed = self._clock() - self._started
        if total is not None and fetched > 0 and elapsed > 0:
            eta = max(0.0, (total - done) / (fetched / elapsed))
        self._progress(TaskProgress(DOWNLOAD_STAGE, done, total, item=self._item, eta_seconds=eta,
                                    message=self._message))
