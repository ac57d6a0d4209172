"""Output paths that must not hang or fail: FIFOs and other special files, names near the length limit."""

from __future__ import annotations

import os
import threading

import numpy as np
import pytest

from faceme_core.errors import ImageSaveError
from faceme_core.image_types import Photo
from faceme_core.imageio import is_faceme_output, save_photo
from faceme_core.imageio.atomic import NAME_MAX, temp_name

pytestmark = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs are POSIX")


def _photo() -> Photo:
    return Photo(pixels=np.full((8, 8, 3), 100, np.uint8))


def _within(seconds: float, fn):
    """Run ``fn`` in a thread; fail (instead of hanging the suite) if it blocks."""
    outcome: dict = {}

    def target():
        try:
            outcome["value"] = fn()
        except BaseException as error:  # noqa: BLE001 - handed to the test
            outcome["error"] = error

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(seconds)
    if thread.is_alive():
        pytest.fail(f"blocked for more than {seconds} s")
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("value")


def _unblock(fifo):
    """Opening the FIFO's other end frees a thread stuck in open(); harmless otherwise."""
    try:
        fd = os.open(fifo, os.O_RDWR | os.O_NONBLOCK)
        os.close(fd)
    except OSError:
        pass


def test_is_faceme_output_never_opens_a_fifo_for_long(tmp_path):
    fifo = tmp_path / "out.png"
    os.mkfifo(fifo)
    try:
        assert _within(5, lambda: is_faceme_output(fifo)) is False
    finally:
        _unblock(fifo)


@pytest.mark.parametrize("overwrite", [False, True])
def test_saving_onto_a_fifo_is_refused_at_once(tmp_path, overwrite):
    fifo = tmp_path / "out.png"
    os.mkfifo(fifo)
    try:
        with pytest.raises(ImageSaveError, match="not a regular file"):
            _within(5, lambda: save_photo(_photo(), fifo, overwrite=overwrite))
    finally:
        _unblock(fifo)
    assert not fifo.is_file()


def test_a_name_near_the_length_limit_can_be_written(tmp_path):
    name = "a" * (NAME_MAX - 4) + ".png"  # 255 bytes: the longest name there is
    written = save_photo(_photo(), tmp_path / name)
    assert written.is_file() and [p.name for p in tmp_path.iterdir()] == [name]


def test_temp_names_fit_and_never_cut_a_character(tmp_path):
    for name in ("x.png", "é" * 120 + ".png", "a" * 240 + ".jpg"):
        temp = temp_name(name, "0123abcd")
        assert len(os.fsencode(temp)) <= NAME_MAX
        temp.encode("utf-8")  # whole characters only
        (tmp_path / temp).write_bytes(b"")  # the file system takes it


def test_replace_own_false_refuses_even_our_own_output(tmp_path):
    out = tmp_path / "out.png"
    save_photo(_photo(), out)
    save_photo(_photo(), out)  # default: a re-run replaces its own output
    with pytest.raises(ImageSaveError, match="already exists") as caught:
        save_photo(_photo(), out, replace_own=False)
    assert caught.value.setting == "overwrite"
    save_photo(_photo(), out, replace_own=False, overwrite=True)
