"""Render part 2's views in a real window to PNGs in resources/screenshots/: the Restore view, the
compare view (after a tiny-model run, whose output is noise, and with a real photo pair: a degraded
copy of a test photo as "before" and the photo itself as "after"), the Jobs view and the Models dialog.

The library is the one ``render_screenshots.populate`` makes (the test album scanned with dlib, a
few people named), plus references for the people of the band photo. Run under Xvfb, e.g.:

    xvfb-run -a -s "-screen 0 1400x900x24" python -m benchmarks.render_screenshots_restore
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np

from benchmarks.render_screenshots import OUT, SIZE, populate, settle, start_shots

PHOTO = "band_four_b.jpg"


def add_references(library_path: Path) -> None:
    """Each named person gets up to three of their faces as references (as a user would accept them)."""
    from faceme_core.library.library import Library
    from faceme_core.library.people import list_people
    from faceme_core.library.references import add_face_reference

    with Library.open(library_path) as library:
        for person in list_people(library):
            if person.name:
                for face in person.faces[:3]:
                    add_face_reference(library, person.id, face.id)


def degraded_copy(source: Path, target: Path) -> Path:
    """An old-print look: a quarter of the resolution, blur, grain and heavy JPEG, at the original size."""
    import cv2

    from faceme_core.imageio import load_photo

    pixels = load_photo(source).pixels
    height, width = pixels.shape[:2]
    small = cv2.resize(pixels, (width // 4, height // 4), interpolation=cv2.INTER_AREA)
    small = cv2.GaussianBlur(small, (3, 3), 0.8)
    noise = np.random.default_rng(0).normal(0, 6, small.shape)
    small = np.clip(small.astype(np.float32) + noise, 0, 255).astype(np.uint8)
    ok, jpeg = cv2.imencode(".jpg", cv2.cvtColor(small, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 30])
    small = cv2.cvtColor(cv2.imdecode(jpeg, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
    back = cv2.resize(small, (width, height), interpolation=cv2.INTER_CUBIC)
    cv2.imwrite(str(target), cv2.cvtColor(back, cv2.COLOR_RGB2BGR))
    return target


def photo_pair_result(setup, degraded: Path):
    """A SetupResult whose "before" is the degraded copy and "after" the real photo: what a good
    restoration should look like. No model ran: identity scores are left unknown (n/a)."""
    from faceme_core.engine.options import RestoreOptions
    from faceme_core.faces.align import ALIGNED_SIZE, align_face
    from faceme_core.faces.paste import RestoredFace
    from faceme_core.imageio import load_photo
    from faceme_core.restore.photo_restore import FaceReport, RestoredTarget
    from faceme_core.tasks.restore_setup import FaceResult, SetupResult

    original = load_photo(setup.path)
    faces = []
    for face in setup.faces:
        if face.too_small:
            continue
        aligned = align_face(original.rgb8(), np.asarray(face.points, np.float32), ALIGNED_SIZE)
        report = FaceReport(box=face.box, person=face.who, match_similarity=None,
                            references=tuple(r.label for r in face.references), blind=face.mode != "references",
                            steps=50, model_evaluations=100, seconds=0.0, seed=0, identity_before=None,
                            identity_after=None)
        faces.append(FaceResult(face, RestoredTarget(RestoredFace(aligned.crop, aligned.matrix), report),
                                RestoreOptions(seed=0)))
    return SetupResult(setup=setup, original=load_photo(degraded), photo=original, faces=tuple(faces), upscale=1)


def main() -> None:
    from PySide6.QtWidgets import QApplication

    from faceme_core.library.library import Library
    from faceme_core.restore.photo_setup import prepare_photo
    from faceme_core.restore.session import RestoreSession
    from faceme_desktop.app import build_window
    from faceme_desktop.settings import AppSettings
    from faceme_desktop.start_options import StartOptions
    from tests.support.tiny_models import build_tiny_model_dir

    work, app = start_shots("faceme-shots-restore-")

    def shoot(widget, name: str, seconds: float = 1.2) -> None:
        settle(app, seconds)
        widget.grab().save(str(OUT / f"{name}.png"))
        print(OUT / f"{name}.png")

    library_path = populate(work)
    add_references(library_path)
    album = work / "Family album"
    models = work / "models"
    build_tiny_model_dir(models, with_antelopev2=True)
    engine = RestoreSession.open(models, device="cpu")

    window = build_window(StartOptions(library_path, (album / PHOTO,)), AppSettings())
    window.resize(*SIZE)
    window.show()
    view = window.restore
    view.controller.session_factory = lambda: engine
    view.confirm_warnings = lambda warnings: True
    settle(app, 3.0)
    shoot(window, "restore-faces")

    # a tiny-model run: the pipeline end to end (its pixels are noise: the models are random)
    view.steps.setValue(3)
    view.run()
    while view.pages.currentWidget() is not view.compare:
        settle(app, 0.2)
    shoot(window, "compare-tiny-models")

    # a real pair: a degraded copy of the photo and the photo itself
    degraded = degraded_copy(album / PHOTO, work / "band_four_b-degraded.png")
    with Library.open(library_path) as library:
        setup = prepare_photo(library, album / PHOTO)
    pair = photo_pair_result(setup, degraded)
    previews = view.previews.get(album / PHOTO)
    view.compare.show_result(pair, previews.references if previews else {})
    view.compare.split_view.set_split(0.5)
    for row in range(view.compare.faces.rowCount()):  # no model ran for this pair: no seed to show
        view.compare.faces.item(row, 6).setText("n/a")
    shoot(window, "compare-split")
    view.compare.set_mode(1)
    view.compare.left_view.zoom(2.0)
    view.compare.left_view.zoomed.emit(2.0)
    shoot(window, "compare-side-by-side")
    view.compare.set_mode(0)

    # the Jobs view: a job run by the real album restorer on the tiny models (outcomes are real:
    # people, references, identity scores, seeds), one photo failing
    from faceme_core.engine.options import RestoreOptions
    from faceme_core.restore.album_adapter import AlbumRestorer, AlbumRestoreSettings

    jobs = window.jobs
    album_restorer = AlbumRestorer(engine, AlbumRestoreSettings(RestoreOptions(steps=2, seed=11)))
    failing = {"film_still_two.jpg"}

    def restore(task, *, progress=None, cancel=None):
        if task.photo_path.name in failing:  # what a photo truncated after the scan reports
            from faceme_core.errors import ImageLoadError

            raise ImageLoadError("the file is truncated or damaged (its image data ends early)",
                                 subject=task.photo_path.name, hint="restore it from a backup, then scan again")
        return album_restorer(task, progress=progress, cancel=cancel)

    jobs.restorer_factory = lambda options: restore
    jobs.choose_out_dir = lambda: work / "Restored"
    window.restore.add_photos([album / name for name in ("two_boys.jpg", "film_still_two.jpg")])
    window.show_view("jobs")
    jobs.new_from_restore_list()
    settle(app, 2.0)
    while jobs.task is not None and jobs.task.running:
        settle(app, 0.3)
    window.resize(*SIZE)
    shoot(window, "jobs", 2.0)

    from faceme_desktop.restore_wiring import open_models_dialog

    window.models_dir = work / "empty-model-store"
    dialog = open_models_dialog(window)
    shoot(dialog, "models", 2.0)
    dialog.close()
    window.close()
    QApplication.processEvents()
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
