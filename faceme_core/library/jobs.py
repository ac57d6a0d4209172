"""Persisted batch restoration jobs (`faceme restore-album`): create, run, pause, resume, cancel.

A job is a list of items, one per photo: pending -> running -> done | failed. Each state change is
committed before and after the photo's work, so after a crash or reboot an item found "running" was
interrupted and is simply redone (its output is written atomically by the restore function, so no
half-written file can exist), done items are never redone, and none is lost.

One runner at a time: a runner holds a lease on the job (renewed by a heartbeat); a second runner is
refused while the lease is alive, and items are claimed only if still pending.

Outputs go to OUT_DIR/<album folder name>/<path inside the album>, never beside the originals: an
out-dir inside an album folder, or holding one, is refused. The out-dir is recorded (and marked with
``walk.OUTPUT_MARKER``) so scans skip it. The restoration itself is a function passed in
(``restore_photo_fn(task, progress=..., cancel=...) -> PhotoOutcome``), so jobs are testable without
the engine.

Cancelling the runner's token is not a failure: the photo in progress stops between denoising steps,
goes back to pending with no output written, and the job is paused (``run_job`` raises ``Cancelled``).
Failed items stay failed on resume; ``retry_failed`` puts them back in the queue.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping, Protocol

from sqlalchemy import Connection, func, insert, select, update

from faceme_core.errors import FaceMeError, LibraryError
from faceme_core.imageio import is_faceme_output
from faceme_core.library.db import schema
from faceme_core.library.db.codec import blob_to_points
from faceme_core.library.eta import EtaClock
from faceme_core.library.ids import in_range
from faceme_core.library.job_lease import JobLease, check_free, runner_alive
from faceme_core.library.library import Library
from faceme_core.library.people import PersonKey, resolve_person
from faceme_core.library.photo_years import dated_references, photo_year
from faceme_core.library.references import reference_rows
from faceme_core.library.albums import is_under_on_disk
from faceme_core.library.types import (
    FaceOutcome,
    JobInfo,
    JobItemInfo,
    PhotoOutcome,
    PhotoTask,
    Reference,
    TaskFace,
    TaskReference,
)
from faceme_core.library.walk import OUTPUT_MARKER
from faceme_core.library.path_text import check_storable
from faceme_core.restore.reference_choice import choose_references
from faceme_core.tasks import Cancelled, CancelToken, ProgressCallback, TaskProgress, ignore_progress

JOB_STAGE = "photos"  # run_job's own events: one per photo started, and a last one when it stops


class RestorePhotoFn(Protocol):
    """Restores one photo of a job and writes ``task.output_path`` atomically. ``progress`` receives
    its per-step events; it must stop with ``Cancelled`` once ``cancel`` is cancelled, writing nothing."""

    def __call__(self, task: PhotoTask, *, progress: ProgressCallback, cancel: CancelToken) -> PhotoOutcome: ...

# --- creating ---------------------------------------------------------------------------------------


def check_out_dir(out_dir: Path | str, album_paths: Iterable[str]) -> Path:
    """The out-dir as a real absolute path; refuses one inside an album folder or holding one."""
    path = os.path.realpath(os.path.expanduser(str(out_dir)))
    check_storable(path, setting="out_dir", value=out_dir)
    if os.path.exists(path) and not os.path.isdir(path):
        raise LibraryError("exists and is not a folder", setting="out_dir", value=out_dir)
    for album in album_paths:
        if is_under_on_disk(path, album):
            raise LibraryError(
                f"is inside the album folder {album}", setting="out_dir", value=out_dir,
                hint="choose a folder outside your albums",
            )
        if is_under_on_disk(album, path):
            raise LibraryError(
                f"holds the album folder {album}", setting="out_dir", value=out_dir,
                hint="choose a folder outside your albums",
            )
    return Path(path)


def _select_photos(conn: Connection, people: list[PersonKey], photo_paths: list[Path | str]) -> list[int]:
    photos, faces, assignments = schema.photos, schema.faces, schema.assignments
    selected: set[int] = set()
    if people:
        person_ids = [resolve_person(conn, key) for key in people]
        selected |= set(
            conn.execute(
                select(faces.c.photo_id)
                .join(assignments, assignments.c.face_id == faces.c.id)
                .join(photos, photos.c.id == faces.c.photo_id)
                .where(assignments.c.person_id.in_(person_ids), photos.c.status == "ok")
            ).scalars()
        )
    for given in photo_paths:
        spelled = check_storable(os.path.abspath(os.path.expanduser(str(given))), setting="photo", value=given)
        candidates = {spelled, os.path.realpath(spelled)}  # photos are stored as found under the album
        row = conn.execute(
            select(photos.c.id, photos.c.status, photos.c.error).where(photos.c.path.in_(candidates)).limit(1)
        ).one_or_none()
        if row is None:
            raise LibraryError("not in the library", setting="photo", value=given, hint="scan its folder first",
                               action="scan")
        if row.status != "ok":
            detail = f": {row.error}" if row.error else ""
            raise LibraryError(f"cannot be restored, the library has it as {row.status}{detail}", setting="photo",
                               value=given)
        selected.add(row.id)
    if not people and not photo_paths:
        selected = set(
            conn.execute(
                select(photos.c.id).where(photos.c.status == "ok", photos.c.id.in_(select(faces.c.photo_id)))
            ).scalars()
        )
    return sorted(selected)


@dataclass(frozen=True)
class _Plan:
    target: Path
    albums: dict[int, str]  # album id -> album folder
    rows: list  # (id, path, album_id) of the photos to restore, by path


def _plan_job(conn: Connection, out_dir: Path | str, people: list[PersonKey], photos: list[Path | str]) -> _Plan:
    """Every check of a new job (out-dir, selection), without writing anything."""
    albums = {row.id: row.path for row in conn.execute(select(schema.albums.c.id, schema.albums.c.path))}
    target = check_out_dir(out_dir, albums.values())
    photo_ids = _select_photos(conn, people, photos)
    if not photo_ids:
        raise LibraryError("no photo to restore: the selection has no scanned photo with faces")
    rows = conn.execute(
        select(schema.photos.c.id, schema.photos.c.path, schema.photos.c.album_id)
        .where(schema.photos.c.id.in_(photo_ids))
        .order_by(schema.photos.c.path)
    ).all()
    return _Plan(target, albums, list(rows))


def check_job(
    library: Library, out_dir: Path | str, *, people: Iterable[PersonKey] = (), photos: Iterable[Path | str] = ()
) -> None:
    """Raise the LibraryError ``create_job`` would for this selection and out-dir, writing nothing:
    lets a caller fail fast before loading the engine (minutes) and then create the job."""
    with library.reading() as conn:
        _plan_job(conn, out_dir, list(people), list(photos))


def create_job(
    library: Library,
    out_dir: Path | str,
    *,
    people: Iterable[PersonKey] = (),
    photos: Iterable[Path | str] = (),
    options: Mapping[str, Any] | None = None,
) -> int:
    """A new pending job restoring the photos of ``people`` plus ``photos`` (neither: every photo with
    faces). ``options`` (JSON-able restoration settings) are kept with the job, so a resumed job
    restores its remaining photos exactly like the first ones. Returns its id; nothing is restored
    until ``run_job``."""
    people, photos = list(people), list(photos)
    with library.transaction() as conn:
        plan = _plan_job(conn, out_dir, people, photos)
        target, albums, rows = plan.target, plan.albums, plan.rows
        folder_of_album = _album_folders({row.album_id: albums[row.album_id] for row in rows})
        now = time.time()
        selection = json.dumps(
            {"people": [str(p) for p in people], "photos": [str(p) for p in photos], "options": dict(options or {})}
        )
        job_id = conn.execute(
            insert(schema.jobs).values(
                out_dir=str(target), state="pending", selection=selection, created_at=now, updated_at=now
            )
        ).inserted_primary_key[0]
        items = []
        for row in rows:
            relative = os.path.relpath(row.path, albums[row.album_id])
            items.append(
                dict(
                    job_id=job_id,
                    photo_id=row.id,
                    output_path=str(target / folder_of_album[row.album_id] / relative),
                    state="pending",
                )
            )
        conn.execute(insert(schema.job_items), items)
        try:
            target.mkdir(parents=True, exist_ok=True)
            (target / OUTPUT_MARKER).write_text("Restored by FaceMe. FaceMe never scans this folder as an album.\n")
        except OSError as error:  # rolls the job back
            raise LibraryError(
                f"cannot write there ({error.strerror or error})", setting="out_dir", value=out_dir
            ) from error
    return job_id


def _album_folders(albums: dict[int, str]) -> dict[int, str]:
    """Each album's folder name under the out-dir; two albums with the same name get their id added."""
    names = {
        album_id: os.path.basename(path.rstrip(os.sep)) or f"album-{album_id}" for album_id, path in albums.items()
    }
    clashes = {name for name in names.values() if list(names.values()).count(name) > 1}
    return {album_id: f"{name}-{album_id}" if name in clashes else name for album_id, name in names.items()}


# --- state ----------------------------------------------------------------------------------------


def _job_row(conn: Connection, job_id: int):
    row = (
        conn.execute(select(schema.jobs).where(schema.jobs.c.id == int(job_id))).one_or_none()
        if in_range(int(job_id))
        else None
    )
    if row is None:
        raise LibraryError(f"no restore job with id {job_id}", action="list_jobs")
    return row


def _info(conn: Connection, row) -> JobInfo:
    counts = dict(
        conn.execute(
            select(schema.job_items.c.state, func.count())
            .where(schema.job_items.c.job_id == row.id)
            .group_by(schema.job_items.c.state)
        ).all()
    )
    # A "running" job whose runner is gone (killed, crashed) is shown as what it is.
    interrupted = row.state == "running" and not runner_alive(row.runner, row.heartbeat_at, time.time())
    return JobInfo(
        id=row.id,
        out_dir=Path(row.out_dir),
        state="interrupted" if interrupted else row.state,
        created_at=row.created_at,
        total=sum(counts.values()),
        done=counts.get("done", 0),
        failed=counts.get("failed", 0),
        pending=counts.get("pending", 0) + counts.get("running", 0),
    )


def job_options(library: Library, job_id: int) -> dict[str, Any]:
    """The restoration settings the job was created with (empty for jobs made without any)."""
    with library.reading() as conn:
        return dict(json.loads(_job_row(conn, job_id).selection).get("options", {}))


def check_resumable(library: Library, job_id: int) -> None:
    """What run_job would refuse (a cancelled job, one held by a live runner), asked read-only so the
    CLI and the app can say it before loading the engine."""
    with library.reading() as conn:
        row = _job_row(conn, job_id)
    if row.state == "cancelled":
        raise LibraryError(f"job {job_id} was cancelled; create a new one to restore these photos")
    check_free(row)


def job_info(library: Library, job_id: int) -> JobInfo:
    with library.reading() as conn:
        return _info(conn, _job_row(conn, job_id))


def list_jobs(library: Library) -> list[JobInfo]:
    with library.reading() as conn:
        return [_info(conn, row) for row in conn.execute(select(schema.jobs).order_by(schema.jobs.c.id))]


def job_items(library: Library, job_id: int) -> list[JobItemInfo]:
    items, photos = schema.job_items, schema.photos
    with library.reading() as conn:
        _job_row(conn, job_id)
        rows = conn.execute(
            select(items, photos.c.path)
            .join(photos, photos.c.id == items.c.photo_id)
            .where(items.c.job_id == int(job_id))
            .order_by(items.c.id)
        ).all()
    return [
        JobItemInfo(
            id=row.id,
            photo_path=Path(row.path),
            output_path=Path(row.output_path),
            state=row.state,
            error=row.error,
            faces=_face_outcomes(row.report) if row.state == "done" else (),
        )
        for row in rows
    ]


def _face_outcomes(report: str | None) -> tuple[FaceOutcome, ...]:
    faces = json.loads(report) if report else []
    return tuple(FaceOutcome.from_json(face) for face in faces) if isinstance(faces, list) else ()


def _set_job_state(conn: Connection, job_id: int, state: str) -> None:
    conn.execute(update(schema.jobs).where(schema.jobs.c.id == job_id).values(state=state, updated_at=time.time()))


def pause_job(library: Library, job_id: int) -> None:
    """Stop after the photo in progress (a runner in another thread or process sees it); resumable."""
    with library.transaction() as conn:
        row = _job_row(conn, job_id)
        if row.state in ("pending", "running"):
            _set_job_state(conn, row.id, "paused")


def cancel_job(library: Library, job_id: int) -> None:
    """Stop for good: items not yet done are cancelled; outputs already written stay."""
    with library.transaction() as conn:
        row = _job_row(conn, job_id)
        if row.state == "done":
            raise LibraryError(f"job {job_id} is already done")
        _set_job_state(conn, row.id, "cancelled")
        conn.execute(
            update(schema.job_items)
            .where(schema.job_items.c.job_id == row.id, schema.job_items.c.state.in_(("pending", "running")))
            .values(state="cancelled")
        )


def retry_failed(library: Library, job_id: int) -> int:
    """Put the job's failed items back in the queue (their errors are cleared) so the next ``run_job``
    tries them again; returns how many. A job left done by its failures becomes paused (resumable)."""
    items = schema.job_items
    with library.transaction() as conn:
        row = _job_row(conn, job_id)
        if row.state == "cancelled":
            raise LibraryError(f"job {job_id} was cancelled; create a new one to restore these photos")
        check_free(row)  # a live runner would not see items behind it: retry once it has stopped
        count = conn.execute(
            update(items)
            .where(items.c.job_id == row.id, items.c.state == "failed")
            .values(state="pending", error=None, report=None, started_at=None, finished_at=None)
        ).rowcount
        if count and row.state == "done":
            _set_job_state(conn, row.id, "paused")
    return count


# --- running --------------------------------------------------------------------------------------


def build_task(conn: Connection, job_id: int, item) -> PhotoTask:
    """Everything the restoration needs for one item: faces, their people and those people's references."""
    faces, assignments, people, photos = schema.faces, schema.assignments, schema.people, schema.photos
    photo = conn.execute(
        select(photos.c.path, photos.c.size, photos.c.mtime_ns).where(photos.c.id == item.photo_id)
    ).one()
    rows = conn.execute(
        select(faces, assignments.c.person_id, people.c.name)
        .join(assignments, assignments.c.face_id == faces.c.id, isouter=True)
        .join(people, people.c.id == assignments.c.person_id, isouter=True)
        .where(faces.c.photo_id == item.photo_id)
        .order_by(faces.c.id)
    ).all()
    year = photo_year(conn, item.photo_id)  # references closest in age to the photo are preferred
    references = {
        person_id: _task_references(conn, person_id, year)
        for person_id in {r.person_id for r in rows if r.person_id is not None}
    }
    no_reference = ((), 0)
    task_faces = tuple(
        TaskFace(
            face_id=row.id,
            box=(row.x0, row.y0, row.x1, row.y1),
            points=tuple((float(x), float(y)) for x, y in blob_to_points(row.points)),
            person_id=row.person_id,
            person_name=row.name,
            references=references.get(row.person_id, no_reference)[0],
            unavailable_references=references.get(row.person_id, no_reference)[1],
        )
        for row in rows
    )
    return PhotoTask(
        job_id=job_id,
        item_id=item.id,
        photo_path=Path(photo.path),
        output_path=Path(item.output_path),
        faces=task_faces,
        scanned_size=photo.size,
        scanned_mtime_ns=photo.mtime_ns,
    )


def _task_references(conn: Connection, person_id: int, year: int | None = None) -> tuple[tuple[TaskReference, ...], int]:
    """The person's references that can be read now, and how many cannot (missing photo or file):
    those are left out and reported, never silently. With the photo's ``year`` known, those closest
    in age to it (``reference_choice``)."""
    rows = reference_rows(conn, person_id)
    readable = [ref for ref in rows if ref.readable_now()]
    chosen = choose_references(dated_references(conn, readable), year)
    return tuple(task_reference(ref) for ref in chosen), len(rows) - len(readable)


def task_reference(ref: Reference) -> TaskReference:
    """A library reference as the restoration reads it."""
    if ref.kind == "face":
        return TaskReference("face", ref.photo_path, ref.box, ref.face_id)
    return TaskReference("file", ref.file_path, None, None)


def run_job(
    library: Library,
    job_id: int,
    restore_photo_fn: RestorePhotoFn,
    *,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> JobInfo:
    """Run (or resume) a job until it is done or someone pauses/cancels it in the library (another
    thread or process; the photo in progress is finished first). Per-photo errors are recorded on the
    item and the job goes on. Cancelling ``cancel`` stops at once: the photo in progress goes back to
    pending, the job is paused, and ``Cancelled`` is raised. Refused while another runner (thread,
    process, computer) is running the job.

    ``progress`` gets a "photos" event as each photo starts (``done`` counts finished photos, done or
    failed; ``message`` says how many failed) and the restore function's own events ("sampling")."""
    items = schema.job_items
    progress = progress or ignore_progress
    cancel = cancel or CancelToken.never()
    lease = JobLease(library, int(job_id))
    with library.transaction() as conn:
        row = _job_row(conn, job_id)
        if row.state == "cancelled":
            raise LibraryError(f"job {job_id} was cancelled; create a new one to restore these photos")
        lease.acquire(conn, row)  # refuses while another live runner holds the job
        # No live runner holds the job, so an item still "running" was interrupted (crash, kill,
        # reboot): kept if its output was finished before the interruption, else done again.
        _recover_interrupted(conn, row.id)
        _set_job_state(conn, row.id, "running")
        start = _info(conn, row)
    eta = EtaClock(start.pending)
    done_now = 0

    with lease.kept_alive():
        while True:
            with library.reading() as conn:
                job = _job_row(conn, job_id)
                item = conn.execute(
                    select(items)
                    .where(items.c.job_id == job_id, items.c.state == "pending")
                    .order_by(items.c.id)
                    .limit(1)
                ).one_or_none()
            if job.state != "running" or job.runner != lease.runner:  # paused, cancelled or taken over
                break
            if item is None:
                with library.transaction() as conn:
                    _set_job_state(conn, job_id, "done")
                break
            if cancel.cancelled:
                pause_job(library, job_id)
                raise Cancelled(f"job {job_id} paused")
            task = _claim(library, job_id, item, lease)
            if task is None:  # someone else changed the item meanwhile: look again
                continue
            progress(_job_event(job_info(library, job_id), task.photo_path, eta.eta(done_now)))
            try:
                values = _restore_one(task, restore_photo_fn, progress, cancel)
            except Cancelled:
                _put_back(library, job_id, item.id)
                raise
            with library.transaction() as conn:
                conn.execute(update(items).where(items.c.id == item.id).values(finished_at=time.time(), **values))
            done_now += 1

    info = job_info(library, job_id)
    progress(_job_event(info, None, 0.0 if info.pending == 0 else None))
    return info


def _job_event(info: JobInfo, current: Path | None, eta: float | None) -> TaskProgress:
    return TaskProgress(
        stage=JOB_STAGE, done=info.done + info.failed, total=info.total,
        item=None if current is None else str(current), eta_seconds=eta,
        message=f"{info.done}/{info.total} photos done, {info.failed} failed",
    )


def _put_back(library: Library, job_id: int, item_id: int) -> None:
    """A cancelled photo: pending again (never failed), and the job paused so it can be resumed."""
    items = schema.job_items
    with library.transaction() as conn:
        conn.execute(
            update(items)
            .where(items.c.id == item_id, items.c.state == "running")
            .values(state="pending", started_at=None, report=None, error=None)
        )
        if _job_row(conn, job_id).state == "running":
            _set_job_state(conn, job_id, "paused")


def _output_stamp(path: Path) -> list[int] | None:
    """What identifies the file at ``path`` now (a replacement gets a new inode and mtime)."""
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return [stat.st_ino, stat.st_mtime_ns, stat.st_size]


def _recover_interrupted(conn: Connection, job_id: int) -> None:
    """Items left "running" by a runner that died: done if the restore finished writing their output
    (a kill between the output's rename and the commit), else pending again.

    The output is recognised as this run's own by what ``_claim`` recorded: the file at the output path
    when the item was claimed. A FaceMe output that is not that file was written by this item's restore.
    Its per-face report died with the runner, so the item is done with no face outcomes."""
    items = schema.job_items
    running = conn.execute(select(items).where(items.c.job_id == job_id, items.c.state == "running")).all()
    for item in running:
        claimed = json.loads(item.report) if item.report else None
        finished = (
            isinstance(claimed, dict)
            and "output_before" in claimed
            and is_faceme_output(item.output_path)
            and _output_stamp(Path(item.output_path)) != claimed["output_before"]
        )
        values = (
            dict(state="done", error=None, report=None, finished_at=time.time())
            if finished
            else dict(state="pending", started_at=None, report=None)
        )
        conn.execute(update(items).where(items.c.id == item.id).values(**values))


def _claim(library: Library, job_id: int, item, lease: JobLease) -> PhotoTask | None:
    """Mark the item running, only if it is still pending and the job still ours (checked in the
    same transaction, so two runners can never both restore one photo). While running, the item's
    report records the file at its output path, so a resume can tell a finished output from an old one."""
    items = schema.job_items
    with library.transaction() as conn:
        if _job_row(conn, job_id).runner != lease.runner:
            return None
        before = json.dumps({"output_before": _output_stamp(Path(item.output_path))})
        claimed = conn.execute(
            update(items)
            .where(items.c.id == item.id, items.c.state == "pending")
            .values(state="running", started_at=time.time(), error=None, report=before)
        ).rowcount
        if claimed != 1:
            return None
        lease.renew(conn)
        return build_task(conn, job_id, item)


def _changed_since_scan(task: PhotoTask) -> bool:
    if task.scanned_size is None or task.scanned_mtime_ns is None:
        return False
    stat = task.photo_path.stat()
    return stat.st_size != task.scanned_size or stat.st_mtime_ns != task.scanned_mtime_ns


def _restore_one(task: PhotoTask, restore_photo_fn: RestorePhotoFn, progress: ProgressCallback,
                 cancel: CancelToken) -> dict:
    """The item's final columns: done with its per-face report, or failed with the error. A cancel is
    not a failure: ``Cancelled`` goes through to the runner."""
    try:
        if not task.photo_path.is_file():
            raise LibraryError(f"{task.photo_path}: the photo is no longer there (rescan the album)")
        if _changed_since_scan(task):  # its faces' boxes would land on the wrong pixels
            raise LibraryError("changed since the last scan", subject=task.photo_path,
                               hint="scan its album again, then resume this job", action="scan")
        if os.path.realpath(task.output_path) == os.path.realpath(task.photo_path):
            raise LibraryError(f"{task.output_path}: would overwrite the original; refusing")
        task.output_path.parent.mkdir(parents=True, exist_ok=True)
        outcome = restore_photo_fn(task, progress=progress, cancel=cancel)
        if not Path(outcome.output_path).is_file():
            raise LibraryError(f"{outcome.output_path}: the restoration reported success but wrote no file")
    except Cancelled:
        raise
    except Exception as error:  # one bad photo must not stop the album; the user sees why
        message = str(error) if isinstance(error, FaceMeError) else f"{type(error).__name__}: {error}"
        return dict(state="failed", error=message, report=None)
    report = [face.to_json() for face in outcome.faces]
    return dict(state="done", error=None, report=json.dumps(report), output_path=str(outcome.output_path))
