"""GUI benchmark on a synthetic library (10,000 photos, 100,000 faces by default).

Figures printed:
1. time to first paint of each view (Photos, People, a person's page, Review): from asking for the
   view to its first complete paint with the library's rows in it (queries run on worker threads);
2. frame time while scrolling the photo grid, median and 95th percentile (target: under 16 ms),
   against a baseline measured in the same run: the same QListView scrolling a plain
   QStringListModel of as many rows (what Qt itself costs on this machine). Thumbnails arrive while
   scrolling, as they would for a user: decoded by two worker threads (Qt's decoders release the
   GIL), which on a two-core machine compete with the GUI thread for the CPU. A second run with
   --keep reads them from the disk cache.

usage: QT_QPA_PLATFORM=offscreen python -m benchmarks.bench_gui [--photos 10000] [--faces 100000] [--keep DIR]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

TARGET_FRAME_MS = 16.0


def wait_for(app, condition, timeout_s: float = 120.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        app.processEvents()
        if time.monotonic() > deadline:
            raise TimeoutError("the view did not load in time")
        time.sleep(0.001)


def first_paint(app, window, key: str, loaded_signal, show) -> float:
    done = []
    loaded_signal.connect(lambda: done.append(True))
    started = time.perf_counter()
    show()
    wait_for(app, lambda: bool(done))
    window.views[key].repaint()  # the first complete paint with the rows
    return time.perf_counter() - started


def scroll_frames(app, view, frames: int = 240, step: int = 120) -> list[float]:
    bar = view.verticalScrollBar()
    bar.setValue(0)
    times = []
    for index in range(frames):
        app.processEvents()  # thumbnails decoded meanwhile become pixmaps here, as in a real session
        started = time.perf_counter()
        bar.setValue((index * step) % max(1, bar.maximum()))
        view.viewport().repaint()
        times.append((time.perf_counter() - started) * 1000)
    return times


def summary(times: list[float]) -> tuple[float, float]:
    ordered = sorted(times)
    return statistics.median(ordered), ordered[int(0.95 * (len(ordered) - 1))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=int, default=10_000)
    parser.add_argument("--faces", type=int, default=100_000)
    parser.add_argument("--people", type=int, default=2_000)
    parser.add_argument("--keep", type=Path, help="build (or reuse) the library in this folder")
    args = parser.parse_args()

    from PySide6.QtCore import QStringListModel
    from PySide6.QtWidgets import QApplication

    from benchmarks.gui_library import build_library
    from faceme_desktop.app import build_window, create_application
    from faceme_desktop.delegates import ThumbnailDelegate
    from faceme_desktop.settings import AppSettings, isolate_settings
    from faceme_desktop.start_options import StartOptions
    from faceme_desktop.views.grid import make_grid
    from faceme_desktop.views.photos_view import PHOTO_THUMBNAIL

    folder = args.keep or Path(tempfile.mkdtemp(prefix="faceme-bench-gui-"))
    os.environ["FACEME_HOME"] = str(folder / "home")  # caches (photo thumbnails) beside the library, not the user's
    library_path = folder / "library.sqlite"
    if not library_path.exists():
        started = time.perf_counter()
        build_library(folder, args.photos, args.faces, args.people)
        print(f"synthetic library: {args.photos} photos, {args.faces} faces ({time.perf_counter() - started:.1f} s to build)")
    isolate_settings(folder / "settings")
    app = create_application(["bench"])
    window = build_window(StartOptions(library_path, ()), AppSettings())
    window.resize(1280, 860)
    window.show()
    app.processEvents()

    print("\n1. time to first paint (queries on worker threads; the window stays responsive meanwhile)")
    timings = {
        "Photos": first_paint(app, window, "photos", window.photos.loaded, window.photos.reload),
        "People": first_paint(app, window, "people", window.people.loaded, lambda: (window.show_view("people"), window.people.reload())),
    }
    person_id = window.people.model.index(0).data(257)
    timings["Person page"] = first_paint(app, window, "people", window.people.page.loaded, lambda: window.people.open_person(person_id))
    timings["Review"] = first_paint(app, window, "review", window.review.loaded, lambda: window.show_view("review"))
    for name, seconds in timings.items():
        print(f"   {name:<12} {seconds * 1000:8.0f} ms")

    print("\n2. frame time while scrolling the photo grid")
    window.show_view("photos")
    window.session.wait_idle(120_000)  # background queries of the first paints are done
    app.processEvents()
    grid = window.photos.grid
    rows = window.photos.model.rowCount()
    photo_times = scroll_frames(app, grid)
    baseline = make_grid(ThumbnailDelegate(PHOTO_THUMBNAIL), None)
    baseline.setModel(QStringListModel([f"img_{i:05d}.jpg" for i in range(rows)]))
    baseline.resize(grid.size())
    baseline.show()
    app.processEvents()
    base_times = scroll_frames(app, baseline)
    photo_median, photo_p95 = summary(photo_times)
    base_median, base_p95 = summary(base_times)
    print(f"   photo grid ({rows} photos): median {photo_median:.2f} ms, p95 {photo_p95:.2f} ms "
          f"(target < {TARGET_FRAME_MS:.0f} ms: {'met' if photo_p95 < TARGET_FRAME_MS else 'NOT met'})")
    print(f"   baseline (plain list model, same view): median {base_median:.2f} ms, p95 {base_p95:.2f} ms")
    print(f"   ratio to baseline: median {photo_median / base_median:.2f}x, p95 {photo_p95 / base_p95:.2f}x")
    baseline.close()
    window.close()
    QApplication.processEvents()


if __name__ == "__main__":
    main()
