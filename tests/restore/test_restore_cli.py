"""`faceme restore` end to end on tiny models saved in the real layouts, loaded by the code users run."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from faceme_core.cli.main import main
from faceme_core.faces.align import align_face
from faceme_core.faces.paste import RestoredFace, paste_faces
from tests.support.small_faces import SMALL_FACE
from tests.support.tiny_insightface import expected_detection

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def with_models(tiny_models, monkeypatch) -> Path:
    monkeypatch.setenv("FACEME_MODELS", str(tiny_models))
    return tiny_models


@pytest.fixture
def photo(tmp_path, album_dir) -> Path:
    """A lossless copy of an album photo, so 'unchanged' can be checked bit for bit."""
    path = tmp_path / "album" / "two boys.png"
    path.parent.mkdir()
    Image.open(album_dir / "two_boys.jpg").save(path)
    return path


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def face_mask(pixels: np.ndarray) -> np.ndarray:
    """Where paste-back may change pixels for the one face the tiny detector reports."""
    height, width = pixels.shape[:2]
    _, points = expected_detection((width, height))
    aligned = align_face(pixels, points, SMALL_FACE)
    blank = RestoredFace(crop=np.zeros((SMALL_FACE, SMALL_FACE, 3), np.uint8), matrix=aligned.matrix)
    return paste_faces(pixels, [blank]).mask


def run_restore(capsys, *args: str) -> tuple[int, dict | None, str]:
    code = main(["restore", *args])
    captured = capsys.readouterr()
    report = json.loads(captured.out) if captured.out.strip() else None
    return code, report, captured.err


def test_restore_changes_only_the_face_and_never_the_input(with_models, photo, faces_dir, tmp_path, capsys):
    before = sha256(photo)
    out = tmp_path / "out" / "restored.png"
    code, report, err = run_restore(
        capsys, str(photo), "--ref", str(photo), "--ref", str(faces_dir / "Hepburn01.png"),
        "-o", str(out), "--steps", "2", "--seed", "3", "--json",
    )
    assert code == 0, err
    assert sha256(photo) == before
    original = np.asarray(Image.open(photo).convert("RGB"))
    restored = np.asarray(Image.open(out).convert("RGB"))
    assert restored.shape == original.shape
    mask = face_mask(original)
    assert np.array_equal(restored[mask == 0], original[mask == 0])
    assert np.abs(restored[mask > 0.99].astype(int) - original[mask > 0.99]).mean() > 1.0

    (entry,) = report["photos"]
    assert entry["output"] == str(out) and entry["error"] is None
    (face,) = entry["faces"]
    assert face["references"] == ["two boys.png", "Hepburn01.png"]
    assert face["blind"] is False and face["steps"] == 2 and face["model_evaluations"] == 4
    assert face["match_similarity"] == pytest.approx(1.0, abs=1e-4)  # the photo is one of its references
    assert -1.0 <= face["identity_after"] <= 1.0 and -1.0 <= face["identity_before"] <= 1.0


def test_faces_not_matching_are_blind_or_left_untouched(with_models, photo, faces_dir, tmp_path, capsys):
    ref = str(faces_dir / "Hepburn01.png")
    code, report, err = run_restore(
        capsys, str(photo), "--ref", ref, "--out-dir", str(tmp_path / "blind"), "--steps", "1",
        "--match-threshold", "1.0", "--others", "blind", "--json",
    )
    assert code == 0, err
    (face,) = report["photos"][0]["faces"]
    assert face["blind"] is True and face["references"] == [] and face["model_evaluations"] == 1

    out_dir = tmp_path / "skip"
    code, report, err = run_restore(
        capsys, str(photo), "--ref", ref, "--out-dir", str(out_dir), "--match-threshold", "1.0",
        "--others", "skip", "--json",
    )
    assert code == 0, err
    entry = report["photos"][0]
    assert entry["faces"] == [] and "does not match" in entry["left"][0]["reason"]
    # Nothing to restore: no re-encoded copy of the photo is written, and the user is told.
    assert entry["output"] is None and not (out_dir / photo.name).exists()
    assert "nothing to restore" in err and "no output written" in err


def test_restore_refuses_to_write_over_its_input(photo, capsys):
    code, _, err = run_restore(capsys, str(photo), "--ref", str(photo), "--out-dir", str(photo.parent))
    assert code == 2 and "two boys.png: the output would replace the input" in err


def test_bad_command_lines_get_one_line_errors(with_models, photo, tmp_path, capsys):
    code, _, err = run_restore(capsys, str(photo), str(photo), "--ref", str(photo), "-o", str(tmp_path / "x.png"))
    assert code == 2 and "use --out-dir" in err
    code, _, err = run_restore(capsys, str(tmp_path / "missing.jpg"), "--ref", str(photo), "-o", str(tmp_path / "x.png"))
    assert code == 2 and "missing.jpg: no such file" in err
    code, _, err = run_restore(capsys, str(photo), "--ref", str(photo), "-o", str(tmp_path / "x.png"), "--sampler", "fast")
    assert code == 2 and "--sampler 'fast': expected one of" in err


def test_without_models_restore_names_what_is_missing_and_how_to_get_it(photo, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("FACEME_MODELS", str(tmp_path / "empty"))
    code, _, err = run_restore(capsys, str(photo), "--ref", str(photo), "-o", str(tmp_path / "x.png"))
    assert code == 2
    assert "Traceback" not in err
    for component in ("base", "controlnet", "mix", "photomaker", "antelopev2"):  # a list, one a line
        assert f"\n  - {component}: not installed" in err
    assert "faceme models download" in err and "faceme models import" in err
    assert not (tmp_path / "x.png").exists()


@pytest.mark.slow
def test_accelerate_launch_splits_photos_across_two_processes(tiny_models, photo, tmp_path):
    second = photo.with_name("second.png")
    shutil.copy(photo, second)
    out_dir = tmp_path / "out"
    env = {**os.environ, "FACEME_MODELS": str(tiny_models), "OMP_NUM_THREADS": "1"}
    accelerate = Path(sys.executable).with_name("accelerate")
    result = subprocess.run(
        [str(accelerate), "launch", "--multi_gpu", "--num_processes", "2", "--num_machines", "1",
         "--mixed_precision", "no", "--dynamo_backend", "no", "--main_process_port", "29517",
         "-m", "tests.support.small_faces", "restore", str(photo), str(second), "--ref", str(photo),
         "--out-dir", str(out_dir), "--steps", "1", "--json"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout[result.stdout.index("{"):])
    assert sorted(Path(p["output"]).name for p in report["photos"]) == ["second.png", "two boys.png"]
    assert (out_dir / "second.png").is_file() and (out_dir / photo.name).is_file()
    # Each process got one photo of the two: each reports it as photo 1 of 1.
    assert result.stderr.count("[1/1]") >= 2 and "[1/2]" not in result.stderr


def test_outputs_are_checked_before_any_model_loads(photo, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("FACEME_MODELS", str(tmp_path / "no-models"))  # reaching the models would fail differently
    twin = tmp_path / "elsewhere" / photo.name
    twin.parent.mkdir()
    shutil.copy(photo, twin)
    code, _, err = run_restore(capsys, str(photo), str(twin), "--ref", str(photo), "--out-dir", str(tmp_path / "o"))
    assert code == 2 and "would both be written to" in err
    reference = tmp_path / "o" / "ref.png"
    reference.parent.mkdir(exist_ok=True)
    shutil.copy(photo, reference)
    code, _, err = run_restore(capsys, str(photo), "--ref", str(reference), "-o", str(reference))
    assert code == 2 and "would replace the input or reference" in err
    code, _, err = run_restore(capsys, str(photo), "--ref", str(photo), "-o", str(tmp_path / "x.gif"))
    assert code == 2 and "cannot save as '.gif'" in err
    code, _, err = run_restore(capsys, str(photo), "--ref", str(photo), "--out-dir", str(photo))
    assert code == 2 and "is a file, not a folder" in err
    code, _, err = run_restore(capsys, str(photo), "--ref", str(photo), "-o", str(tmp_path))
    assert code == 2 and "is a folder; -o names the output file (give --out-dir" in err
    foreign = tmp_path / "someone_elses.png"
    foreign.write_bytes(b"not ours")
    code, _, err = run_restore(capsys, str(photo), "--ref", str(photo), "-o", str(foreign))
    assert code == 2 and "pass --overwrite to replace it" in err and foreign.read_bytes() == b"not ours"


@pytest.mark.parametrize("option, value, message", [
    ("--identity-strength", "nan", "--identity-strength nan: must be between 0 and"),
    ("--identity-strength", "-1", "--identity-strength -1.0: must be between 0 and"),
    ("--seed", "99999999999999999999999", "--seed 99999999999999999999999: must be between"),
    ("--steps", "1001", "--steps 1001: must be between 1 and 1000"),
    ("--match-threshold", "5", "--match-threshold 5.0: must be between -1 and 1"),
])
def test_out_of_range_options_are_one_line_errors(photo, tmp_path, capsys, option, value, message):
    code, _, err = run_restore(capsys, str(photo), "--ref", str(photo), "-o", str(tmp_path / "x.png"), option, value)
    assert code == 2 and message in err and "Traceback" not in err
