"""The Jobs tab: a job made from the Restore list runs with progress, pauses within a photo, and
resumes after the app is closed and opened again (jobs live in the library); failures show their
reason and are retried; per-face outcomes are shown."""

from __future__ import annotations

import threading

from PySide6.QtCore import Qt

from faceme_core.library.jobs import job_info, job_items, list_jobs
from faceme_core.library.types import FaceOutcome, PhotoOutcome
from faceme_core.tasks import Cancelled
from faceme_desktop.views.jobs_view import outcome_text
from tests.desktop.conftest import open_library
from tests.library.fakes import fake_restore

PHOTOS = ("two_boys.jpg", "band_four_b.jpg")


class Recorder:
    """A restore function that records photos, and blocks on ``block`` (until cancelled) if asked."""

    def __init__(self, block: str | None = None, fail: str | None = None):
        self.block, self.fail = block, fail
        self.calls: list[str] = []
        self.blocked = threading.Event()

    def __call__(self, task, *, progress=None, cancel=None) -> PhotoOutcome:
        self.calls.append(task.photo_path.name)
        if task.photo_path.name == self.block:
            self.blocked.set()
            while not cancel.wait(0.01):
                pass
            raise Cancelled("paused")
        if task.photo_path.name == self.fail:
            raise ValueError("simulated decoder crash")
        outcome = fake_restore(task)
        faces = tuple(FaceOutcome(f.face_id, "references", person="Anna", references=("face 1",), seed=5,
                                  identity_before=0.5, identity_after=0.3) for f in outcome.faces)
        return PhotoOutcome(outcome.output_path, faces)


def test_a_job_pauses_and_resumes_after_a_restart_of_the_app(make_window, scanned_library, gui_album, qtbot, tmp_path):
    out = tmp_path / "restored"
    first = Recorder(block=PHOTOS[0])  # jobs go by path: band_four_b.jpg first, then two_boys.jpg
    window = make_window(scanned_library)
    window.restore.add_photos([gui_album / name for name in PHOTOS])
    jobs = window.jobs
    jobs.restorer_factory = lambda options: first
    jobs.choose_out_dir = lambda: out
    window.show_view("jobs")
    jobs.new_from_restore_list()
    qtbot.waitUntil(first.blocked.is_set, timeout=10_000)
    qtbot.waitUntil(lambda: jobs.pause_button.isEnabled())
    assert first.calls == list(reversed(PHOTOS))
    qtbot.mouseClick(jobs.pause_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not jobs.task.running, timeout=10_000)
    window.close()  # the app quits with the job paused

    with open_library(scanned_library) as library:
        [job] = list_jobs(library)
        assert (job.state, job.done, job.total) == ("paused", 1, 2)

    again = Recorder()
    window = make_window(scanned_library)
    jobs = window.jobs
    jobs.restorer_factory = lambda options: again
    qtbot.waitUntil(lambda: jobs.table.rowCount() == 1 and jobs.run_button.isEnabled())
    assert jobs.table.item(0, 1).text() == "paused" and jobs.table.item(0, 2).text() == "1/2"
    qtbot.mouseClick(jobs.run_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: jobs.table.item(0, 1) is not None and jobs.table.item(0, 1).text() == "done", timeout=10_000)
    assert again.calls == [PHOTOS[0]]  # the finished photo was not redone
    assert jobs.table.item(0, 2).text() == "2/2"
    expected = "Anna: 1 reference(s), identity 0.50 → 0.30 ↓, seed 5"

    def outcomes_shown():
        cells = [jobs.item_table.item(row, 2) for row in range(jobs.item_table.rowCount())]
        return len(cells) == 2 and all(cell is not None and expected in cell.text() for cell in cells)

    qtbot.waitUntil(outcomes_shown, timeout=5000)
    with open_library(scanned_library) as library:
        assert {item.output_path.parent.parent for item in job_items(library, job.id)} == {out}
        assert all(item.output_path.is_file() for item in job_items(library, job.id))


def test_failed_photos_show_their_reason_and_are_retried(make_window, scanned_library, gui_album, qtbot, tmp_path):
    failing = Recorder(fail=PHOTOS[1])
    window = make_window(scanned_library)
    window.restore.add_photos([gui_album / name for name in PHOTOS])
    jobs = window.jobs
    jobs.restorer_factory = lambda options: failing
    jobs.choose_out_dir = lambda: tmp_path / "out"
    jobs.new_from_restore_list()
    qtbot.waitUntil(lambda: jobs.task is not None and not jobs.task.running, timeout=10_000)
    qtbot.waitUntil(lambda: jobs.item_table.rowCount() == 2 and jobs.item_table.item(0, 1) is not None
                    and jobs.item_table.item(0, 1).text() == "failed", timeout=5000)
    assert "ValueError: simulated decoder crash" in jobs.item_table.item(0, 2).text()
    qtbot.waitUntil(jobs.retry_button.isEnabled)
    jobs.restorer_factory = lambda options: Recorder()
    qtbot.mouseClick(jobs.retry_button, Qt.MouseButton.LeftButton)
    with open_library(scanned_library) as library:
        job_id = list_jobs(library)[0].id
    qtbot.waitUntil(lambda: _state(scanned_library, job_id) == ("done", 2, 0), timeout=10_000)


def _state(library_path, job_id):
    with open_library(library_path) as library:
        info = job_info(library, job_id)
    return info.state, info.done, info.failed


def test_outcome_text_says_blind_and_skipped_in_words():
    assert outcome_text(FaceOutcome(1, "blind", person="Bo")) == "Bo: blind"
    assert outcome_text(FaceOutcome(2, "skipped", "too small")).startswith("unassigned: left as it was")


def test_jobs_from_a_folder_and_open_output_folder(make_window, scanned_library, gui_album, qtbot, tmp_path, monkeypatch):
    from PySide6.QtGui import QDesktopServices

    from faceme_desktop.views.jobs_view import photos_under

    with open_library(scanned_library) as library:
        found = photos_under(library, gui_album)
        assert photos_under(library, tmp_path) == []
    assert found and all(p.parent == gui_album for p in found)

    window = make_window(scanned_library)
    jobs = window.jobs
    jobs.restorer_factory = lambda options: Recorder()
    jobs.choose_out_dir = lambda: tmp_path / "out"
    jobs.create_job(photos=found)
    qtbot.waitUntil(lambda: jobs.task is not None and not jobs.task.running, timeout=10_000)
    qtbot.waitUntil(lambda: jobs.open_button.isEnabled())
    opened = []
    monkeypatch.setattr(QDesktopServices, "openUrl", lambda url: opened.append(url.toLocalFile()))
    qtbot.mouseClick(jobs.open_button, Qt.MouseButton.LeftButton)
    assert opened == [str((tmp_path / "out").resolve())]
