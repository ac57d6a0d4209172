"""`faceme align`: write each face of a photo as an aligned 512x512 crop, plus faces.json."""

from __future__ import annotations

import argparse
from pathlib import Path

from faceme_core.cli.common import add_command, info, count

DESCRIPTION = """\
Detect the faces in PHOTO and write each one, aligned to the 512x512 FFHQ template, into DIR:
face_01.png, face_02.png, ... (16-bit PNG for 16-bit photos) and faces.json (the photo's size and
pixel hash, and per face its box, five points and alignment matrix; faces not worth restoring are
listed with the reason).

To retouch faces in another program: run 'faceme align', edit the crops there (keep them 512x512 and
in place), then put them back with 'faceme paste PHOTO --faces DIR -o OUT'.

Files already in DIR are never overwritten, except the unchanged output of an earlier 'faceme align'.
"""


def non_empty_path(text: str) -> Path:
    """argparse type: Path("") is ".", so an empty argument would silently mean the current folder."""
    if not text.strip():
        raise argparse.ArgumentTypeError("must not be empty")
    return Path(text)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = add_command(
        subparsers, "align", help="write each face as an aligned 512x512 crop (to edit, then 'faceme paste')",
        handler=run, description=DESCRIPTION,
    )
    parser.add_argument("photo", type=non_empty_path, metavar="PHOTO", help="the photo (never modified)")
    parser.add_argument(
        "--out-dir", type=non_empty_path, required=True, metavar="DIR", help="folder for the crops and faces.json"
    )
    parser.add_argument(
        "--backend", choices=("auto", "insightface", "dlib"), default="auto",
        help="face detector (default: auto, insightface if its models are installed, else dlib)",
    )


def run(args: argparse.Namespace) -> int:
    from faceme_core.faces.analyzer import create_analyzer
    from faceme_core.faces.crops_io import FACES_JSON, write_crops_folder
    from faceme_core.imageio import load_photo

    photo = load_photo(args.photo)
    photo_faces = create_analyzer(args.backend).analyze(photo)
    manifest = write_crops_folder(photo, photo_faces, args.out_dir)

    for entry in manifest.faces:
        x0, y0, x1, y1 = entry.box
        print(f"{args.out_dir / entry.crop_file}  face {entry.index + 1} at ({x0:.0f}, {y0:.0f})-({x1:.0f}, {y1:.0f})")
    for skipped in manifest.skipped:
        x0, y0, x1, y1 = skipped.box
        info(f"skipped the face at ({x0:.0f}, {y0:.0f})-({x1:.0f}, {y1:.0f}): {skipped.reason}")
    if not manifest.faces:
        info(f"no face to restore found in {args.photo}")
    info(f"wrote {count(len(manifest.faces), 'crop')} and {args.out_dir / FACES_JSON} ({manifest.backend} backend)")
    return 0
