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
