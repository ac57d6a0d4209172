"""One photo restored as set up in the app: per-face modes, re-run of one face, save with a sidecar,
cancel, and out-of-memory as a plain error (tiny models)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from faceme_core.engine.options import RestoreOptions
from faceme_core.errors import FaceMeError, ImageSaveError
from faceme_core.imageio import load_photo
from faceme_core.library.library import Library
from faceme_core.restore.memory import OutOfMemoryError
from faceme_core.restore.photo_setup import prepare_photo, set_mode, setup_warnings
from faceme_core.restore.provenance import read_sidecar, sidecar_path
from faceme_core.restore.session import RestoreSession
from faceme_core.tasks import Cancelled, CancelToken
from faceme_core.tasks.restore_setup import rerun_face, restore_setup, save_result

OPTIONS = RestoreOptions(steps=2, seed=3)


@pytest.fixture(scope="module")
def session(tiny_models) -> RestoreSession:
    return RestoreSession.open(tiny_models, device="cpu")


@pytest.fixture
def library(tmp_path):
    with Library.open(tmp_path / "lib.sqlite") as lib:
        yield lib


@pytest.fixture
def photo(tmp_path, album_dir) -> Path:
    path = tmp_path / "photos" / "boys.png"
    path.parent.mkdir()
    Image.open(album_dir / "two_boys.jpg").convert("RGB").resize((320, 240)).save(path)
    return path


def two_faces(setup):
    """The detected face plus a second, made-up face in the top-left corner left untouched."""
    [face] = setup.faces
    corner = replace(face, index=1, box=(2.0, 2.0, 42.0, 42.0),
                     points=((12.0, 15.0), (30.0, 15.0), (21.0, 24.0), (14.0, 33.0), (28.0, 33.0)), mode="untouched")
    return replace(setup, faces=(face, corner))


def test_a_photo_outside_the_library_is_analysed_and_unknown_faces_restore_blind(library, photo, session):
    setup = prepare_photo(library, photo, session.analyzer)
    assert setup.photo_id is None and len(setup.faces) == 1
    [face] = setup.faces
    assert (face.person_id, face.assigned, face.mode, face.too_small) == (None, None, "blind", None)
    with pytest.raises(FaceMeError, match="no references"):
        set_mode(setup, 0, "references")
    assert setup_warnings(set_mode(setup, 0, "untouched"))[-1].text.startswith("No face is set to be restored")


def test_untouched_faces_keep_their_pixels_and_a_rerun_redoes_only_its_face(library, photo, session, tmp_path):
    setup = two_faces(prepare_photo(library, photo, session.analyzer))
    result = restore_setup(setup, session, OPTIONS)
    original = load_photo(photo).pixels
    assert [f.choice.index for f in result.faces] == [0]
    assert np.array_equal(result.photo.pixels[0:45, 0:45], original[0:45, 0:45])  # the untouched face
    x0, y0, x1, y1 = (int(v) for v in setup.faces[0].box)
    assert not np.array_equal(result.photo.pixels[y0:y1, x0:x1], original[y0:y1, x0:x1])

    again = rerun_face(result, setup.faces[0], session, replace(OPTIONS, seed=99))
    assert again.face(0).restored.report.seed == 99 and again.face(0).options.seed == 99
    assert not np.array_equal(again.photo.pixels, result.photo.pixels)
    assert np.array_equal(again.photo.pixels[0:45, 0:45], original[0:45, 0:45])
    same = rerun_face(result, setup.faces[0], session, OPTIONS)  # same seed: the same pixels
    assert np.array_equal(same.photo.pixels, result.photo.pixels)
    removed = rerun_face(result, replace(setup.faces[0], mode="untouched"), session, OPTIONS)
    assert np.array_equal(removed.photo.pixels, original) and removed.faces == ()


def test_save_writes_the_output_and_a_sidecar_and_never_the_original(library, photo, session, tmp_path):
    setup = two_faces(prepare_photo(library, photo, session.analyzer))
    result = restore_setup(setup, session, OPTIONS)
    before = photo.read_bytes()
    with pytest.raises(ImageSaveError, match="original"):
        save_result(result, photo, overwrite=True)
    assert photo.read_bytes() == before
    (tmp_path / "out").mkdir()
    output = save_result(result, tmp_path / "out" / "boys-restored.png")
    assert output.is_file() and sidecar_path(output).is_file()
    record = read_sidecar(output)
    assert record["input"] == str(photo) and record["settings"]["seed"] == 3 and record["settings"]["steps"] == 2
    assert [f["mode"] for f in record["faces"]] == ["blind", "untouched"]
    assert record["faces"][0]["seed"] == 3 and set(record["models"]) >= {"base", "controlnet", "mix"}


def test_cancel_between_denoising_steps_raises_and_returns_nothing(library, photo, session):
    setup = prepare_photo(library, photo, session.analyzer)
    cancel = CancelToken()
    steps = []

    def progress(event):
        if event.stage == "sampling":
            steps.append(event.done)
            cancel.cancel()

    with pytest.raises(Cancelled):
        restore_setup(setup, session, replace(OPTIONS, steps=5), progress=progress, cancel=cancel)
    assert steps == [1]


def test_gpu_out_of_memory_becomes_a_plain_error_with_the_remedy(library, photo, session):
    setup = prepare_photo(library, photo, session.analyzer)

    class OutOfMemoryRestorer:
        face_size = session.restorer.face_size

        def __call__(self, *args, **kwargs):
            raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")

    fake = RestoreSession(session.analyzer, OutOfMemoryRestorer(), session.embedder)
    with pytest.raises(OutOfMemoryError, match="offload") as caught:
        restore_setup(setup, fake, OPTIONS)
    assert isinstance(caught.value, FaceMeError) and "Tried to allocate" not in str(caught.value)
