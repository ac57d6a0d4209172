"""`faceme align` then `faceme paste`, in-process, on album photos and 16-bit / gray / RGBA variants."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from faceme_core.cli.main import main
from faceme_core.faces.align import FFHQ_TEMPLATE_512, align_face, estimate_similarity
from faceme_core.faces.crops_io import load_restored_faces, read_manifest
from faceme_core.faces.paste import paste_faces
from faceme_core.imageio import load_photo
from tests.faces_paste.synthetic import psnr

ALBUM = Path(__file__).parents[1] / "data" / "album"


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def align_and_paste(capsys, photo: Path, tmp_path: Path, *extra: str) -> tuple[Path, Path]:
    faces_dir, out = tmp_path / "faces", tmp_path / "out.png"
    code, _, err = run(capsys, "align", photo, "--out-dir", faces_dir, "--backend", "dlib")
    assert code == 0, err
    code, _, err = run(capsys, "paste", photo, "--faces", faces_dir, "-o", out, *extra)
    assert code == 0, err
    return faces_dir, out


def masks_of(faces_dir: Path, pixels: np.ndarray, upscale: int = 1) -> np.ndarray:
    """Where faceme paste may change pixels: the union mask of the faces in faces_dir."""
    faces = load_restored_faces(read_manifest(faces_dir), faces_dir)
    return paste_faces(pixels, faces, upscale=upscale).mask


def assert_round_trip(source: np.ndarray, result: np.ndarray, mask: np.ndarray, peak: float) -> None:
    outside = mask == 0
    assert 0 < np.count_nonzero(~outside) < outside.size
    assert np.array_equal(result[outside], source[outside])
    assert psnr(result, source, peak) >= 35.0


@pytest.fixture
def one_face_photo(album_dir: Path) -> Path:
    return album_dir / "hepburn_portrait_lowres.jpg"


def _aligned_once(tmp_path_factory, photo: Path) -> Path:
    """Align once per module (each run loads the dlib models); tests that edit it take a copy."""
    home = tmp_path_factory.mktemp("home")
    faces_dir = tmp_path_factory.mktemp("aligned") / "faces"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("FACEME_HOME", str(home))
        patch.setenv("HF_HUB_OFFLINE", "1")
        assert main(["align", str(photo), "--out-dir", str(faces_dir), "--backend", "dlib"]) == 0
    return faces_dir


@pytest.fixture(scope="module")
def two_boys_faces(tmp_path_factory) -> Path:
    return _aligned_once(tmp_path_factory, ALBUM / "two_boys.jpg")


@pytest.fixture(scope="module")
def one_face_faces(tmp_path_factory) -> Path:
    return _aligned_once(tmp_path_factory, ALBUM / "hepburn_portrait_lowres.jpg")


@pytest.fixture
def one_face_copy(one_face_faces, tmp_path) -> Path:
    return Path(shutil.copytree(one_face_faces, tmp_path / "faces"))


# ---- align ----------------------------------------------------------------------------------------


def test_align_writes_crops_and_faces_json(capsys, album_dir, tmp_path):
    photo = album_dir / "two_boys.jpg"
    code, out, _ = run(capsys, "align", photo, "--out-dir", tmp_path / "faces", "--backend", "dlib")
    assert code == 0
    data = json.loads((tmp_path / "faces" / "faces.json").read_text())
    assert data["photo"]["size_wh"] == [726, 838] and Path(data["photo"]["path"]) == photo.resolve()
    assert [face["crop"] for face in data["faces"]] == ["face_01.png", "face_02.png"]
    pixels = load_photo(photo).pixels
    for face in data["faces"]:
        with Image.open(tmp_path / "faces" / face["crop"]) as crop:
            assert crop.size == (512, 512) and crop.mode == "RGB"
            crop_pixels = np.asarray(crop)
        matrix, points = np.array(face["matrix"]), np.array(face["points"])
        assert len(face["box"]) == 4
        # The stored matrix is the alignment of the stored points, and the crop is that alignment.
        np.testing.assert_allclose(matrix, estimate_similarity(points, FFHQ_TEMPLATE_512), atol=1e-9)
        assert np.array_equal(crop_pixels, align_face(pixels, points).crop)
    assert "face_01.png" in out


def test_align_never_overwrites_foreign_files(capsys, one_face_photo, tmp_path):
    faces_dir = tmp_path / "faces"
    faces_dir.mkdir()
    foreign = faces_dir / "face_01.png"
    Image.new("RGB", (8, 8), "red").save(foreign)
    code, _, err = run(capsys, "align", one_face_photo, "--out-dir", faces_dir, "--backend", "dlib")
    assert code == 2 and "face_01.png" in err and len(err.strip().splitlines()) == 1
    assert Image.open(foreign).size == (8, 8) and not (faces_dir / "faces.json").exists()


def test_align_replaces_its_own_output_but_not_edited_crops(capsys, one_face_photo, one_face_copy):
    crop = one_face_copy / "face_01.png"
    code, _, err = run(capsys, "align", one_face_photo, "--out-dir", one_face_copy, "--backend", "dlib")
    assert code == 0, err
    with Image.open(crop) as image:
        edited = image.copy()
    edited.putpixel((0, 0), (1, 2, 3))
    edited.save(crop)
    code, _, err = run(capsys, "align", one_face_photo, "--out-dir", one_face_copy, "--backend", "dlib")
    assert code == 2 and "edited" in err
    assert Image.open(crop).getpixel((0, 0)) == (1, 2, 3)


# ---- round trips --------------------------------------------------------------------------------


@pytest.mark.parametrize("upscale", [1, 2])
def test_cli_round_trip_on_an_album_photo(capsys, album_dir, two_boys_faces, tmp_path, upscale):
    photo, out = album_dir / "two_boys.jpg", tmp_path / "out.png"
    code, _, err = run(capsys, "paste", photo, "--faces", two_boys_faces, "-o", out, "--upscale", upscale)
    assert code == 0, err
    source = load_photo(photo).pixels
    result = load_photo(out).pixels
    assert result.shape == (838 * upscale, 726 * upscale, 3)
    mask = masks_of(two_boys_faces, source, upscale)
    if upscale == 2:
        source = cv2.resize(source, None, fx=2, fy=2, interpolation=cv2.INTER_LANCZOS4)
    assert_round_trip(source, result, mask, 255)


def _variant(kind: str, rgb: np.ndarray, path: Path) -> Path:
    """Write a 16-bit, gray or RGBA copy of ``rgb`` as PNG."""
    if kind == "16bit":
        noise = np.random.default_rng(0).integers(0, 257, rgb.shape)
        cv2.imwrite(str(path), (rgb.astype(np.uint16) * 257 + noise).astype(np.uint16)[:, :, ::-1])
    elif kind == "gray":
        Image.fromarray(rgb).convert("L").save(path)
    else:
        alpha = np.tile(np.linspace(0, 255, rgb.shape[1]).astype(np.uint8), (rgb.shape[0], 1))
        Image.fromarray(np.dstack([rgb, alpha]), "RGBA").save(path)
    return path


@pytest.mark.parametrize("kind", ["16bit", "gray", "rgba"])
def test_cli_round_trip_keeps_the_format(capsys, one_face_photo, tmp_path, kind):
    photo = _variant(kind, load_photo(one_face_photo).pixels, tmp_path / f"{kind}.png")
    faces_dir, out = align_and_paste(capsys, photo, tmp_path)
    source, result = load_photo(photo), load_photo(out)
    peak = 65535 if kind == "16bit" else 255
    assert result.pixels.dtype == source.pixels.dtype
    assert_round_trip(source.pixels, result.pixels, masks_of(faces_dir, source.pixels), peak)
    crop = cv2.imread(str(faces_dir / "face_01.png"), cv2.IMREAD_UNCHANGED)
    if kind == "16bit":
        assert crop.dtype == np.uint16 and crop.shape == (512, 512, 3)
    if kind == "gray":
        assert result.is_gray and Image.open(out).mode == "L"
    if kind == "rgba":
        assert np.array_equal(result.alpha, source.alpha)


def test_an_edited_crop_changes_only_its_face(capsys, album_dir, two_boys_faces, tmp_path):
    photo = album_dir / "two_boys.jpg"
    faces_dir = Path(shutil.copytree(two_boys_faces, tmp_path / "faces"))
    assert run(capsys, "paste", photo, "--faces", faces_dir, "-o", tmp_path / "unedited.png")[0] == 0
    with Image.open(faces_dir / "face_02.png") as crop:
        painted = np.asarray(crop.convert("RGB")).copy()
    painted[200:330, 150:360] = (255, 0, 255)  # over the eyes and nose, as a user's retouch
    Image.fromarray(painted).save(faces_dir / "face_02.png")
    code, _, err = run(capsys, "paste", photo, "--faces", faces_dir, "-o", tmp_path / "edited.png")
    assert code == 0, err

    unedited, edited = load_photo(tmp_path / "unedited.png").pixels, load_photo(tmp_path / "edited.png").pixels
    faces = load_restored_faces(read_manifest(faces_dir), faces_dir)
    face_01 = paste_faces(unedited, faces[1:]).mask
    changed = np.any(edited != unedited, axis=2)
    assert np.all(face_01[changed] > 0)  # the edit reached nothing outside face 1's mask
    magenta = (edited[:, :, 0] > 200) & (edited[:, :, 1] < 60) & (edited[:, :, 2] > 200)
    assert np.count_nonzero(magenta) > 1000 and np.all(face_01[magenta] > 0)


# ---- bad input ----------------------------------------------------------------------------------


def _assert_one_line_error(code: int, err: str, *fragments: str) -> None:
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("faceme paste: error:"), err
    for fragment in fragments:
        assert fragment in lines[0]


def test_paste_without_faces_json(capsys, one_face_photo, tmp_path):
    (tmp_path / "faces").mkdir()
    code, _, err = run(capsys, "paste", one_face_photo, "--faces", tmp_path / "faces", "-o", tmp_path / "o.png")
    _assert_one_line_error(code, err, "faces.json", "missing")
    assert not (tmp_path / "o.png").exists()


def test_paste_refuses_a_resized_crop(capsys, one_face_copy, one_face_photo, tmp_path):
    faces_dir = one_face_copy
    with Image.open(faces_dir / "face_01.png") as crop:
        crop.resize((256, 256)).save(faces_dir / "face_01.png")
    code, _, err = run(capsys, "paste", one_face_photo, "--faces", faces_dir, "-o", tmp_path / "o.png")
    _assert_one_line_error(code, err, "face_01.png", "256x256", "512x512")


def test_paste_refuses_a_missing_crop(capsys, one_face_copy, one_face_photo, tmp_path):
    faces_dir = one_face_copy
    (faces_dir / "face_01.png").unlink()
    code, _, err = run(capsys, "paste", one_face_photo, "--faces", faces_dir, "-o", tmp_path / "o.png")
    _assert_one_line_error(code, err, "face_01.png", "missing")


def test_paste_refuses_faces_of_another_photo(capsys, one_face_copy, album_dir, one_face_photo, tmp_path):
    faces_dir = one_face_copy
    other = album_dir / "film_still_two.jpg"
    code, _, err = run(capsys, "paste", other, "--faces", faces_dir, "-o", tmp_path / "o.png")
    _assert_one_line_error(code, err, "faces.json", "225x225", "400x225")

    # Same size, different pixels: caught by the pixel hash.
    same_size = tmp_path / "same_size.png"
    pixels = load_photo(one_face_photo).pixels.copy()
    pixels[0, 0] ^= 1
    Image.fromarray(pixels).save(same_size)
    code, _, err = run(capsys, "paste", same_size, "--faces", faces_dir, "-o", tmp_path / "o.png")
    _assert_one_line_error(code, err, "another photo")


def test_paste_never_writes_over_its_input(capsys, one_face_copy, one_face_photo, tmp_path):
    photo = tmp_path / "photo.png"
    Image.open(one_face_photo).save(photo)
    before = photo.read_bytes()
    code, _, err = run(capsys, "paste", photo, "--faces", one_face_copy, "-o", photo, "--overwrite")
    _assert_one_line_error(code, err, "input")
    assert photo.read_bytes() == before
