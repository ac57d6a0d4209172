"""A scan as a task: cancelled by its token, analysed by worker processes, one at a time per library,
and never stuck on a file that changed into a pipe after the walk."""

from __future__ import annotations

import multiprocessing
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from faceme_core.errors import LibraryError
from faceme_core.library.library import Library
from faceme_core.library.scan import inventory, scan_folders
from faceme_core.library.scan.photo_loop import pool_size
from faceme_core.tasks import Cancelled, CancelToken
from tests.library.conftest import SMALL_ALBUM, copy_album, library_content

REPO = Path(__file__).resolve().parents[2]


def _uninterrupted(tmp_path: Path, analyzer) -> dict:
    album = copy_album(tmp_path / "reference" / "Album", SMALL_ALBUM)
    with Library.open(tmp_path / "reference" / "lib.sqlite") as library:
        scan_folders(library, [album], analyzer, workers=1)
    return library_content(tmp_path / "reference" / "lib.sqlite", album)


def _statuses(library_path: Path) -> list[tuple[str, str | None]]:
    with sqlite3.connect(library_path) as conn:
        return conn.execute("SELECT status, error FROM photos").fetchall()


def _cancel_at(token: CancelToken, photo: int):
    def progress(event):
        if event.stage == "analysing" and event.item is not None and event.done == photo:
            token.cancel()

    return progress


def _in_workers_only():
    """A dlib analyzer that fails if asked to analyse in this process: only its workers may."""
    from faceme_core.faces.analyzer import create_analyzer

    analyzer = create_analyzer("dlib")

    def refuse(photo):
        raise AssertionError("analysed in the main process, not in a worker")

    analyzer.analyze = refuse
    return analyzer


@pytest.mark.parametrize("workers", [1, 2])
def test_cancel_mid_album_keeps_finished_photos_and_a_rerun_equals_an_uninterrupted_scan(tmp_path, analyzer, workers):
    expected = _uninterrupted(tmp_path, analyzer)
    album = copy_album(tmp_path / "cancelled" / "Album", SMALL_ALBUM)
    library_path = tmp_path / "cancelled" / "lib.sqlite"
    scanner = _in_workers_only() if workers > 1 else analyzer
    token = CancelToken()
    with Library.open(library_path) as library:
        with pytest.raises(Cancelled):
            scan_folders(library, [album], scanner, progress=_cancel_at(token, 2), cancel=token, workers=workers)
        assert multiprocessing.active_children() == []  # the workers were stopped, not left to finish
        assert _statuses(library_path) == [("ok", None)] * 2  # committed, and nothing recorded as failed
        summary = scan_folders(library, [album], analyzer)
    assert (summary.unchanged, summary.added, summary.failed) == (2, 3, 0)
    assert library_content(library_path, album) == expected


def test_parallel_scan_equals_the_serial_scan(tmp_path, analyzer):
    expected = _uninterrupted(tmp_path, analyzer)
    album = copy_album(tmp_path / "parallel" / "Album", SMALL_ALBUM)
    parallel = _in_workers_only()
    assert pool_size(parallel, len(SMALL_ALBUM), 2) == 2
    with Library.open(tmp_path / "parallel" / "lib.sqlite") as library:
        summary = scan_folders(library, [album], parallel, workers=2)
    assert (summary.added, summary.failed) == (5, 0)
    assert library_content(tmp_path / "parallel" / "lib.sqlite", album) == expected


def test_analyzers_without_a_spec_and_small_batches_stay_in_process(analyzer):
    assert pool_size(analyzer, 100, 8) == 0  # a test double cannot be rebuilt in a worker
    parallel = _in_workers_only()
    assert pool_size(parallel, 3, 8) == 0  # starting processes would cost more than it saves
    assert pool_size(parallel, 100, 1) == 0 and pool_size(parallel, 100, 4) == 4


def test_a_second_scan_of_the_library_is_refused_while_one_runs(library, small_album, analyzer):
    refused = []

    def start_another_scan(event):
        if event.stage == "analysing" and event.done == 1 and not refused:
            with Library.open(library.path) as other, pytest.raises(LibraryError, match="busy") as error:
                scan_folders(other, [small_album], analyzer)
            refused.append(str(error.value))

    summary = scan_folders(library, [small_album], analyzer, progress=start_another_scan)
    assert len(refused) == 1 and "another scan" in refused[0]
    assert (summary.added, summary.failed) == (5, 0)  # the first scan was not disturbed
    assert scan_folders(library, [small_album], analyzer).unchanged == 5  # free again once it ended


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes")
@pytest.mark.parametrize("known", [False, True], ids=["new-path", "known-photo"])
def test_a_photo_replaced_by_a_fifo_after_the_walk_is_recorded_not_waited_for(
    library, small_album, analyzer, monkeypatch, known
):
    target = small_album / "two_boys.jpg"
    if known:  # a photo the library holds, touched so the scan looks at it again
        scan_folders(library, [small_album], analyzer)
        stat = target.stat()
        os.utime(target, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    real_walk = inventory.walk_photos

    def walk_then_swap(*args, **kwargs):
        yield from real_walk(*args, **kwargs)
        target.unlink()
        os.mkfifo(target)

    monkeypatch.setattr(inventory, "walk_photos", walk_then_swap)
    result = {}
    thread = threading.Thread(
        target=lambda: result.update(summary=scan_folders(library, [small_album], analyzer)), daemon=True
    )
    thread.start()
    thread.join(20)
    if thread.is_alive():
        os.close(os.open(target, os.O_WRONLY | os.O_NONBLOCK))  # give the blocked reader an end of file
        thread.join(20)
        pytest.fail("the scan blocked on a named pipe")
    summary = result["summary"]
    [(path, error)] = summary.failures
    assert path == target and "named pipe" in error
    assert summary.failed == 1


@pytest.mark.slow
@pytest.mark.skipif(os.name == "nt", reason="SIGINT")
def test_ctrl_c_cancels_the_cli_scan_which_exits_130_saying_how_to_continue(tmp_path):
    photos = SMALL_ALBUM + ("film_still_two.jpg", "group_four_conference.jpg")
    album = copy_album(tmp_path / "Album", photos)
    library_path = tmp_path / "lib.sqlite"
    command = [sys.executable, "-m", "faceme_core.cli.main", "scan", str(album), "--library", str(library_path),
               "--backend", "dlib", "--workers", "2"]
    process = subprocess.Popen(command, cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)},
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while process.poll() is None and time.monotonic() < deadline:
            if library_path.exists() and len(_statuses_or_empty(library_path)) >= 1:
                break
            time.sleep(0.05)
        assert process.poll() is None, "the scan finished before Ctrl+C"
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=60)
    finally:
        process.kill()
        process.wait()
    assert process.returncode == 130, err
    assert "cancelled; run the same command again to continue" in err
    assert "Traceback" not in err
    statuses = _statuses(library_path)
    assert 1 <= len(statuses) and all(status == ("ok", None) for status in statuses)  # no photo "failed"


def _statuses_or_empty(library_path: Path) -> list:
    try:
        with sqlite3.connect(f"file:{library_path}?mode=ro", uri=True, timeout=5) as conn:
            return conn.execute("SELECT status FROM photos").fetchall()
    except sqlite3.OperationalError:  # not created yet
        return []


def _rescan_after_a_move_into_two_copies(tmp_path: Path, name: str, analyzer, workers: int):
    """Scan, then replace one photo by two copies of it (one is the photo moved, the other a new photo)
    and add two new photos, and scan again."""
    from tests.library.conftest import ALBUM

    album = copy_album(tmp_path / name / "Album", SMALL_ALBUM)
    with Library.open(tmp_path / name / "lib.sqlite") as library:
        scan_folders(library, [album], analyzer, workers=workers)
        moved = album / "hepburn_portrait_lowres.jpg"
        for copy in ("copy_a.jpg", "copy_b.jpg"):
            (album / copy).write_bytes(moved.read_bytes())
        moved.unlink()
        for new in ("film_still_two.jpg", "group_four_conference.jpg"):
            (album / new).write_bytes((ALBUM / new).read_bytes())
        summary = scan_folders(library, [album], analyzer, workers=workers)
    return summary, library_content(tmp_path / name / "lib.sqlite", album)


def test_parallel_rescan_decides_moves_in_walk_order_like_the_serial_one(tmp_path):
    # Both copies look like the moved photo when the workers are fed; only the first one is (the
    # second must then be analysed): the parallel scan decides again when it records each photo.
    from faceme_core.faces.analyzer import create_analyzer
    from faceme_core.models.layout import ANTELOPEV2_DIRNAME
    from tests.support.tiny_insightface import build_tiny_antelopev2

    build_tiny_antelopev2(tmp_path / "models" / ANTELOPEV2_DIRNAME)
    analyzer = create_analyzer("insightface", models_dir=tmp_path / "models")
    serial, expected = _rescan_after_a_move_into_two_copies(tmp_path, "serial", analyzer, 1)
    assert pool_size(analyzer, 4, 2) == 2
    parallel, content = _rescan_after_a_move_into_two_copies(tmp_path, "parallel", analyzer, 2)
    assert (serial.moved, serial.added, serial.failed) == (parallel.moved, parallel.added, parallel.failed) == (1, 3, 0)
    assert content == expected
