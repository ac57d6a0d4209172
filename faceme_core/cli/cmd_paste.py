"""`faceme paste`: put the (restored or hand-edited) crops of 'faceme align' back into the photo."""

from __future__ import annotations

import argparse

from faceme_core.cli.cmd_align import non_empty_path
from faceme_core.cli.common import add_command, info, count
from faceme_core.errors import ImageSaveError

DESCRIPTION = """\
Blend the face crops in DIR (written by 'faceme align PHOTO --out-dir DIR') back into PHOTO and write
the result to OUT. Each crop is warped back to where its face was and blended with a soft edge; the
rest of the photo is left untouched (bit for bit), and 16-bit, gray and transparent photos keep their
format.

This is how to retouch faces in another program: 'faceme align', edit face_NN.png there (same size,
same file name), then 'faceme paste'. Areas erased to transparency in a crop leave the photo as it
was there. The crops must come from this very photo: faces.json records its size and pixel hash.
PHOTO itself is never overwritten, and OUT must lie outside DIR (it would replace a crop).
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = add_command(
        subparsers, "paste", help="blend edited or restored face crops back into the photo",
        handler=run, description=DESCRIPTION,
    )
    parser.add_argument(
        "photo", type=non_empty_path, metavar="PHOTO", help="the photo the crops were aligned from"
    )
    parser.add_argument(
        "--faces", type=non_empty_path, required=True, metavar="DIR", help="folder written by 'faceme align'"
    )
    parser.add_argument(
        "-o", "--output", type=non_empty_path, required=True, metavar="OUT",
        help="where to write the result (not inside DIR)",
    )
    parser.add_argument(
        "--upscale", type=int, choices=(1, 2), default=1,
        help="enlarge the photo 2x (Lanczos) and paste the faces at full detail (default: 1)",
    )
    parser.add_argument("--overwrite", action="store_true", help="replace OUT if it exists (never PHOTO)")


def run(args: argparse.Namespace) -> int:
    from faceme_core.faces.crops_io import (
        check_manifest_matches,
        check_output_outside,
        load_restored_faces,
        read_manifest,
    )
    from faceme_core.faces.paste import paste_into_photo
    from faceme_core.imageio import load_photo, save_photo
    from faceme_core.imageio.output_path import check_output_path

    if args.output.resolve() == args.photo.resolve():
        raise ImageSaveError(f"{args.output}: is the input photo; write the result to another file")
    check_output_path(args.output)  # a FIFO there would hang; refused before the slow work
    if args.output.exists() and not args.overwrite:
        raise ImageSaveError(f"{args.output}: already exists; choose another name, or pass --overwrite")
    manifest = read_manifest(args.faces)  # before loading a possibly large photo: fail fast
    check_output_outside(args.output, manifest, args.faces)
    photo = load_photo(args.photo)
    check_manifest_matches(manifest, photo, args.faces)
    faces = load_restored_faces(manifest, args.faces)
    result = paste_into_photo(photo, faces, upscale=args.upscale)
    # As its help says: an existing OUT, even an earlier paste, is replaced only with --overwrite.
    written = save_photo(result, args.output, overwrite=args.overwrite, replace_own=False)
    info(f"pasted {count(len(faces), 'face')} into {written}")
    print(written)
    return 0
