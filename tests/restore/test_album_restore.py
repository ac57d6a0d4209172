"""`faceme restore-album` end to end: a scanned album, a person with a reference, tiny models.

The album is scanned on the offline dlib backend (as a user without the model pack would), then
restored once the (tiny) models are installed: the realistic order.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from faceme_core.cli.main import main
from faceme_core.imageio import is_faceme_output
from faceme_core.library.walk import OUTPUT_MARKER
from faceme_core.restore.provenance import read_sidecar

REPO = Path(__file__).resolve().parents[2]
ALBUM_PHOTOS = {"two_boys.jpg": "two_boys.jpg", "boy_at_railing_lowres.jpg": "sub/boy.jpg",
                "hepburn_portrait_lowres.jpg": "hepburn.jpg", "film_still_two.jpg": "sub/film.jpg"}


@pytest.fixture
def album(tmp_path, album_dir) -> Path:
    root = tmp_path / "album"
    for source, target in ALBUM_PHOTOS.items():
        (root / target).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(album_dir / source, root / target)
    return root


def hashes(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def cli(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def scan_and_give_the_boy_a_reference(capsys, album: Path, library: Path) -> int:
    """Scan offline (dlib); the boy seen in two photos becomes a person with one reference face."""
    assert cli(capsys, "scan", str(album), "--library", str(library))[0] == 0
    code, out, _ = cli(capsys, "people", "list", "--json", "--library", str(library))
    (boy,) = [p for p in json.loads(out) if {Path(f["photo"]).name for f in p["faces"]} == {"two_boys.jpg", "boy.jpg"}]
    reference = next(f["id"] for f in boy["faces"] if Path(f["photo"]).name == "two_boys.jpg")
    assert cli(capsys, "refs", "add", str(boy["id"]), "--face", str(reference), "--library", str(library))[0] == 0
    return boy["id"]


def test_restore_album_uses_each_persons_references_and_never_touches_originals(
    tiny_models, album, tmp_path, capsys, monkeypatch
):
    library = tmp_path / "library.sqlite"
    before = hashes(album)
    boy = scan_and_give_the_boy_a_reference(capsys, album, library)
    monkeypatch.setenv("FACEME_MODELS", str(tiny_models))
    out_dir = tmp_path / "restored"
    code, out, err = cli(capsys, "restore-album", "--person", str(boy), "--out-dir", str(out_dir),
                         "--steps", "1", "--seed", "0", "--library", str(library))
    assert code == 0, err
    assert hashes(album) == before
    assert (out_dir / "album" / "two_boys.jpg").is_file() and (out_dir / "album" / "sub" / "boy.jpg").is_file()
    assert not (out_dir / "album" / "hepburn.jpg").exists()  # not a photo of the chosen person

    code, out, _ = cli(capsys, "restore-album", "--show", "1", "--json", "--library", str(library))
    items = {Path(item["photo"]).name: item for item in json.loads(out)}
    assert {item["state"] for item in items.values()} == {"done"}
    modes = sorted(face["mode"] for face in items["two_boys.jpg"]["faces"])
    assert modes == ["blind", "references"]  # the boy with his reference, the other boy blind
    assert [face["mode"] for face in items["boy.jpg"]["faces"]] == ["references"]
    (face,) = items["boy.jpg"]["faces"]  # the same facts as fields, for programs
    assert face["person_id"] == boy and face["seed"] == 0 and face["references"][0].startswith("face ")
    assert -1.0 <= face["identity_before"] <= 1.0 and -1.0 <= face["identity_after"] <= 1.0
    # each output says how it was made (sidecar): settings, references, seed per face
    record = read_sidecar(out_dir / "album" / "sub" / "boy.jpg")
    assert record["settings"]["steps"] == 1 and record["settings"]["seed"] == 0
    assert [f["mode"] for f in record["faces"]] == ["references"] and record["faces"][0]["seed"] == 0
    assert "#face " in record["faces"][0]["references"][0] and record["input"].endswith("boy.jpg")


def test_restore_album_never_overwrites_a_file_it_did_not_write(tiny_models, album, tmp_path, capsys, monkeypatch):
    library = tmp_path / "library.sqlite"
    boy = scan_and_give_the_boy_a_reference(capsys, album, library)
    out_dir = tmp_path / "restored"
    users_file = out_dir / "album" / "two_boys.jpg"
    users_file.parent.mkdir(parents=True)
    users_file.write_bytes(b"the user's own file, not FaceMe's")
    monkeypatch.setenv("FACEME_MODELS", str(tiny_models))
    code, _, err = cli(capsys, "restore-album", "--person", str(boy), "--out-dir", str(out_dir), "--steps", "1",
                       "--library", str(library))
    assert users_file.read_bytes() == b"the user's own file, not FaceMe's"
    code, out, _ = cli(capsys, "restore-album", "--show", "1", "--json", "--library", str(library))
    items = {Path(item["photo"]).name: item for item in json.loads(out)}
    assert items["two_boys.jpg"]["state"] == "failed" and "FaceMe did not write" in items["two_boys.jpg"]["error"]
    assert items["boy.jpg"]["state"] == "done"  # the job went on

    users_file.unlink()  # the user moved their file away: try the failed photo again
    code, out, err = cli(capsys, "restore-album", "--retry-failed", "1", "--library", str(library))
    assert code == 0, err
    assert "1 failed photo(s) will be tried again" in out and "2/2 photos restored" in out
    assert is_faceme_output(users_file)


def job_items(library: Path) -> list[tuple[str, Path]]:
    with sqlite3.connect(f"file:{library}?mode=ro", uri=True) as conn:
        return [(state, Path(output)) for state, output in
                conn.execute("SELECT state, output_path FROM job_items ORDER BY id")]


def job_item_states(library: Path) -> list[str]:
    return [state for state, _ in job_items(library)]


@pytest.mark.slow
def test_a_killed_restore_job_resumes_with_no_photo_done_twice_and_none_lost(tiny_models, album, tmp_path, capsys):
    library = tmp_path / "library.sqlite"
    before = hashes(album)
    scan_and_give_the_boy_a_reference(capsys, album, library)
    out_dir = tmp_path / "restored"
    env = {**os.environ, "FACEME_MODELS": str(tiny_models), "OMP_NUM_THREADS": "1"}
    command = [sys.executable, "-m", "tests.support.small_faces", "restore-album", "--library", str(library)]
    job = subprocess.Popen([*command, "--out-dir", str(out_dir), "--steps", "12"], cwd=REPO, env=env,
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and job.poll() is None:
        if library.exists() and "done" in job_item_states(library):
            break
        time.sleep(0.05)
    assert job.poll() is None, "the job ended before it could be killed: " + job.stderr.read().decode()[-2000:]
    os.kill(job.pid, signal.SIGKILL)
    job.wait()

    states = job_item_states(library)
    assert "done" in states and states.count("done") < len(states)
    done_before = {output: output.stat().st_mtime_ns for state, output in job_items(library) if state == "done"}
    resumed = subprocess.run([*command, "--resume", "1"], cwd=REPO, env=env, capture_output=True, text=True,
                             timeout=300)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert job_item_states(library) == ["done"] * len(states)
    outputs = sorted(out_dir.rglob("*.jpg"))
    assert len(outputs) == len(states)  # none lost
    # No photo done twice: outputs finished before the kill were not written again.
    assert {p: p.stat().st_mtime_ns for p in done_before} == done_before
    assert hashes(album) == before


def test_unreadable_references_and_photos_changed_since_the_scan_are_reported(
    tiny_models, album, tmp_path, capsys, monkeypatch
):
    library = tmp_path / "library.sqlite"
    boy = scan_and_give_the_boy_a_reference(capsys, album, library)
    gone = tmp_path / "gone.jpg"
    shutil.copy(album / "hepburn.jpg", gone)
    code, out, _ = cli(capsys, "refs", "add", str(boy), "--file", str(gone), "--library", str(library))
    assert code == 0 and "the largest face is used" in out
    gone.unlink()  # one of his two references can no longer be read
    with open(album / "sub" / "boy.jpg", "ab") as handle:  # edited after the scan: its boxes may be stale
        handle.write(b"\0")
    monkeypatch.setenv("FACEME_MODELS", str(tiny_models))
    code, out, err = cli(capsys, "restore-album", "--person", str(boy), "--out-dir", str(tmp_path / "out"),
                         "--steps", "1", "--library", str(library))
    assert code == 1  # one photo failed
    code, out, _ = cli(capsys, "restore-album", "--show", "1", "--json", "--library", str(library))
    items = {Path(item["photo"]).name: item for item in json.loads(out)}
    assert items["boy.jpg"]["state"] == "failed" and "changed since the last scan" in items["boy.jpg"]["error"]
    boy_face = next(face for face in items["two_boys.jpg"]["faces"] if face["mode"] == "references")
    assert "1 reference(s)" in boy_face["detail"] and "1 reference(s) could not be read" in boy_face["detail"]


def test_a_cancel_mid_sampling_leaves_the_photo_pending_and_the_resume_finishes(tiny_models, album, tmp_path, capsys):
    from faceme_core.engine.options import RestoreOptions
    from faceme_core.library import jobs
    from faceme_core.library.library import Library
    from faceme_core.restore.album_adapter import AlbumRestoreSettings, AlbumRestorer
    from faceme_core.restore.session import RestoreSession
    from faceme_core.tasks import Cancelled, CancelToken

    library_path = tmp_path / "library.sqlite"
    boy = scan_and_give_the_boy_a_reference(capsys, album, library_path)
    out_dir = tmp_path / "restored"
    restorer = AlbumRestorer(RestoreSession.open(tiny_models, device="cpu"),
                             AlbumRestoreSettings(RestoreOptions(steps=3, seed=0)))
    token = CancelToken()
    steps = []

    def progress(event):
        if event.stage == "sampling":
            steps.append(event.done)
            if event.done == 2:
                token.cancel()  # Cancel pressed at step 2 of the first face of the first photo

    with Library.open(library_path) as library:
        job_id = jobs.create_job(library, out_dir, people=[boy])
        with pytest.raises(Cancelled):
            jobs.run_job(library, job_id, restorer, progress=progress, cancel=token)
        assert steps == [1, 2]
        items = jobs.job_items(library, job_id)
        assert [item.state for item in items] == ["pending", "pending"]
        assert all(item.error is None for item in items)
        assert [p for p in out_dir.rglob("*") if p.is_file() and p.name != OUTPUT_MARKER] == []
        assert jobs.job_info(library, job_id).state == "paused"

        info = jobs.run_job(library, job_id, restorer)
        assert (info.state, info.done, info.failed) == ("done", 2, 0)
        assert all(item.output_path.is_file() for item in jobs.job_items(library, job_id))


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs are POSIX")
def test_an_album_output_that_is_a_fifo_fails_that_photo_without_hanging(
    tiny_models, album, tmp_path, capsys, monkeypatch
):
    import threading

    library = tmp_path / "library.sqlite"
    boy = scan_and_give_the_boy_a_reference(capsys, album, library)
    monkeypatch.setenv("FACEME_MODELS", str(tiny_models))
    out_dir = tmp_path / "restored"
    (out_dir / "album" / "sub").mkdir(parents=True)
    fifo = out_dir / "album" / "sub" / "boy.jpg"
    os.mkfifo(fifo)
    result: dict = {}
    thread = threading.Thread(target=lambda: result.update(code=main([
        "restore-album", "--person", str(boy), "--out-dir", str(out_dir), "--steps", "1", "--library", str(library),
    ])), daemon=True)
    thread.start()
    thread.join(120)
    if thread.is_alive():
        os.close(os.open(fifo, os.O_RDWR | os.O_NONBLOCK))
        pytest.fail("restore-album hung on a FIFO output")
    capsys.readouterr()
    code, out, _ = cli(capsys, "restore-album", "--show", "1", "--json", "--library", str(library))
    items = {Path(item["photo"]).name: item for item in json.loads(out)}
    assert items["boy.jpg"]["state"] == "failed" and "not a regular file" in items["boy.jpg"]["error"]
    assert items["two_boys.jpg"]["state"] == "done"
