"""Which files a scan considers: supported photos, minus hidden, system and FaceMe output folders."""

from __future__ import annotations

import os

import pytest

from faceme_core.imageio import SUPPORTED_SUFFIXES
from faceme_core.library.walk import OUTPUT_MARKER, WalkProblem, walk_photos


def _touch(path, data=b"x"):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def _found(root, **kwargs) -> list[str]:
    return [os.path.relpath(entry.path, root) for entry in walk_photos(str(root), SUPPORTED_SUFFIXES, **kwargs)]


def test_finds_supported_photos_recursively_in_a_stable_order(tmp_path):
    for name in ("b.jpg", "a.PNG", "2001/summer/c.jpeg", "notes.txt", "2001/d.tif"):
        _touch(tmp_path / name)
    # A folder's files first, then its subfolders, names sorted: the same order on every run.
    assert _found(tmp_path) == ["a.PNG", "b.jpg", "2001/d.tif", "2001/summer/c.jpeg"]
    entry = next(walk_photos(str(tmp_path), SUPPORTED_SUFFIXES))
    assert entry.size == 1 and entry.mtime_ns == os.stat(entry.path).st_mtime_ns


def test_skips_hidden_system_and_output_folders(tmp_path):
    for name in (
        "keep.jpg",
        ".hidden.jpg",
        ".thumbnails/t.jpg",
        "@eaDir/x.jpg",
        "$RECYCLE.BIN/y.jpg",
        "restored/out.jpg",
        "listed/z.jpg",
    ):
        _touch(tmp_path / name)
    _touch(tmp_path / "restored" / OUTPUT_MARKER)
    assert _found(tmp_path, skip_dirs=[str(tmp_path / "listed")]) == ["keep.jpg"]


@pytest.mark.skipif(os.name == "nt", reason="symlinks need privileges on Windows")
def test_symlink_loops_end_and_linked_folders_are_walked_once(tmp_path):
    _touch(tmp_path / "album" / "a.jpg")
    (tmp_path / "album" / "loop").symlink_to(tmp_path / "album", target_is_directory=True)
    (tmp_path / "album" / "dangling.jpg").symlink_to(tmp_path / "gone.jpg")
    problems: list[WalkProblem] = []
    assert _found(tmp_path / "album", problems=problems) == ["a.jpg"]
    assert [os.path.basename(p.path) for p in problems] == ["dangling.jpg"]


@pytest.mark.skipif(os.name == "nt" or os.geteuid() == 0, reason="root reads every folder")
def test_unreadable_folder_is_reported_and_the_walk_goes_on(tmp_path):
    _touch(tmp_path / "a.jpg")
    _touch(tmp_path / "locked" / "b.jpg")
    (tmp_path / "locked").chmod(0)
    try:
        problems: list[WalkProblem] = []
        assert _found(tmp_path, problems=problems) == ["a.jpg"]
        assert problems and problems[0].path.endswith("locked")
    finally:
        (tmp_path / "locked").chmod(0o755)


def test_a_folder_named_thumbs_is_an_ordinary_album_folder(tmp_path):
    # Windows' thumbnail cache is a hidden Thumbs.db *file*; a folder of that name is the user's.
    _touch(tmp_path / "Thumbs" / "a.jpg")
    assert _found(tmp_path) == ["Thumbs/a.jpg"]


def test_out_dir_spelled_in_another_case_is_recognised_on_a_case_insensitive_volume(tmp_path):
    from faceme_core.errors import LibraryError
    from faceme_core.library.jobs import check_out_dir

    album = tmp_path / "Album"
    album.mkdir()
    if not (tmp_path / "ALBUM").exists():
        pytest.skip("this volume tells letter case apart (macOS and Windows volumes do not)")
    with pytest.raises(LibraryError, match="inside the album folder"):
        check_out_dir(tmp_path / "ALBUM" / "restored", [str(album)])


def test_a_file_name_that_is_not_utf8_is_reported_not_fatal(tmp_path):
    """Old archives hold Latin-1 names; the library stores UTF-8 paths, so such files are reported."""
    import os

    from faceme_core.library.walk import NON_UTF8_NAME, walk_photos

    root = tmp_path / "album"
    root.mkdir()
    (root / "good.jpg").write_bytes(b"x")
    bad = os.path.join(os.fsencode(root), b"caf\xe9.jpg")
    with open(bad, "wb") as handle:
        handle.write(b"x")
    problems: list[WalkProblem] = []
    found = [os.path.basename(entry.path) for entry in walk_photos(str(root), {".jpg"}, problems=problems)]
    assert found == ["good.jpg"]
    assert [(os.path.basename(p.path), p.error) for p in problems] == [(os.fsdecode(b"caf\xe9.jpg"), NON_UTF8_NAME)]
