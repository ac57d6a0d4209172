"""save_photo never destroys anything: not the input, not foreign files, not on a failed write."""

from __future__ import annotations

import os
from dataclasses import replace

import numpy as np
import pytest
from PIL import Image

from faceme_core.errors import ImageSaveError
from faceme_core.image_types import Photo
from faceme_core.imageio import is_faceme_output, load_photo, save_photo
from faceme_core.imageio import save as save_module
from tests.io.helpers import gradient_rgb, noise, write_pil


def _photo(tmp_path) -> Photo:
    return load_photo(write_pil(tmp_path / "original.png", gradient_rgb()))


def _listing(folder):
    return sorted(p.name for p in folder.iterdir())


def test_refuses_to_overwrite_the_input_even_with_overwrite(tmp_path):
    photo = _photo(tmp_path)
    before = photo.path.read_bytes()
    for overwrite in (False, True):
        with pytest.raises(ImageSaveError, match="original photo"):
            save_photo(photo.with_pixels(255 - photo.pixels), photo.path, overwrite=overwrite)
    # The same file through another spelling of its path, and through a hard link.
    with pytest.raises(ImageSaveError, match="original photo"):
        save_photo(photo, tmp_path / "." / "original.png", overwrite=True)
    os.link(photo.path, tmp_path / "linked.png")
    with pytest.raises(ImageSaveError, match="original photo"):
        save_photo(photo, tmp_path / "linked.png", overwrite=True)
    assert photo.path.read_bytes() == before


def test_refuses_foreign_file_unless_overwrite(tmp_path):
    photo = _photo(tmp_path)
    foreign = write_pil(tmp_path / "holiday.png", noise((20, 20, 3)))
    before = foreign.read_bytes()
    assert not is_faceme_output(foreign)
    with pytest.raises(ImageSaveError, match="did not write") as info:
        save_photo(photo, foreign)
    assert str(foreign) in str(info.value)
    assert foreign.read_bytes() == before
    save_photo(photo, foreign, overwrite=True)
    assert foreign.read_bytes() != before
    assert is_faceme_output(foreign)


@pytest.mark.parametrize("suffix", [".jpg", ".png", ".tif", ".webp", ".bmp"])
def test_own_outputs_are_marked_and_may_be_replaced(tmp_path, suffix):
    photo = _photo(tmp_path)
    target = tmp_path / "out" / f"restored{suffix}"
    save_photo(photo, target)
    assert is_faceme_output(target)
    save_photo(photo.with_pixels(255 - photo.pixels), target)  # a re-run into the same folder
    assert np.abs(load_photo(target).pixels.astype(int) - (255 - photo.pixels)).max() <= 16
    # A foreign file of the same format is not mistaken for ours.
    foreign = write_pil(tmp_path / f"foreign{suffix}", gradient_rgb())
    assert not is_faceme_output(foreign)


def test_deep_outputs_are_marked(tmp_path):
    photo = _photo(tmp_path)
    deep = photo.with_pixels(photo.pixels.astype(np.uint16) * 257)
    for suffix in (".png", ".tif"):
        target = save_photo(deep, tmp_path / f"deep{suffix}")
        assert is_faceme_output(target)
        with Image.open(target) as im:
            assert im.getexif()[0x0131].startswith("FaceMe Desktop")


def test_is_faceme_output_never_raises(tmp_path):
    assert not is_faceme_output(tmp_path / "missing.png")
    assert not is_faceme_output(tmp_path)
    text = tmp_path / "notes.png"
    text.write_text("hello")
    assert not is_faceme_output(text)


def test_creates_missing_output_folders(tmp_path):
    target = tmp_path / "Restored" / "Großmutter" / "фото 1.jpg"
    assert save_photo(_photo(tmp_path), target) == target
    assert target.is_file()
    assert load_photo(target).size_wh == (64, 48)


def test_parent_that_is_a_file_is_a_clear_error(tmp_path):
    (tmp_path / "blocker").write_text("x")
    with pytest.raises(ImageSaveError, match="could not write"):
        save_photo(_photo(tmp_path), tmp_path / "blocker" / "out.png")


def test_bad_suffix_and_quality(tmp_path):
    photo = _photo(tmp_path)
    with pytest.raises(ImageSaveError, match=r"\.gif"):
        save_photo(photo, tmp_path / "out.gif")
    with pytest.raises(ImageSaveError, match="without suffix"):
        save_photo(photo, tmp_path / "out")
    with pytest.raises(ImageSaveError, match="quality"):
        save_photo(photo, tmp_path / "out.jpg", quality=0)
    assert _listing(tmp_path) == ["original.png"]


def test_quality_changes_jpeg_size(tmp_path):
    photo = load_photo(write_pil(tmp_path / "n.png", noise((64, 64, 3))))
    small = save_photo(photo, tmp_path / "q30.jpg", quality=30).stat().st_size
    large = save_photo(photo, tmp_path / "q95.jpg", quality=95).stat().st_size
    assert small < large


def test_target_folder_is_refused(tmp_path):
    (tmp_path / "out.png").mkdir()
    with pytest.raises(ImageSaveError, match="folder"):
        save_photo(_photo(tmp_path), tmp_path / "out.png", overwrite=True)


def test_failing_encode_leaves_nothing_and_keeps_existing_target(tmp_path, monkeypatch):
    photo = _photo(tmp_path)
    target = save_photo(photo, tmp_path / "out.jpg")
    before = target.read_bytes()

    def broken_save(self, fp, *args, **kwargs):
        fp.write(b"\xff\xd8 half a JPEG")
        raise OSError("encoder exploded")

    monkeypatch.setattr(Image.Image, "save", broken_save)
    with pytest.raises(ImageSaveError, match="encoder exploded"):
        save_photo(photo.with_pixels(255 - photo.pixels), target)
    assert target.read_bytes() == before
    assert _listing(tmp_path) == ["original.png", "out.jpg"]


def test_failing_write_removes_temp_file_and_keeps_existing_target(tmp_path, monkeypatch):
    photo = _photo(tmp_path)
    target = save_photo(photo, tmp_path / "out.png")
    before = target.read_bytes()
    seen = []

    def failing_replace(src, dst):
        seen.append(os.path.basename(src))
        assert os.path.getsize(src) > 0  # the temp file was fully written next to the target
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(save_module.os, "replace", failing_replace)
    with pytest.raises(ImageSaveError, match="No space left"):
        save_photo(photo.with_pixels(255 - photo.pixels), target)
    assert seen and seen[0].startswith(".out.png.")
    assert target.read_bytes() == before
    assert _listing(tmp_path) == ["original.png", "out.png"]


def test_failing_write_of_new_file_leaves_no_partial_output(tmp_path, monkeypatch):
    photo = _photo(tmp_path)

    def failing_fsync(fd):
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(save_module.os, "fsync", failing_fsync)
    with pytest.raises(ImageSaveError, match="Input/output error"):
        save_photo(photo, tmp_path / "new.png")
    assert _listing(tmp_path) == ["original.png"]


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
def test_output_permissions_follow_umask(tmp_path):
    old = os.umask(0o022)
    try:
        target = save_photo(_photo(tmp_path), tmp_path / "out.png")
    finally:
        os.umask(old)
    assert target.stat().st_mode & 0o777 == 0o644  # not mkstemp's private 0o600


def test_malformed_photo_is_a_programming_error(tmp_path):
    photo = _photo(tmp_path)
    with pytest.raises(ValueError, match="pixels"):
        save_photo(replace(photo, pixels=photo.pixels[:, :, 0]), tmp_path / "x.png")
    with pytest.raises(ValueError, match="alpha"):
        save_photo(replace(photo, alpha=np.zeros((3, 3), np.uint8)), tmp_path / "x.png")


def test_gray_output_is_luma_when_colour_was_added(tmp_path):
    gray = load_photo(write_pil(tmp_path / "bw.png", gradient_rgb()[:, :, 0]))
    coloured = gray.pixels.copy()
    coloured[:, :, 0] = 255  # e.g. a restored face pasted in colour
    out = save_photo(gray.with_pixels(coloured), tmp_path / "bw_out.png")
    with Image.open(out) as im:
        assert im.mode == "L"
        expected = np.asarray(Image.fromarray(coloured).convert("L")).astype(int)
        assert np.abs(np.asarray(im).astype(int) - expected).max() <= 1


def test_alpha_16bit_on_8bit_output(tmp_path):
    rgba = np.dstack([gradient_rgb(dtype=np.uint16), noise((48, 64), np.uint16, seed=9)])
    photo = Photo(pixels=rgba[:, :, :3].copy(), alpha=rgba[:, :, 3].copy())
    out = save_photo(photo, tmp_path / "out.webp", quality=100)
    again = load_photo(out)
    assert again.pixels.dtype == np.uint8
    assert np.abs(again.alpha.astype(int) - (rgba[:, :, 3] / 257).round()).max() <= 1
