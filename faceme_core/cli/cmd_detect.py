"""`faceme detect`: list the faces found in photos (box, key points, scores), as a table or JSON."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from faceme_core.cli.common import add_command, print_json, count
from faceme_core.cli.error_text import describe

if TYPE_CHECKING:
    from faceme_core.faces.types import Detection, PhotoFaces

DESCRIPTION = """\
Detect the faces in each PHOTO and show, per face, its box, eye distance, detector score and quality
(0..1: sharpness, size, frontal pose and detector confidence). Faces too small to restore are listed
as skipped, with the reason.

A photo that cannot be read is reported and the others are still processed; the exit code is then 2
(0 when every photo was processed). With --json, stdout holds one JSON list with an entry per photo
(an "error" entry for a photo that failed); coordinates are in the photo's pixels.
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = add_command(
        subparsers, "detect", help="list the faces in photos (box, points, score, quality)",
        handler=run, description=DESCRIPTION,
    )
    parser.add_argument("photos", type=Path, nargs="+", metavar="PHOTO", help="photos to analyse (never modified)")
    parser.add_argument(
        "--backend", choices=("auto", "insightface", "dlib"), default="auto",
        help="face detector (default: auto, insightface if its models are installed, else dlib)",
    )
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")


def run(args: argparse.Namespace) -> int:
    from faceme_core.errors import ImageLoadError
    from faceme_core.faces.analyzer import create_analyzer
    from faceme_core.imageio import load_photo

    analyzer = create_analyzer(args.backend)
    results, failed = [], False
    for path in args.photos:
        try:
            photo_faces = analyzer.analyze(load_photo(path))
        except ImageLoadError as error:
            failed = True
            print(f"faceme detect: error: {describe(error)}", file=sys.stderr)
            results.append({"photo": str(path), "error": str(error)})
            continue
        entry = photo_faces_to_json(path, photo_faces)
        results.append(entry)
        if not args.json:
            print(format_table(entry))
    if args.json:
        print_json(results)
    return 2 if failed else 0


def photo_faces_to_json(path: Path, photo_faces: PhotoFaces) -> dict:
    """The JSON entry of one photo."""

    def detection_fields(detection: Detection) -> dict:
        return {
            "box": [round(v, 2) for v in detection.box],
            "points": [[round(float(x), 2), round(float(y), 2)] for x, y in detection.points],
            "eye_distance": round(detection.eye_distance, 2),
            "score": round(detection.score, 4),
        }

    return {
        "photo": str(path),
        "size": list(photo_faces.size_wh),
        "backend": photo_faces.backend,
        "faces": [
            {**detection_fields(face.detection), "quality": round(face.quality, 4)} for face in photo_faces.faces
        ],
        "skipped": [
            {**detection_fields(skipped.detection), "reason": skipped.reason} for skipped in photo_faces.skipped
        ],
    }


def format_table(entry: dict) -> str:
    """A readable block for one photo's JSON entry."""
    width, height = entry["size"]
    faces, skipped = entry["faces"], entry["skipped"]
    lines = [f"{entry['photo']} ({width}x{height}, {entry['backend']}): {count(len(faces), 'face')}, {len(skipped)} skipped"]
    if faces:
        lines.append(f"  {'#':>2}  {'box x0,y0 - x1,y1':<26} {'eyes px':>7} {'score':>6} {'quality':>7}")
    for index, face in enumerate(faces, start=1):
        x0, y0, x1, y1 = face["box"]
        box = f"{x0:.0f},{y0:.0f} - {x1:.0f},{y1:.0f}"
        lines.append(f"  {index:>2}  {box:<26} {face['eye_distance']:>7.1f} {face['score']:>6.2f} {face['quality']:>7.2f}")
    for face in skipped:
        x0, y0, x1, y1 = face["box"]
        lines.append(f"  skipped {x0:.0f},{y0:.0f} - {x1:.0f},{y1:.0f}: {face['reason']}")
    return "\n".join(lines)
