"""`faceme paste` outputs: an existing OUT (even an earlier paste) needs --overwrite; a FIFO never hangs."""

from __future__ import annotations

import os
import threading

import pytest

from faceme_core.cli.main import main

from tests.faces_paste.test_cli_safety import PHOTO, aligned, faces_dir  # noqa: F401 (shared fixtures)


def run(capsys, *argv) -> tuple[int, str]:
    code = main([str(a) for a in argv])
    return code, capsys.readouterr().err


def test_paste_refuses_its_own_earlier_output_without_overwrite(capsys, faces_dir, tmp_path):
    out = tmp_path / "out.png"
    assert run(capsys, "paste", PHOTO, "--faces", faces_dir, "-o", out)[0] == 0
    first = out.read_bytes()
    code, err = run(capsys, "paste", PHOTO, "--faces", faces_dir, "-o", out)
    assert code == 2 and "already exists" in err and "--overwrite" in err
    assert out.read_bytes() == first
    assert run(capsys, "paste", PHOTO, "--faces", faces_dir, "-o", out, "--overwrite")[0] == 0


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs are POSIX")
def test_paste_onto_a_fifo_is_refused_without_hanging(capsys, faces_dir, tmp_path):
    fifo = tmp_path / "out.png"
    os.mkfifo(fifo)
    result: dict = {}
    thread = threading.Thread(
        target=lambda: result.update(code=main(["paste", str(PHOTO), "--faces", str(faces_dir), "-o", str(fifo),
                                                "--overwrite"])), daemon=True)
    thread.start()
    thread.join(20)
    if thread.is_alive():
        os.close(os.open(fifo, os.O_RDWR | os.O_NONBLOCK))
        pytest.fail("paste hung on a FIFO output")
    err = capsys.readouterr().err
    assert result["code"] == 2 and "not a regular file" in err
