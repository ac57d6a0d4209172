"""`faceme detect`: table and JSON output, per-photo errors, exit codes."""

from __future__ import annotations

import json

from faceme_core.cli.main import main
from faceme_core.models.layout import ANTELOPEV2_DIRNAME
from tests.support.tiny_insightface import build_tiny_antelopev2, expected_detection


def test_json_lists_faces_and_reports_a_bad_photo_without_stopping(album_dir, tmp_path, capsys):
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"\xff\xd8 not really a jpeg")
    photos = [album_dir / "two_boys.jpg", broken, album_dir / "hepburn_portrait_lowres.jpg"]

    code = main(["detect", "--backend", "dlib", "--json", *map(str, photos)])

    captured = capsys.readouterr()
    assert code == 2
    entries = json.loads(captured.out)
    assert [entry["photo"] for entry in entries] == [str(p) for p in photos]
    two_boys, failed, hepburn = entries
    assert two_boys["size"] == [726, 838] and two_boys["backend"] == "dlib"
    assert len(two_boys["faces"]) == 2 and len(hepburn["faces"]) == 1
    face = two_boys["faces"][0]
    assert set(face) == {"box", "points", "eye_distance", "score", "quality"}
    assert len(face["points"]) == 5 and 0.0 <= face["quality"] <= 1.0
    assert "error" in failed and "broken.jpg" in failed["error"]
    assert "broken.jpg" in captured.err and "Traceback" not in captured.err


def test_table_shows_each_face_and_skipped_faces(tmp_path, capsys, monkeypatch):
    from PIL import Image

    # A tiny insightface pack whose one "face" is too small to restore, as the app's models.
    box = (300.0, 300.0, 320.0, 322.0)
    build_tiny_antelopev2(tmp_path / "models" / ANTELOPEV2_DIRNAME, face_box=box)
    monkeypatch.setenv("FACEME_MODELS", str(tmp_path / "models"))
    photo = tmp_path / "gray.png"
    Image.new("RGB", (640, 480), (120, 120, 120)).save(photo)

    assert main(["detect", str(photo)]) == 0

    out = capsys.readouterr().out
    (x0, y0, x1, y1), _ = expected_detection((640, 480), box)
    assert f"{photo} (640x480, insightface): 0 faces, 1 skipped" in out
    assert f"skipped {x0:.0f},{y0:.0f} - {x1:.0f},{y1:.0f}: too small to restore: eye distance 6.3 px < 8 px" in out


def test_table_rows_for_found_faces(album_dir, capsys):
    assert main(["detect", "--backend", "dlib", str(album_dir / "two_boys.jpg")]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].endswith("(726x838, dlib): 2 faces, 0 skipped")
    assert lines[1].split() == ["#", "box", "x0,y0", "-", "x1,y1", "eyes", "px", "score", "quality"]
    assert [line.split()[0] for line in lines[2:]] == ["1", "2"]


def test_missing_insightface_pack_is_a_one_line_error(capsys):
    assert main(["detect", "--backend", "insightface", "whatever.jpg"]) == 2
    err = capsys.readouterr().err
    assert "faceme models download antelopev2" in err and "Traceback" not in err
