"""Album scan benchmark: first scan, unchanged re-scan, library size.

A synthetic album is made from the test photos (resized, cropped, flipped copies in nested folders,
so every file is distinct). Figures printed:

1. first scan, photos per second: (a) the library pipeline alone (decode, hash, thumbnails, database,
   grouping) with a stand-in analyzer returning two faces per photo, over the whole album, in-process;
   (b) with the real dlib analyzer over the first --dlib-count photos (face analysis dominates), once
   with one worker (in-process, the serial baseline) and once with --workers processes, measured in
   the same run: the speed-up (target: at least 1.6x on 2 cores; it includes starting the workers
   and loading their models, as a user's first scan does), and a check that both libraries agree;
2. re-scan of the unchanged album: seconds, and seconds per 10,000 photos (target: under 2 s; it is
   one os.scandir walk plus one SELECT), and its ratio to the first scan's time;
3. library size per 10,000 faces: the SQLite file, and the thumbnail cache.

usage: python -m benchmarks.bench_album [--count 2000] [--dlib-count 40] [--workers N] [--keep DIR]
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

from faceme_core.faces.types import Detection, Embedding, Face, PhotoFaces

ALBUM = Path(__file__).resolve().parents[1] / "tests" / "data" / "album"


def make_album(root: Path, count: int, seed: int = 0) -> list[Path]:
    """``count`` distinct JPEGs from the test photos: random scale, crop and flip, 20 per folder."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    sources = []
    for path in sorted(ALBUM.glob("*.jpg")):
        with Image.open(path) as im:
            im = im.convert("RGB")
            im.thumbnail((900, 900))
            sources.append(im.copy())
    written = []
    for index in range(count):
        im = sources[index % len(sources)]
        scale = rng.uniform(0.45, 1.0)
        width, height = max(64, int(im.width * scale)), max(64, int(im.height * scale))
        copy = im.resize((width, height))
        left, top = int(rng.integers(0, max(1, width // 8))), int(rng.integers(0, max(1, height // 8)))
        copy = copy.crop((left, top, width - int(rng.integers(0, max(1, width // 8))), height))
        if index % 2:
            copy = copy.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
        folder = root / f"{1990 + index // 400}" / f"roll-{index // 20:03d}"
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / f"img_{index:05d}.jpg"
        copy.save(target, quality=85)
        written.append(target)
    return written


class StandInAnalyzer:
    """Two faces per photo with embeddings derived from the pixels: measures everything but the model."""

    name = "dlib"
    embedding_model_id = "dlib/resnet-v1"

    def __init__(self):
        self.backend = self

    def analyze(self, photo) -> PhotoFaces:
        width, height = photo.size_wh
        seed = int.from_bytes(hashlib.blake2b(photo.pixels[::16, ::16].tobytes(), digest_size=4).digest(), "little")
        rng = np.random.default_rng(seed)
        faces = []
        for k in range(2):
            x0, y0 = width * (0.1 + 0.45 * k), height * 0.2
            side = min(width, height) * 0.3
            points = np.array(
                [
                    [x0 + side * a, y0 + side * b]
                    for a, b in ((0.3, 0.4), (0.7, 0.4), (0.5, 0.6), (0.35, 0.8), (0.65, 0.8))
                ],
                dtype=np.float32,
            )
            vector = rng.normal(size=128).astype(np.float32)
            faces.append(
                Face(
                    Detection((x0, y0, x0 + side, y0 + side), points, 0.99),
                    Embedding(self.embedding_model_id, vector / np.linalg.norm(vector)),
                    0.5,
                )
            )
        return PhotoFaces(photo.size_wh, faces, [], self.name)


def _library_rows(path: Path) -> tuple:
    """Photos (by path), faces, embeddings and people, without timestamps: equal for equal scans."""
    import sqlite3

    with sqlite3.connect(path) as conn:
        return (
            conn.execute("SELECT id, path, content_hash, width, height, status FROM photos ORDER BY id").fetchall(),
            conn.execute("SELECT id, photo_id, x0, y0, x1, y1, points, quality, thumbnail FROM faces ORDER BY id").fetchall(),
            conn.execute("SELECT face_id, model_id, vector FROM embeddings ORDER BY face_id, model_id").fetchall(),
            conn.execute("SELECT face_id, person_id, source FROM assignments ORDER BY face_id").fetchall(),
        )


def _cpu_seconds() -> float:
    """CPU time of this process and of its finished children (the scan's worker processes)."""
    try:
        import resource
    except ImportError:  # Windows
        return float("nan")
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _folder_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def main(argv: list[str] | None = None) -> None:
    from faceme_core.library.library import Library
    from faceme_core.library.scan import scan_folders
    from faceme_core.tasks.processes import default_workers

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=2000, help="photos in the synthetic album")
    parser.add_argument(
        "--dlib-count", type=int, default=40, help="photos scanned with the real dlib analyzer (0: skip)"
    )
    parser.add_argument(
        "--workers", type=int, default=None, help="worker processes for the parallel dlib scan (default: CPU cores)"
    )
    parser.add_argument("--keep", type=Path, help="build the album and libraries here and keep them")
    args = parser.parse_args(argv)

    work = args.keep or Path(tempfile.mkdtemp(prefix="faceme-bench-album-"))
    try:
        started = time.perf_counter()
        photos = make_album(work / "Album", args.count)
        print(f"synthetic album: {len(photos)} photos in {time.perf_counter() - started:.1f} s ({work / 'Album'})")

        with Library.open(work / "bench.sqlite") as library:
            first = scan_folders(library, [work / "Album"], StandInAnalyzer())
            print(
                f"first scan (library pipeline, stand-in analyzer): {first.seconds:.1f} s, "
                f"{first.found / first.seconds:.1f} photos/s, {first.faces_added} faces"
            )
            again = min(
                (scan_folders(library, [work / "Album"], StandInAnalyzer()) for _ in range(3)), key=lambda s: s.seconds
            )
            assert again.unchanged == first.found, "the re-scan found changes in an unchanged album"
            per_10k = again.seconds / first.found * 10_000
            print(
                f"unchanged re-scan: {again.seconds:.3f} s = {per_10k:.2f} s per 10,000 photos (target < 2 s), "
                f"{again.seconds / first.seconds:.4f} x the first scan"
            )
        database = (work / "bench.sqlite").stat().st_size
        thumbs = _folder_size(work / "bench-thumbnails")
        print(
            f"library size per 10,000 faces: database {database / first.faces_added * 10_000 / 2**20:.1f} MiB, "
            f"thumbnails {thumbs / first.faces_added * 10_000 / 2**20:.1f} MiB"
        )

        if args.dlib_count:
            from faceme_core.faces.analyzer import create_analyzer

            subset = work / "DlibAlbum"
            for path in photos[: args.dlib_count]:
                target = subset / path.relative_to(work / "Album")
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(path, target)
            workers = args.workers or default_workers()
            runs = {}
            for count in (1, workers):
                cpu_before = _cpu_seconds()
                with Library.open(work / f"dlib-{count}.sqlite") as library:
                    runs[count] = scan_folders(library, [subset], create_analyzer("dlib"), workers=count)
                summary = runs[count]
                # Cores this run got on average (workers included): on a machine busy with other work,
                # the scheduler may not give a second worker a second core, and no speed-up can show.
                cores = (_cpu_seconds() - cpu_before) / summary.seconds
                print(
                    f"first scan with dlib, {count} worker{'s' if count > 1 else ''}: {summary.found} photos in "
                    f"{summary.seconds:.1f} s, {summary.found / summary.seconds:.2f} photos/s, "
                    f"{summary.faces_added} faces, {summary.people_created} people "
                    f"({summary.seconds / summary.found / (first.seconds / first.found):.1f} x the pipeline alone); "
                    f"CPU cores used on average: {cores:.2f}"
                )
            serial, parallel = runs[1], runs[workers]
            same = _library_rows(work / "dlib-1.sqlite") == _library_rows(work / f"dlib-{workers}.sqlite")
            print(
                f"speed-up of {workers} workers over 1: {serial.seconds / parallel.seconds:.2f}x "
                f"(target >= 1.6x on 2 cores); libraries identical: {'yes' if same else 'NO'}"
            )
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
