"""A library path that cannot work (under a regular file, read-only): one line naming the library, no traceback."""

from __future__ import annotations

import os

import pytest

from faceme_core.cli.main import main
from faceme_core.errors import LibraryError
from faceme_core.library.library import Library


def test_a_library_path_under_a_regular_file(tmp_path, capsys):
    (tmp_path / "file").write_text("x")
    target = tmp_path / "file" / "lib.sqlite"
    with pytest.raises(LibraryError) as caught:
        Library.open(target)
    assert caught.value.setting == "library" and "cannot create its folder" in str(caught.value)
    assert main(["people", "list", "--library", str(target)]) == 2  # create=False: "no library there"
    assert main(["scan", str(tmp_path), "--library", str(target)]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and f"--library {target}: cannot create its folder" in err


def test_a_read_only_library_file(tmp_path, monkeypatch):
    path = tmp_path / "lib.sqlite"
    Library.open(path).close()
    real_access = os.access
    # Root ignores permission bits, so the file system's answer is simulated where it is asked.
    monkeypatch.setattr(os, "access", lambda p, mode, **kw: False if str(p) == str(path) else real_access(p, mode))
    with pytest.raises(LibraryError, match="read-only") as caught:
        Library.open(path)
    assert caught.value.setting == "library"


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="needs POSIX permissions, non-root")
def test_a_read_only_library_file_for_real(tmp_path, capsys):
    path = tmp_path / "lib.sqlite"
    Library.open(path).close()
    path.chmod(0o444)
    assert main(["people", "list", "--library", str(path)]) == 2
    assert "read-only" in capsys.readouterr().err
