"""`faceme align` / `faceme paste` protect the crops folder and report file-system problems in one line."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from faceme_core.cli.main import main
from faceme_core.faces import crops_io
from faceme_core.faces.crops_io import read_manifest
from faceme_core.imageio import load_photo

ALBUM = Path(__file__).parents[1] / "data" / "album"
PHOTO = ALBUM / "hepburn_portrait_lowres.jpg"


def run(capsys, *argv) -> tuple[int, str]:
    try:
        code = main([str(a) for a in argv])
    except SystemExit as exit_:  # argparse errors
        code = exit_.code
    return code, capsys.readouterr().err


def assert_one_line_error(code: int, err: str, command: str, *fragments: str) -> None:
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"faceme {command}: error:"), err
    for fragment in fragments:
        assert fragment in lines[0], err


@pytest.fixture(scope="module")
def aligned(tmp_path_factory) -> Path:
    """PHOTO aligned once per module (the dlib models load once); tests take a copy."""
    faces_dir = tmp_path_factory.mktemp("aligned") / "faces"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("FACEME_HOME", str(tmp_path_factory.mktemp("home")))
        patch.setenv("HF_HUB_OFFLINE", "1")
        assert main(["align", str(PHOTO), "--out-dir", str(faces_dir), "--backend", "dlib"]) == 0
    return faces_dir


@pytest.fixture
def faces_dir(aligned, tmp_path) -> Path:
    return Path(shutil.copytree(aligned, tmp_path / "faces"))


# ---- paste never writes into the crops folder -----------------------------------------------------


@pytest.mark.parametrize("name", ["face_01.png", "result.png", "sub/result.png"])
def test_paste_refuses_an_output_inside_the_crops_folder(capsys, faces_dir, name):
    crop = faces_dir / "face_01.png"
    before = crop.read_bytes()
    code, err = run(capsys, "paste", PHOTO, "--faces", faces_dir, "-o", faces_dir / name, "--overwrite")
    assert_one_line_error(code, err, "paste", "crops folder")
    assert crop.read_bytes() == before
    assert sorted(p.name for p in faces_dir.iterdir()) == ["face_01.png", "faces.json"]


def test_paste_refuses_an_output_that_is_a_crop_under_another_name(capsys, faces_dir, tmp_path):
    link = tmp_path / "linked.png"
    os.link(faces_dir / "face_01.png", link)
    before = link.read_bytes()
    code, err = run(capsys, "paste", PHOTO, "--faces", faces_dir, "-o", link, "--overwrite")
    assert_one_line_error(code, err, "paste", "face_01.png")
    assert link.read_bytes() == before


# ---- file-system errors are one line --------------------------------------------------------------


def test_align_into_a_folder_under_a_file(capsys, tmp_path):
    blocker = tmp_path / "foreign.jpg"
    blocker.write_bytes(b"not a folder")
    code, err = run(capsys, "align", PHOTO, "--out-dir", blocker / "sub", "--backend", "dlib")
    assert_one_line_error(code, err, "align", str(blocker / "sub"), "cannot create")


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs Linux /proc")
def test_align_into_a_folder_that_cannot_be_created(capsys):
    code, err = run(capsys, "align", PHOTO, "--out-dir", "/proc/faceme-test", "--backend", "dlib")
    assert_one_line_error(code, err, "align", "/proc/faceme-test", "cannot create")


def test_align_when_faces_json_cannot_be_written(capsys, tmp_path, monkeypatch):
    def full_disk(target, payload):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(crops_io, "write_atomically", full_disk)
    code, err = run(capsys, "align", PHOTO, "--out-dir", tmp_path / "faces", "--backend", "dlib")
    assert_one_line_error(code, err, "align", "faces.json", "No space left")


# ---- faces.json is written like every other output ------------------------------------------------


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
def test_faces_json_permissions_follow_the_umask(capsys, tmp_path):
    old = os.umask(0o022)
    try:
        code, err = run(capsys, "align", PHOTO, "--out-dir", tmp_path / "faces", "--backend", "dlib")
    finally:
        os.umask(old)
    assert code == 0, err
    json_path = tmp_path / "faces" / "faces.json"
    assert json_path.stat().st_mode & 0o777 == 0o644  # not mkstemp's private 0o600
    assert (tmp_path / "faces" / "face_01.png").stat().st_mode & 0o777 == 0o644
    assert read_manifest(tmp_path / "faces").faces
    assert sorted(p.name for p in (tmp_path / "faces").iterdir()) == ["face_01.png", "faces.json"]


@pytest.mark.parametrize(
    "argv",
    [
        ("align", PHOTO, "--out-dir", ""),
        ("align", "", "--out-dir", "x"),
        ("paste", PHOTO, "--faces", "", "-o", "out.png"),
        ("paste", PHOTO, "--faces", "x", "-o", ""),
    ],
)
def test_empty_path_arguments_are_refused(capsys, tmp_path, monkeypatch, argv):
    monkeypatch.chdir(tmp_path)
    code, err = run(capsys, *argv)
    assert code == 2
    assert len(err.strip().splitlines()) == 1 and "must not be empty" in err, err
    assert list(tmp_path.iterdir()) == []


# ---- transparent areas of an edited crop --------------------------------------------------------


def test_transparent_areas_of_an_edited_crop_leave_the_photo_unchanged(capsys, faces_dir, tmp_path):
    manifest = read_manifest(faces_dir)
    size = manifest.crop_size
    # An editor's result: the crop painted magenta, its left half erased to (black) transparency.
    rgba = np.zeros((size, size, 4), dtype=np.uint8)
    rgba[:, size // 2:] = (255, 0, 255, 255)
    Image.fromarray(rgba, "RGBA").save(faces_dir / "face_01.png")
    out = tmp_path / "out.png"
    code, err = run(capsys, "paste", PHOTO, "--faces", faces_dir, "-o", out)
    assert code == 0, err

    source, result = load_photo(PHOTO).pixels, load_photo(out).pixels
    height, width = source.shape[:2]
    ys, xs = np.mgrid[0:height, 0:width]
    matrix = manifest.faces[0].matrix
    crop_x = matrix[0, 0] * xs + matrix[0, 1] * ys + matrix[0, 2]
    crop_y = matrix[1, 0] * xs + matrix[1, 1] * ys + matrix[1, 2]
    inside = (crop_y > 0.2 * size) & (crop_y < 0.8 * size)  # well inside the mask's feathered border
    erased = inside & (crop_x > 0.2 * size) & (crop_x < size / 2 - 4)
    painted = inside & (crop_x > size / 2 + 4) & (crop_x < 0.8 * size)
    assert np.count_nonzero(erased) > 100 and np.count_nonzero(painted) > 100
    assert np.array_equal(result[erased], source[erased])
    magenta = (result[:, :, 0] > 200) & (result[:, :, 1] < 60) & (result[:, :, 2] > 200)
    assert np.mean(magenta[painted]) > 0.95


def test_align_interrupted_before_faces_json_finishes_when_run_again(capsys, aligned, tmp_path):
    """A full disk stopped align after the crops: they are FaceMe's and get replaced, not refused."""
    faces_dir = Path(shutil.copytree(aligned, tmp_path / "faces"))
    (faces_dir / "faces.json").unlink()
    code, err = run(capsys, "align", PHOTO, "--out-dir", faces_dir, "--backend", "dlib")
    assert code == 0, err
    assert read_manifest(faces_dir).faces[0].crop_file == "face_01.png"


def test_align_still_refuses_a_foreign_face_file_without_faces_json(capsys, tmp_path):
    faces_dir = tmp_path / "faces"
    faces_dir.mkdir()
    Image.new("RGB", (512, 512)).save(faces_dir / "face_01.png")  # not written by FaceMe
    code, err = run(capsys, "align", PHOTO, "--out-dir", faces_dir, "--backend", "dlib")
    assert_one_line_error(code, err, "align", "face_01.png", "already exists")


def test_align_numbers_faces_from_1_like_detect(capsys, tmp_path):
    code = main(["align", str(PHOTO), "--out-dir", str(tmp_path / "faces"), "--backend", "dlib"])
    out = capsys.readouterr().out
    assert code == 0 and "face_01.png  face 1 at" in out


@pytest.mark.parametrize("content", [
    "[" * 100_000 + "]" * 100_000,  # nested far deeper than Python's recursion limit
    '{"format": "faceme-aligned-faces", "version": ' + "9" * 5000 + "}",  # beyond int parsing's digit limit
])
def test_a_hostile_faces_json_is_a_one_line_error(capsys, faces_dir, tmp_path, content):
    (faces_dir / "faces.json").write_text(content)
    code, err = run(capsys, "paste", PHOTO, "--faces", faces_dir, "-o", tmp_path / "out.png")
    assert_one_line_error(code, err, "paste", "faces.json", "cannot be read as JSON")
