"""A scan killed at any moment (SIGKILL) and re-run ends with the same library as an uninterrupted one."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from faceme_core.library.library import Library
from faceme_core.library.scan import scan_folders
from tests.library.conftest import copy_album, library_content

REPO = Path(__file__).resolve().parents[2]
PHOTOS = (
    "band_four_lowres_a.jpg",
    "boy_at_railing_lowres.jpg",
    "film_still_two.jpg",
    "hepburn_portrait_lowres.jpg",
    "two_boys.jpg",
    "group_four_conference.jpg",
)


def _committed_photos(path: Path) -> int:
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5) as conn:
            return conn.execute("SELECT count(*) FROM photos").fetchone()[0]
    except sqlite3.OperationalError:  # not created yet
        return 0


@pytest.mark.slow
@pytest.mark.skipif(os.name == "nt", reason="SIGKILL")
def test_killed_scan_rerun_matches_an_uninterrupted_scan(tmp_path, dlib_analyzer):
    # Reference: an uninterrupted scan of one copy.
    reference_album = copy_album(tmp_path / "a" / "Album", PHOTOS)
    with Library.open(tmp_path / "a" / "lib.sqlite") as library:
        scan_folders(library, [reference_album], dlib_analyzer)
    expected = library_content(tmp_path / "a" / "lib.sqlite", reference_album)

    # The same album elsewhere: scanned by a subprocess killed -9 once a few photos are committed.
    album = copy_album(tmp_path / "b" / "Album", PHOTOS)
    library_path = tmp_path / "b" / "lib.sqlite"
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.library.slow_scan", str(library_path), str(album), "0.4"],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    try:
        deadline = time.monotonic() + 60
        while _committed_photos(library_path) < 2 and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.2)  # land the kill inside the next photo's work
        assert process.poll() is None, "the scan finished before it could be killed"
        os.kill(process.pid, signal.SIGKILL)
    finally:
        process.wait(timeout=30)
    interrupted = _committed_photos(library_path)
    assert 2 <= interrupted < len(PHOTOS)

    with Library.open(library_path) as library:
        summary = scan_folders(library, [album], dlib_analyzer)
    assert summary.unchanged == interrupted and summary.added == len(PHOTOS) - interrupted
    assert library_content(library_path, album) == expected


@pytest.mark.slow
@pytest.mark.skipif(os.name == "nt", reason="SIGKILL")
def test_killed_restore_job_resumes_with_no_photo_done_twice_or_lost(tmp_path, library, small_album, analyzer):
    from faceme_core.imageio import load_photo
    from faceme_core.library import jobs
    from tests.library.fakes import fake_restore

    scan_folders(library, [small_album], analyzer)
    job_id = jobs.create_job(library, tmp_path / "out")
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.library.slow_job", str(library.path), str(job_id), "0.5"],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    try:
        deadline = time.monotonic() + 60
        while jobs.job_info(library, job_id).done < 2 and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.2)
        assert process.poll() is None, "the job finished before it could be killed"
        os.kill(process.pid, signal.SIGKILL)
    finally:
        process.wait(timeout=30)
    before = {item.photo_path: item.state for item in jobs.job_items(library, job_id)}
    # Killed in the middle of a photo (almost surely: each takes 0.5 s and the kill lands 0.2 s in).
    assert list(before.values()).count("running") <= 1 and list(before.values()).count("pending") >= 1

    redone = []
    info = jobs.run_job(library, job_id, lambda task: redone.append(task.photo_path) or fake_restore(task))
    assert info.state == "done" and info.done == len(before)
    assert sorted(redone) == sorted(path for path, state in before.items() if state != "done")
    for item in jobs.job_items(library, job_id):
        assert load_photo(item.output_path).size_wh == load_photo(item.photo_path).size_wh  # complete files
