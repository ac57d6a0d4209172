"""The restore-photos task: progress per denoising step, cancel between steps, nothing written on cancel."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest
from PIL import Image

from faceme_core.engine.options import RestoreOptions
from faceme_core.restore.session import RestoreSession
from faceme_core.tasks import Cancelled, CancelToken, TaskProgress
from faceme_core.tasks.restore_photos import RestorePhotosRequest, restore_photos


@pytest.fixture(scope="module")
def session(tiny_models) -> RestoreSession:
    return RestoreSession.open(tiny_models, device="cpu")


@pytest.fixture
def photos(tmp_path, album_dir) -> list[Path]:
    folder = tmp_path / "album"
    folder.mkdir()
    paths = [folder / "two boys.png", folder / "railing.png"]
    Image.open(album_dir / "two_boys.jpg").save(paths[0])
    Image.open(album_dir / "boy_at_railing_lowres.jpg").save(paths[1])
    return paths


def test_progress_reports_every_step_of_every_photo(session, photos, tmp_path):
    out = tmp_path / "out"
    events: list[TaskProgress] = []
    request = RestorePhotosRequest(photos=tuple(photos), references=(photos[0],), out_dir=out,
                                   options=RestoreOptions(steps=3, seed=1))
    results = restore_photos(request, session, progress=events.append)

    assert [r.ok for r in results] == [True, True] and all(r.output.is_file() for r in results)
    sampling = [e for e in events if e.stage == "sampling"]
    assert [e.done for e in sampling] == [1, 2, 3, 1, 2, 3] and {e.total for e in sampling} == {3}
    assert sampling[0].item == "two boys.png: face 1/1" and sampling[-1].eta_seconds == 0.0
    finished = [e for e in events if e.stage == "photos"]
    assert [(e.done, e.total) for e in finished] == [(1, 2), (2, 2)] and "railing.png ->" in finished[1].message


def test_cancel_mid_sampling_raises_cancelled_and_writes_nothing(session, photos, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    cancel = CancelToken()
    steps_seen: list[int] = []

    def progress(event: TaskProgress) -> None:
        if event.stage == "sampling":
            steps_seen.append(event.done)
            if event.done == 2:
                cancel.cancel()  # the user presses Cancel while step 2 of the first photo is shown

    request = RestorePhotosRequest(photos=tuple(photos), references=(photos[0],), out_dir=out,
                                   options=RestoreOptions(steps=6, seed=1))
    with pytest.raises(Cancelled):
        restore_photos(request, session, progress=progress, cancel=cancel)
    assert steps_seen == [1, 2]  # stopped between denoising steps, not at the end of the photo
    assert list(out.iterdir()) == []  # no output, no temporary file


def test_ctrl_c_cancels_a_cli_restore_and_exits_130_with_nothing_written(tiny_models, photos, tmp_path, capsys,
                                                                         monkeypatch):
    from faceme_core.cli import cmd_restore
    from faceme_core.cli.main import main

    monkeypatch.setenv("FACEME_MODELS", str(tiny_models))
    printer_call = cmd_restore.RestoreProgressPrinter.__call__

    def print_then_press_ctrl_c(self, event):
        printer_call(self, event)
        if event.stage == "sampling" and event.done == 1:
            os.kill(os.getpid(), signal.SIGINT)  # what the terminal sends on Ctrl+C

    monkeypatch.setattr(cmd_restore.RestoreProgressPrinter, "__call__", print_then_press_ctrl_c)
    out = tmp_path / "out"
    code = main(["restore", str(photos[0]), "--ref", str(photos[0]), "--out-dir", str(out), "--steps", "50"])
    err = capsys.readouterr().err
    assert code == 130 and "cancelled" in err, err
    assert "step 1/50" in err and "step 50/50" not in err  # stopped between steps
    assert not out.exists() or list(out.iterdir()) == []


def test_the_interrupt_handler_cancels_the_token_and_a_second_ctrl_c_stops_at_once():
    from faceme_core.cli.interrupt import cancel_on_interrupt

    before = signal.getsignal(signal.SIGINT)
    with cancel_on_interrupt(CancelToken()) as token:
        os.kill(os.getpid(), signal.SIGTERM)
        assert token.cancelled  # the task stops at its next safe point; nothing was interrupted mid-write
        with pytest.raises(KeyboardInterrupt):
            os.kill(os.getpid(), signal.SIGINT)  # pressed again: the user wants out now
    assert signal.getsignal(signal.SIGINT) is before
