"""Restore jobs: selection, mirrored outputs, per-photo failures, pause/resume/cancel, crash recovery."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
from sqlalchemy import update

from faceme_core.errors import LibraryError
from faceme_core.imageio import load_photo
from faceme_core.library import job_lease, jobs
from faceme_core.library import people as ops
from faceme_core.library import references
from faceme_core.library.db import schema
from faceme_core.library.scan import scan_folders
from faceme_core.library.walk import OUTPUT_MARKER
from faceme_core.tasks import Cancelled, CancelToken
from tests.library.conftest import file_hashes
from tests.library.fakes import fake_restore


class Recorder:
    def __init__(self, fail_on: str | None = None, interrupt_at: int | None = None, on_call=None):
        self.done: list[str] = []
        self.fail_on = fail_on
        self.interrupt_at = interrupt_at
        self.on_call = on_call

    def __call__(self, task, *, progress=None, cancel=None):
        if self.interrupt_at is not None and len(self.done) == self.interrupt_at:
            raise KeyboardInterrupt  # the process dies in the middle of this photo
        if self.on_call:
            self.on_call(task)
        if cancel is not None:
            cancel.raise_if_cancelled()  # as the engine does between denoising steps
        self.done.append(task.photo_path.name)
        if self.fail_on and task.photo_path.name == self.fail_on:
            raise ValueError("the GPU caught fire")
        return fake_restore(task)


@pytest.fixture
def scanned(library, small_album, analyzer):
    (small_album / "1999").mkdir()
    shutil.move(small_album / "two_boys.jpg", small_album / "1999" / "two_boys.jpg")
    scan_folders(library, [small_album], analyzer)
    return library


def _band_person(library):
    return next(
        p
        for p in ops.list_people(library)
        if {f.photo_path.name for f in p.faces} == {"band_four_lowres_a.jpg", "band_four_b.jpg"}
    )


def test_job_writes_mirrored_outputs_with_references_and_never_touches_originals(scanned, small_album, tmp_path):
    originals = file_hashes(small_album)
    band = _band_person(scanned)
    ops.rename_person(scanned, band.id, "Band")
    references.add_face_reference(scanned, "Band", band.faces[0].id)
    out = tmp_path / "Restored"

    job_id = jobs.create_job(scanned, out, photos=[small_album / "1999" / "two_boys.jpg"], people=["Band"])
    progress = []
    info = jobs.run_job(scanned, job_id, fake_restore, progress=progress.append)

    assert (info.state, info.total, info.done, info.failed) == ("done", 3, 3, 0)
    items = {item.photo_path.name: item for item in jobs.job_items(scanned, job_id)}
    assert items["two_boys.jpg"].output_path == out / "Small" / "1999" / "two_boys.jpg"
    assert items["band_four_b.jpg"].output_path == out / "Small" / "band_four_b.jpg"
    for item in items.values():
        restored, original = load_photo(item.output_path), load_photo(item.photo_path)
        assert restored.size_wh == original.size_wh and not np.array_equal(restored.pixels, original.pixels)
    band_modes = {f.face_id: f.mode for f in items["band_four_b.jpg"].faces}
    assert (
        band_modes[band.faces[0].id if band.faces[0].photo_path.name == "band_four_b.jpg" else band.faces[1].id]
        == "references"
    )
    assert {f.mode for f in items["two_boys.jpg"].faces} == {"blind"}  # nobody there has references
    assert file_hashes(small_album) == originals
    assert progress[0].total == 3 and progress[-1].done == 3
    assert (out / OUTPUT_MARKER).is_file()


def test_outputs_are_never_scanned_back_in(scanned, small_album, tmp_path, analyzer):
    job_id = jobs.create_job(scanned, tmp_path / "Restored")
    jobs.run_job(scanned, job_id, fake_restore)
    summary = scan_folders(scanned, [tmp_path], analyzer)  # a parent holding the album and the outputs
    assert summary.found == 5 and summary.added == 0


def test_out_dir_inside_or_holding_an_album_is_refused(scanned, small_album, tmp_path):
    with pytest.raises(LibraryError, match="inside the album folder"):
        jobs.create_job(scanned, small_album / "restored")
    with pytest.raises(LibraryError, match="holds the album folder"):
        jobs.create_job(scanned, tmp_path)
    assert jobs.list_jobs(scanned) == []


def test_selection_errors_name_the_problem(scanned, small_album, tmp_path, analyzer):
    with pytest.raises(LibraryError, match="not in the library"):
        jobs.create_job(scanned, tmp_path / "out", photos=[tmp_path / "elsewhere.jpg"])
    with pytest.raises(LibraryError, match="no person named 'Nobody'"):
        jobs.create_job(scanned, tmp_path / "out", people=["Nobody"])
    (small_album / "hepburn_portrait_lowres.jpg").unlink()
    scan_folders(scanned, [small_album], analyzer)
    with pytest.raises(LibraryError, match="the library has it as missing"):
        jobs.create_job(scanned, tmp_path / "out", photos=[small_album / "hepburn_portrait_lowres.jpg"])


def test_a_failing_photo_is_recorded_and_the_job_goes_on(scanned, tmp_path):
    job_id = jobs.create_job(scanned, tmp_path / "out")
    restore = Recorder(fail_on="band_four_b.jpg")
    info = jobs.run_job(scanned, job_id, restore)
    assert (info.state, info.done, info.failed) == ("done", 4, 1)
    [failed] = [item for item in jobs.job_items(scanned, job_id) if item.state == "failed"]
    assert failed.photo_path.name == "band_four_b.jpg" and "GPU caught fire" in failed.error
    assert not failed.output_path.exists()


def test_resume_after_a_crash_redoes_only_the_interrupted_photo(scanned, tmp_path):
    job_id = jobs.create_job(scanned, tmp_path / "out")
    first = Recorder(interrupt_at=2)
    with pytest.raises(KeyboardInterrupt):  # like a kill: the third photo is left "running"
        jobs.run_job(scanned, job_id, first)
    states = [item.state for item in jobs.job_items(scanned, job_id)]
    assert states == ["done", "done", "running", "pending", "pending"]

    second = Recorder()
    info = jobs.run_job(scanned, job_id, second)
    items = jobs.job_items(scanned, job_id)
    assert info.state == "done" and info.done == 5
    assert sorted(first.done + second.done) == sorted(item.photo_path.name for item in items)  # none twice, none lost
    assert all(item.output_path.is_file() for item in items)


def test_pause_cancel_token_and_cancel(scanned, tmp_path, library):
    job_id = jobs.create_job(scanned, tmp_path / "out")
    token = CancelToken()
    restore = Recorder(on_call=lambda task: restore.done and token.cancel())  # cancelled during photo 2
    with pytest.raises(Cancelled):
        jobs.run_job(scanned, job_id, restore, cancel=token)
    info = jobs.job_info(scanned, job_id)
    assert (info.state, info.done, info.failed, info.pending) == ("paused", 1, 0, 4)

    # Paused from elsewhere (the desktop app, another process) while a photo is in progress.
    pauser = Recorder(on_call=lambda task: jobs.pause_job(library, job_id))
    info = jobs.run_job(scanned, job_id, pauser)
    assert (info.state, info.done, len(pauser.done)) == ("paused", 2, 1)

    jobs.cancel_job(scanned, job_id)
    info = jobs.job_info(scanned, job_id)
    assert (info.state, info.done, info.pending) == ("cancelled", 2, 0)
    with pytest.raises(LibraryError, match="was cancelled"):
        jobs.run_job(scanned, job_id, fake_restore)


def test_missing_photo_fails_its_item_only(scanned, small_album, tmp_path):
    job_id = jobs.create_job(scanned, tmp_path / "out")
    (small_album / "band_four_b.jpg").unlink()
    info = jobs.run_job(scanned, job_id, fake_restore)
    assert (info.done, info.failed) == (4, 1)
    with scanned.transaction() as conn:  # unknown job ids are clear errors
        conn.execute(update(schema.jobs).values(state="running"))
    with pytest.raises(LibraryError, match="no restore job with id 99"):
        jobs.job_info(scanned, 99)


def test_a_second_runner_is_refused_while_the_first_one_runs(scanned, tmp_path):
    import threading
    from collections import Counter

    job_id = jobs.create_job(scanned, tmp_path / "out")
    started, release = threading.Event(), threading.Event()
    calls = Counter()

    def slow(task, **_):
        calls[task.photo_path.name] += 1
        started.set()
        release.wait(30)
        return fake_restore(task)

    first = threading.Thread(target=jobs.run_job, args=(scanned, job_id, slow))
    first.start()
    try:
        assert started.wait(30)
        with pytest.raises(LibraryError, match=f"job {job_id} is already being run by another FaceMe"):
            jobs.run_job(scanned, job_id, slow)  # e.g. a second 'restore-album --resume' in another terminal
        assert [item.state for item in jobs.job_items(scanned, job_id)][0] == "running"  # not reset
    finally:
        release.set()
        first.join(60)
    info = jobs.job_info(scanned, job_id)
    assert (info.state, info.done) == ("done", 5)
    assert set(calls.values()) == {1}  # no photo restored twice
    assert jobs.run_job(scanned, job_id, fake_restore).state == "done"  # the lease was given back


def _set_runner(library, job_id, runner, heartbeat_at):
    with library.transaction() as conn:
        conn.execute(
            update(schema.jobs).where(schema.jobs.c.id == job_id).values(runner=runner, heartbeat_at=heartbeat_at)
        )


def test_a_dead_runners_lease_is_taken_over(scanned, tmp_path):
    import subprocess
    import sys
    import time

    job_id = jobs.create_job(scanned, tmp_path / "out")
    _set_runner(scanned, job_id, "other-computer:123:abc", time.time())  # alive, as far as we can tell
    with pytest.raises(LibraryError, match="already being run"):
        jobs.run_job(scanned, job_id, fake_restore)

    _set_runner(scanned, job_id, "other-computer:123:abc", time.time() - job_lease.LEASE_SECONDS - 1)  # silent too long
    assert jobs.run_job(scanned, job_id, fake_restore).state == "done"

    job_id = jobs.create_job(scanned, tmp_path / "out2")
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    import socket

    # A crashed runner on this computer frees the job at once, without waiting for the lease to expire.
    _set_runner(scanned, job_id, f"{socket.gethostname()}:{int(gone.stdout)}:abc", time.time())
    assert jobs.run_job(scanned, job_id, fake_restore).state == "done"


def test_output_folders_are_refused_as_albums_and_reported_when_skipped(scanned, small_album, tmp_path, analyzer):
    from sqlalchemy import select

    out = tmp_path / "Restored"
    jobs.run_job(scanned, jobs.create_job(scanned, out), fake_restore)
    moved = tmp_path / "elsewhere" / "Restored copy"  # the marker travels with the folder
    shutil.copytree(out, moved)
    with scanned.reading() as conn:
        albums = conn.execute(select(schema.albums.c.path)).scalars().all()
    for folder in (out, out / "Small", moved):
        with pytest.raises(LibraryError, match="is a FaceMe album job's output folder"):
            scan_folders(scanned, [folder], analyzer)
    with scanned.reading() as conn:
        assert conn.execute(select(schema.albums.c.path)).scalars().all() == albums  # none registered
    assert jobs.create_job(scanned, moved)  # so it can still be an out-dir

    summary = scan_folders(scanned, [tmp_path], analyzer)  # a parent holding the album and the outputs
    assert set(summary.output_folders_skipped) == {out, moved} and summary.added == 0


def test_a_live_runner_on_this_computer_keeps_its_job_despite_missed_heartbeats(scanned, tmp_path):
    import os
    import socket
    import time

    job_id = jobs.create_job(scanned, tmp_path / "out")
    # This very process is alive; its heartbeats stopped for longer than the network lease (a library
    # locked by a long recluster, say): the job must not be taken from it, or a photo is done twice.
    _set_runner(scanned, job_id, f"{socket.gethostname()}:{os.getpid()}:other",
                time.time() - job_lease.LEASE_SECONDS - 60)
    with pytest.raises(LibraryError, match="already being run"):
        jobs.check_resumable(scanned, job_id)
    with pytest.raises(LibraryError, match="already being run"):
        jobs.run_job(scanned, job_id, fake_restore)
    # ... but not forever: past the local lease the pid is taken to be reused.
    _set_runner(scanned, job_id, f"{socket.gethostname()}:{os.getpid()}:other",
                time.time() - job_lease.LOCAL_LEASE_SECONDS - 1)
    jobs.check_resumable(scanned, job_id)
    assert jobs.run_job(scanned, job_id, fake_restore).state == "done"


def test_the_heartbeat_survives_a_locked_library(scanned, tmp_path, monkeypatch):
    """One failed renewal (another writer held the library too long) must not end the heartbeat."""
    import threading

    lease = job_lease.JobLease(scanned, jobs.create_job(scanned, tmp_path / "out"))
    calls, renewed = [], threading.Event()

    def flaky_renew(conn):
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("database is locked")
        renewed.set()

    monkeypatch.setattr(job_lease, "HEARTBEAT_SECONDS", 0.01)
    monkeypatch.setattr(lease, "renew", flaky_renew)
    with lease.kept_alive():
        assert renewed.wait(5), "the heartbeat stopped after one failure"
    assert len(calls) >= 2


def test_a_pausing_job_says_so_when_resumed_too_early(scanned, tmp_path):
    import os
    import socket
    import time

    job_id = jobs.create_job(scanned, tmp_path / "out")
    jobs.pause_job(scanned, job_id)
    _set_runner(scanned, job_id, f"{socket.gethostname()}:{os.getpid()}:other", time.time())
    with pytest.raises(LibraryError, match="is pausing"):
        jobs.check_resumable(scanned, job_id)


def test_a_job_whose_runner_died_is_listed_as_interrupted(scanned, tmp_path):
    import socket
    import subprocess
    import sys
    import time

    job_id = jobs.create_job(scanned, tmp_path / "out")
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    with scanned.transaction() as conn:
        conn.execute(update(schema.jobs).where(schema.jobs.c.id == job_id).values(state="running"))
    _set_runner(scanned, job_id, f"{socket.gethostname()}:{int(gone.stdout)}:abc", time.time())
    assert jobs.job_info(scanned, job_id).state == "interrupted"
    assert jobs.run_job(scanned, job_id, fake_restore).state == "done"


def _temp_files(folder):
    return [p for p in folder.rglob("*") if p.name.endswith(".faceme-tmp")]


def test_a_cancel_inside_a_photo_puts_it_back_and_the_resume_finishes(scanned, tmp_path):
    out = tmp_path / "out"
    job_id = jobs.create_job(scanned, out)
    token = CancelToken()
    first = Recorder(on_call=lambda task: first.done and token.cancel())  # Cancel pressed mid-photo 2
    with pytest.raises(Cancelled):
        jobs.run_job(scanned, job_id, first, cancel=token)

    items = jobs.job_items(scanned, job_id)
    assert [item.state for item in items] == ["done", "pending", "pending", "pending", "pending"]
    assert all(item.error is None for item in items)  # a cancel is not a failure
    assert not items[1].output_path.exists() and _temp_files(out) == []  # nothing half-written
    assert jobs.job_info(scanned, job_id).state == "paused"

    second = Recorder()
    info = jobs.run_job(scanned, job_id, second)
    assert (info.state, info.done, info.failed) == ("done", 5, 0)
    assert sorted(first.done + second.done) == sorted(item.photo_path.name for item in items)  # none twice


def test_a_kill_after_the_output_is_written_does_not_restore_the_photo_again(scanned, tmp_path):
    job_id = jobs.create_job(scanned, tmp_path / "out")

    def killed_before_the_commit(task, **kwargs):
        fake_restore(task)  # the output is renamed into place ...
        raise KeyboardInterrupt  # ... and the process dies before the database records it

    with pytest.raises(KeyboardInterrupt):
        jobs.run_job(scanned, job_id, killed_before_the_commit)
    first = jobs.job_items(scanned, job_id)[0]
    assert first.state == "running" and first.output_path.is_file()

    resumed = Recorder()
    info = jobs.run_job(scanned, job_id, resumed)
    assert (info.state, info.done) == ("done", 5)
    assert first.photo_path.name not in resumed.done and len(resumed.done) == 4


def test_an_older_output_is_not_taken_for_the_interrupted_photos_own(scanned, tmp_path):
    out = tmp_path / "out"
    jobs.run_job(scanned, jobs.create_job(scanned, out), fake_restore)  # earlier FaceMe outputs in out/
    job_id = jobs.create_job(scanned, out)
    with pytest.raises(KeyboardInterrupt):  # killed in the middle of the first photo, before writing
        jobs.run_job(scanned, job_id, Recorder(interrupt_at=0))

    resumed = Recorder()
    jobs.run_job(scanned, job_id, resumed)
    assert len(resumed.done) == 5  # the first photo is redone: the file there was the old job's


def test_failed_photos_are_retried_only_when_asked(scanned, tmp_path):
    job_id = jobs.create_job(scanned, tmp_path / "out")
    jobs.run_job(scanned, job_id, Recorder(fail_on="band_four_b.jpg"))
    again = Recorder()
    assert jobs.run_job(scanned, job_id, again).failed == 1 and again.done == []  # --resume leaves failures

    assert jobs.retry_failed(scanned, job_id) == 1
    info = jobs.job_info(scanned, job_id)
    assert (info.state, info.failed, info.pending) == ("paused", 0, 1)
    retried = Recorder()
    info = jobs.run_job(scanned, job_id, retried)
    assert (info.state, info.done, info.failed) == ("done", 5, 0) and retried.done == ["band_four_b.jpg"]
    assert jobs.retry_failed(scanned, job_id) == 0
    jobs.cancel_job(scanned, jobs.create_job(scanned, tmp_path / "out2"))
    with pytest.raises(LibraryError, match="was cancelled"):
        jobs.retry_failed(scanned, 2)


def test_face_outcomes_of_items_written_before_the_structured_fields_still_read(scanned, tmp_path):
    import json

    job_id = jobs.create_job(scanned, tmp_path / "out")
    jobs.run_job(scanned, job_id, fake_restore)
    old_report = json.dumps([{"face_id": 7, "mode": "blind", "detail": "Anna: no usable references"}])
    with scanned.transaction() as conn:
        conn.execute(update(schema.job_items).where(schema.job_items.c.job_id == job_id).values(report=old_report))
    (face,) = jobs.job_items(scanned, job_id)[0].faces
    assert (face.face_id, face.mode, face.detail) == (7, "blind", "Anna: no usable references")
    assert (face.person, face.seed, face.identity_after, face.references) == (None, None, None, ())
