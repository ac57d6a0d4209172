"""``scan_folders``: the stages of a scan in order (see the package docstring)."""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path
from typing import Iterable

from faceme_core.errors import LibraryError
from faceme_core.library.albums import check_folders, check_not_output_folders, output_dirs, register_albums
from faceme_core.library.eta import EtaClock
from faceme_core.library.library import Library, set_meta
from faceme_core.library.scan import finish
from faceme_core.library.scan.analysis import Analyzer
from faceme_core.library.scan.embed_stage import embed_faces_without_model
from faceme_core.library.scan.inventory import PhotoToScan, take_inventory
from faceme_core.library.scan.keys import ACTIVE_MODEL_KEY
from faceme_core.library.scan.lock import scan_lock
from faceme_core.library.scan.photo_loop import scan_photos
from faceme_core.library.types import ScanSummary
from faceme_core.tasks import CancelToken, ProgressCallback, TaskProgress, ignore_progress
from faceme_core.tasks.processes import default_workers


def scan_folders(
    library: Library,
    folders: Iterable[Path | str],
    analyzer: Analyzer,
    *,
    reembed: bool = False,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
    workers: int | None = None,
) -> ScanSummary:
    """Scan album folders into the library. Reports ``TaskProgress`` (stages "walking", "analysing",
    "embedding", "grouping"); a cancelled token raises ``tasks.Cancelled`` between photos, with the
    photos recorded so far committed (a re-run goes on from there). Safe to kill at any moment.

    ``workers``: processes analysing photos (default: one per CPU core); 1 analyses in this process.
    Only an analyzer with a ``spec`` (``create_analyzer`` gives one) can be rebuilt in workers; any
    other analyses in this process. Workers are spawned, so a script calling this needs the usual
    ``if __name__ == "__main__":`` guard. Refuses (``LibraryError``) while another scan holds the
    library.
    """
    started = time.monotonic()
    notify = progress or ignore_progress
    cancel = cancel or CancelToken.never()
    workers = default_workers() if workers is None else workers
    if workers < 1:
        raise ValueError(f"workers={workers}: expected at least 1")
    roots = check_folders(folders)
    model_id = analyzer.embedding_model_id
    active = library.get_meta(ACTIVE_MODEL_KEY)
    if active is not None and active != model_id and not reembed:
        raise LibraryError(
            f"this library's faces were grouped with the {active} embedding model but the available face "
            f"analyzer uses {model_id}; run 'faceme scan --reembed FOLDER...' to switch (your people, names "
            "and decisions are kept)"
        )
    with scan_lock(library):
        # 1. album folders, and the model people are grouped by
        with library.transaction() as conn:
            outputs = output_dirs(conn)
            check_not_output_folders(roots, outputs)  # before registering: an output folder is no album
            album_of_root = register_albums(conn, roots)
            if active is None:
                set_meta(conn, ACTIVE_MODEL_KEY, model_id)
        # 2. one walk and one SELECT: unchanged files cost nothing more
        notify(TaskProgress("walking", 0, None, message="looking for photos"))
        inventory = take_inventory(library, roots, album_of_root, outputs + [str(library.thumbnails_dir)])
        cancel.raise_if_cancelled()
        counts: Counter[str] = Counter(unchanged=inventory.unchanged)
        failures = list(inventory.problems)
        vanished = dict(inventory.vanished)

        # 3. each new, changed or moved photo in its own transaction
        todo = inventory.todo
        eta = EtaClock(len(todo))

        def before_photo(index: int, photo: PhotoToScan) -> None:
            notify(_event("analysing", index, len(todo), photo.entry.path, eta.eta(index), counts["failed"]))

        for photo, recorded in scan_photos(
            library, analyzer, todo, workers=workers, cancel=cancel, before_each=before_photo
        ):
            counts[recorded.outcome] += 1
            counts["faces_added"] += recorded.faces_added
            if recorded.outcome == "failed":
                failures.append((Path(photo.entry.path), recorded.error))
            if recorded.vanished_path is not None:
                vanished.pop(recorded.vanished_path, None)
        notify(_event("analysing", len(todo), len(todo), None, 0.0, counts["failed"]))

        # 4. whatever was not found is missing (kept with its people and references)
        missing = finish.mark_missing(library, list(vanished.values()))
        # 5. embeddings for a new model, then the switch to it without losing any user decision. On
        # every scan: photos that were missing during a --reembed get theirs once they are back.
        clocks: dict[int, EtaClock] = {}

        def before_embedding(index: int, total: int, path: str) -> None:
            eta = clocks.setdefault(total, EtaClock(total))
            notify(_event("embedding", index, total, path, eta.eta(index), counts["failed"]))

        embedded = embed_faces_without_model(library, analyzer, roots, cancel=cancel, before_each=before_embedding)
        failures += embedded.failures
        # 6. new faces join the nearest person, or form new people
        switch_model = reembed and active is not None and active != model_id
        people_created = 0
        if finish.grouping_needed(library, switch_model):
            cancel.raise_if_cancelled()
            notify(TaskProgress("grouping", 0, 1, message="grouping faces into people"))
            people_created = finish.group_faces(library, model_id, switch_model=switch_model)
            notify(TaskProgress("grouping", 1, 1, eta_seconds=0.0, message="grouping faces into people"))

    return ScanSummary(
        found=inventory.walked - inventory.outputs,
        outputs_skipped=inventory.outputs,
        unchanged=counts["unchanged"],
        added=counts["added"],
        changed=counts["changed"],
        moved=counts["moved"],
        missing=missing,
        failed=counts["failed"] + len(embedded.failures),
        failures=tuple(failures),
        faces_added=counts["faces_added"],
        reembedded=embedded.faces,
        people_created=people_created,
        seconds=time.monotonic() - started,
        output_folders_skipped=inventory.output_folders,
    )


def _event(stage: str, done: int, total: int, item: str | None, eta: float | None, failed: int) -> TaskProgress:
    return TaskProgress(stage, done, total, item=item, eta_seconds=eta, message=f"{failed} failed" if failed else "")
