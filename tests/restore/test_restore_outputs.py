"""`faceme restore` output checks that run before any model loads."""

from __future__ import annotations

import os
import threading

import pytest

from faceme_core.cli.main import main


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs are POSIX")
def test_restore_onto_a_fifo_is_refused_at_once(album_dir, tmp_path, capsys):
    fifo = tmp_path / "out.png"
    os.mkfifo(fifo)
    photo = album_dir / "two_boys.jpg"
    result: dict = {}
    thread = threading.Thread(
        target=lambda: result.update(code=main(["restore", str(photo), "--ref", str(photo), "-o", str(fifo), "--overwrite"])),
        daemon=True,
    )
    thread.start()
    thread.join(20)
    if thread.is_alive():
        os.close(os.open(fifo, os.O_RDWR | os.O_NONBLOCK))
        pytest.fail("restore hung on a FIFO output")
    err = capsys.readouterr().err
    assert result["code"] == 2 and "not a regular file" in err and "Traceback" not in err


def test_a_folder_given_as_a_photo_says_so(album_dir, tmp_path, capsys):
    code = main(["restore", str(album_dir), "--ref", str(album_dir / "two_boys.jpg"), "-o", str(tmp_path / "x.png")])
    err = capsys.readouterr().err
    assert code == 2 and "is a folder, not a photo" in err and "no such file" not in err


def test_restore_json_writes_a_json_error_when_it_fails(album_dir, tmp_path, capsys):
    import json

    code = main(["restore", str(tmp_path / "missing.jpg"), "--ref", str(album_dir / "two_boys.jpg"),
                 "-o", str(tmp_path / "x.png"), "--json"])
    captured = capsys.readouterr()
    report = json.loads(captured.out)
    assert code == 2 and report["photos"] == [] and "no such file" in report["error"]["message"]
    assert captured.err.count("\n") == 1  # the one-line error is still on stderr
