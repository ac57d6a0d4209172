"""Face pipeline speed and paste-back fidelity: ``python benchmarks/bench_faces.py``.

Prints, with the targets next to them:
1. detect + embed with the dlib backend: photos per second over tests/data/album, and seconds per
   2-megapixel photo (an enlarged copy of a test photo);
2. paste-back seconds per face on a 24-megapixel photo (an enlarged test photo), against a naive
   full-frame warp + blend measured in the same run, and their ratio;
3. the round-trip PSNR (align every face, paste the unchanged crops back) on every album photo.

OpenCV runs on one thread (the app shares the CPU with the networks; figures stay comparable on a
busy machine). Times are the best of a few repeats.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from faceme_core.faces.align import align_face  # noqa: E402
from faceme_core.faces.paste import RestoredFace, face_mask, paste_faces  # noqa: E402
from faceme_core.image_types import Photo  # noqa: E402

ALBUM = ROOT / "tests" / "data" / "album"
PASTE_PHOTO = ALBUM / "two_boys.jpg"
TARGET_PASTE_S_PER_FACE = 0.5
TARGET_DETECT_S_PER_2MP = 0.5
TARGET_ROUND_TRIP_PSNR = 35.0


def best_time(function, repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        best = min(best, time.perf_counter() - start)
    return best


def enlarged(photo: Photo, megapixels: float) -> tuple[Photo, float]:
    width, height = photo.size_wh
    factor = float(np.sqrt(megapixels * 1e6 / (width * height)))
    size = (round(width * factor), round(height * factor))
    pixels = cv2.resize(photo.pixels, size, interpolation=cv2.INTER_CUBIC)
    return Photo(pixels=pixels), size[0] / width


def psnr(a: np.ndarray, b: np.ndarray, peak: float = 255.0) -> float:
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return float("inf") if mse == 0 else 10.0 * np.log10(peak * peak / mse)


def naive_paste(pixels: np.ndarray, faces: list[RestoredFace]) -> np.ndarray:
    """Baseline: warp every crop and mask to the whole frame and blend the whole frame."""
    out = pixels.astype(np.float32)
    height, width = pixels.shape[:2]
    for face in faces:
        inverse = cv2.invertAffineTransform(face.matrix)
        restored = cv2.warpAffine(face.crop.astype(np.float32), inverse, (width, height), flags=cv2.INTER_CUBIC)
        mask = cv2.warpAffine(face_mask(face.size), inverse, (width, height), flags=cv2.INTER_LINEAR)[:, :, None]
        out = out * (1 - mask) + restored * mask
    return np.clip(np.rint(out), 0, 255).astype(pixels.dtype)


def bench_detection(analyzer, photos: list[Photo], photo_2mp: Photo) -> None:
    print("1. detect + embed, dlib backend")
    analyzer.analyze(photos[0])  # load the models outside the timing
    start = time.perf_counter()
    count = sum(len(analyzer.analyze(photo).faces) for photo in photos)
    elapsed = time.perf_counter() - start
    print(f"   album: {len(photos)} photos, {count} faces in {elapsed:.2f} s = {len(photos) / elapsed:.1f} photos/s")
    seconds = best_time(lambda: analyzer.analyze(photo_2mp), 3)
    width, height = photo_2mp.size_wh
    verdict = "ok" if seconds <= TARGET_DETECT_S_PER_2MP else "SLOWER THAN TARGET"
    print(f"   {width}x{height} ({width * height / 1e6:.1f} MP): {seconds:.2f} s per photo "
          f"(target <= {TARGET_DETECT_S_PER_2MP} s) {verdict}")


def bench_paste(analyzer, photo: Photo) -> None:
    print("2. paste-back on a 24 MP photo")
    big, factor = enlarged(photo, 24.0)
    points = [np.asarray(face.points, dtype=np.float64) * factor for face in analyzer.analyze(photo).faces]
    if not points:
        print("   no face found: skipped")
        return
    faces = [RestoredFace.from_aligned(align_face(big.pixels, p)) for p in points]
    fast = best_time(lambda: paste_faces(big.pixels, faces), 3) / len(faces)
    naive = best_time(lambda: naive_paste(big.pixels, faces), 1) / len(faces)
    width, height = big.size_wh
    verdict = "ok" if fast < TARGET_PASTE_S_PER_FACE else "SLOWER THAN TARGET"
    print(f"   {width}x{height} ({width * height / 1e6:.1f} MP), {len(faces)} faces, "
          f"eye distance ~{np.mean([np.linalg.norm(p[1] - p[0]) for p in points]):.0f} px")
    print(f"   bounding-box paste: {fast:.3f} s/face (target < {TARGET_PASTE_S_PER_FACE} s) {verdict}")
    print(f"   naive full-frame:   {naive:.3f} s/face   -> {naive / fast:.1f}x faster")
    difference = np.abs(paste_faces(big.pixels, faces).pixels.astype(int) - naive_paste(big.pixels, faces)).max()
    print(f"   largest difference from the naive result: {difference} (float rounding only)")


def bench_round_trip(analyzer, photos: list[Photo], names: list[str]) -> None:
    print("3. round trip (align, paste the unchanged crops back)")
    worst = float("inf")
    for name, photo in zip(names, photos):
        faces = [RestoredFace.from_aligned(align_face(photo.pixels, np.asarray(f.points, np.float64)))
                 for f in analyzer.analyze(photo).faces]
        result = paste_faces(photo.pixels, faces)
        outside = result.mask == 0
        kept = np.array_equal(result.pixels[outside], photo.pixels[outside])
        value = psnr(result.pixels, photo.pixels)
        worst = min(worst, value)
        print(f"   {name:34s} {len(faces)} faces  PSNR {value:6.2f} dB  outside masks identical: {kept}")
    verdict = "ok" if worst >= TARGET_ROUND_TRIP_PSNR else "BELOW TARGET"
    print(f"   worst PSNR {worst:.2f} dB (target >= {TARGET_ROUND_TRIP_PSNR} dB) {verdict}")


def main(argv: list[str] | None = None) -> int:
    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args(argv)
    cv2.setNumThreads(1)
    from faceme_core.faces.analyzer import create_analyzer
    from faceme_core.imageio import load_photo

    paths = sorted(ALBUM.glob("*.jpg"))
    photos = [load_photo(path) for path in paths]
    analyzer = create_analyzer("dlib")
    paste_photo = load_photo(PASTE_PHOTO)
    photo_2mp, _ = enlarged(paste_photo, 2.0)

    bench_detection(analyzer, photos, photo_2mp)
    bench_paste(analyzer, paste_photo)
    bench_round_trip(analyzer, photos, [path.name for path in paths])
    return 0


if __name__ == "__main__":
    sys.exit(main())
