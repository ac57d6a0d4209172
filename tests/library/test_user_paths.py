"""Paths a user gives the library commands: names that are not UTF-8, folders where a file is expected."""

from __future__ import annotations

import os
import shutil
import sys

import pytest


pytestmark = pytest.mark.skipif(sys.platform in ("darwin", "win32"), reason="needs a file system taking any bytes")


def _non_utf8(tmp_path, small_album):
    folder = os.fsdecode(os.fsencode(str(tmp_path)) + b"/alb\xff")
    os.mkdir(folder)
    photo = os.path.join(folder, os.fsdecode(b"p\xfe.jpg"))
    shutil.copy(small_album / "two_boys.jpg", photo)
    return folder, photo


def _one_line_error(code, err, *fragments):
    assert code == 2 and "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    for fragment in fragments:
        assert fragment in err, err


def test_non_utf8_names_are_one_line_errors(cli, small_album, tmp_path):
    folder, photo = _non_utf8(tmp_path, small_album)
    _one_line_error(*cli("scan", folder)[::2], "not valid UTF-8", "rename it")
    assert cli("scan", small_album)[0] == 0
    bad_out = os.fsdecode(os.fsencode(str(tmp_path)) + b"/out\xff")
    _one_line_error(*cli("restore-album", "--out-dir", bad_out)[::2], "--out-dir", "not valid UTF-8")
    _one_line_error(*cli("restore-album", "--photo", photo, "--out-dir", tmp_path / "out")[::2],
                    "--photo", "not valid UTF-8")
    _one_line_error(*cli("refs", "add", "1", "--file", photo)[::2], "--file", "not valid UTF-8")


def test_a_folder_given_as_a_reference_file_says_so(cli, small_album):
    assert cli("scan", small_album)[0] == 0
    _one_line_error(*cli("refs", "add", "1", "--file", small_album)[::2], "is a folder, not an image file")
