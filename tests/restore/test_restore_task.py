"""The restore-photos task: progress per denoising step, cancel between steps, nothing written on cancel,
a provenance sidecar beside each output."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest
from PIL import Image

from faceme_core.engine.options import RestoreOptions
from faceme_core.restore.photo_restore import FaceReport
from faceme_core.restore.plan import LeftFace
from faceme_core.restore.provenance import photo_record, read_sidecar, sidecar_path
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


def test_each_output_gets_a_provenance_sidecar_like_the_app_and_album_jobs(session, photos, tmp_path):
    out = tmp_path / "out"
    request = RestorePhotosRequest(photos=(photos[0],), references=(photos[0],), out_dir=out,
                                   options=RestoreOptions(steps=2, seed=7))
    [result] = restore_photos(request, session)

    record = read_sidecar(result.output)
    assert sidecar_path(result.output).parent == out and sorted(p.name for p in out.iterdir()) == [
        "two boys.png", "two boys.png.faceme.json"]  # the sidecar, no temporary file left
    assert record["input"] == str(photos[0]) and record["output"] == str(result.output)
    assert record["settings"]["steps"] == 2 and record["settings"]["seed"] == 7 and record["settings"]["upscale"] == 1
    [restored] = record["faces"]
    assert restored["mode"] == "references" and restored["references"] == [str(photos[0])]
    assert restored["seed"] == 7 and restored["steps"] == 2 and restored["identity_after"] is not None


def test_the_record_lists_restored_faces_then_those_left_as_they_were(session, photos):
    report = FaceReport(box=(1, 2, 3, 4), person=None, match_similarity=0.1, references=(), blind=True, steps=2,
                        model_evaluations=2, seconds=0.1, seed=5, identity_before=None, identity_after=None)
    left = LeftFace(box=(5, 6, 7, 8), reason="not the largest face (only the largest is restored)")
    record = photo_record(photos[0], Path("out.png"), RestoreOptions(), 2, (report,), (left,), ("ref.jpg",)).to_json()
    blind, untouched = record["faces"]
    assert (blind["index"], blind["mode"], blind["references"], blind["seed"]) == (0, "blind", [], 5)
    assert (untouched["index"], untouched["mode"], untouched["box"]) == (1, "untouched", (5.0, 6.0, 7.0, 8.0))
    assert "largest" in untouched["note"] and record["settings"]["upscale"] == 2


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
