"""`faceme scan FOLDER... [--library PATH] [--reembed]`: add album folders to the library, incrementally.

Also holds the ``--library`` option and the progress printer the other library commands share.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from faceme_core.cli.common import add_command, info, print_json

DESCRIPTION = """\
Find the photos under each FOLDER (recursively), detect and identify their faces, and group the faces
into people. Re-running is cheap: unchanged files are skipped, moved or renamed photos are recognised
by their content and keep their people, deleted ones are marked missing (not forgotten). A scan can be
interrupted at any moment (Ctrl+C stops it after the photos in progress); running it again finishes
the job. Photos are analysed in parallel, one process per CPU core (see --workers).

Skipped: hidden and system folders, FaceMe's restore-album output folders, files FaceMe wrote.
A file that cannot be read is recorded with the reason (see --errors) and retried once it changes.

  faceme scan ~/Pictures/Family            scan (again: only what changed is looked at)
  faceme scan --reembed ~/Pictures/Family  after installing a better face model
  faceme scan --errors | --missing | --forget-missing
"""


def add_verbose_option(parser: argparse.ArgumentParser) -> None:
    """-v on a sub-action too (SUPPRESS: it never resets one given before the action)."""
    parser.add_argument("-v", "--verbose", action="store_true", default=argparse.SUPPRESS,
                        help="show details, and tracebacks of errors")


def add_library_action(actions, name: str, help: str) -> argparse.ArgumentParser:
    """A sub-action (``faceme people rename``...) with the library and verbose options of its command."""
    sub = actions.add_parser(name, help=help, description=help)
    add_library_option(sub)
    add_verbose_option(sub)
    return sub


def add_library_option(parser: argparse.ArgumentParser) -> None:
    # SUPPRESS: the option may be given before or after a sub-action without one erasing the other.
    parser.add_argument(
        "--library",
        metavar="PATH",
        default=argparse.SUPPRESS,
        help="the library file (default: library.sqlite in FaceMe's user data folder)",
    )


def id_arg(text: str) -> int:
    """argparse type for face, person, reference and job ids: a bad one is a one-line usage error."""
    from faceme_core.library.ids import parse_id

    try:
        return parse_id(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def open_library(args: argparse.Namespace, *, create: bool = False):
    from faceme_core.library.library import Library, library_path_from_arg

    return Library.open(library_path_from_arg(getattr(args, "library", None)), create=create)


def format_eta(seconds: float | None) -> str:
    if seconds is None:
        return "ETA --:--"
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    return f"ETA {hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"ETA {rest // 60}:{rest % 60:02d}"


class ProgressPrinter:
    """Prints progress lines to stderr, at most every ``interval`` seconds (and the last one)."""

    def __init__(self, interval: float = 1.0):
        self._interval = interval
        self._last = 0.0

    def __call__(self, line: str, *, final: bool = False) -> None:
        now = time.monotonic()
        if final or now - self._last >= self._interval:
            self._last = now
            info(line)


def register(subparsers):
    parser = add_command(
        subparsers,
        "scan",
        help="add album folders to the library and group faces into people",
        handler=run,
        description=DESCRIPTION,
    )
    parser.add_argument("folders", nargs="*", metavar="FOLDER", help="album folder(s) to scan")
    add_library_option(parser)
    parser.add_argument(
        "--backend",
        choices=("auto", "insightface", "dlib"),
        default="auto",
        help="face analyzer (default: insightface if installed, else dlib)",
    )
    parser.add_argument(
        "--reembed",
        action="store_true",
        help="recompute face embeddings with the analyzer's model and regroup (keeps your decisions)",
    )
    parser.add_argument(
        "--workers",
        type=_workers_arg,
        default=None,
        metavar="N",
        help="processes analysing photos at once (default: one per CPU core; 1: in this process)",
    )
    parser.add_argument("--json", action="store_true", help="print the summary (or listing) as JSON on stdout")
    listing = parser.add_mutually_exclusive_group()
    listing.add_argument(
        "--errors", action="store_true", help="instead of scanning: list the files that could not be read, and why"
    )
    listing.add_argument("--missing", action="store_true", help="instead of scanning: list the photos no longer found")
    listing.add_argument(
        "--forget-missing",
        action="store_true",
        help="instead of scanning: remove the missing photos, their faces and references",
    )


def _workers_arg(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: give a whole number of processes, 1 or more")
    return value


def _photo_listing(args) -> int:
    from faceme_core.library import photos

    with open_library(args) as library:
        if args.forget_missing:
            print(f"forgot {photos.forget_missing(library)} missing photos")
            return 0
        records = photos.list_photos(library, "error" if args.errors else "missing")
    if args.json:
        print_json(
            [{"path": str(r.path), "status": r.status, "error": r.error, "faces": r.face_count} for r in records]
        )
    else:
        for record in records:
            if args.errors:  # load errors already start with the file's name
                print(record.error if record.error.startswith(str(record.path)) else f"{record.path}: {record.error}")
            else:
                print(f"{record.path} ({record.face_count} faces)")
        print(f"{len(records)} {'failed' if args.errors else 'missing'} photos")
    return 0


def run(args):
    from dataclasses import asdict

    from faceme_core.cli.interrupt import CANCELLED_EXIT_CODE, cancel_on_ctrl_c
    from faceme_core.errors import FaceMeError
    from faceme_core.faces.analyzer import create_analyzer
    from faceme_core.library.albums import check_folders
    from faceme_core.library.scan import scan_folders
    from faceme_core.tasks import Cancelled, CancelToken, TaskProgress

    if args.errors or args.missing or args.forget_missing:
        if args.folders:
            raise FaceMeError("--errors, --missing and --forget-missing take no FOLDER")
        return _photo_listing(args)
    if not args.folders:
        raise FaceMeError("give the album FOLDER(s) to scan")
    check_folders(args.folders)  # before loading any model: a typo should fail at once
    analyzer = create_analyzer(args.backend)
    printer = ProgressPrinter()

    def progress(p: TaskProgress) -> None:
        if p.stage == "walking":
            printer("looking for photos...")
        elif p.stage == "grouping":
            if p.done == 0:
                printer("grouping faces into people...", final=True)
        elif p.total:
            failed = f", {p.message}" if p.message else ""
            where = f" - {Path(p.item).name}" if p.item else ""
            printer(
                f"{p.stage} {p.done}/{p.total} photos{failed}, {format_eta(p.eta_seconds)}{where}",
                final=p.done == p.total,
            )

    with open_library(args, create=True) as library, cancel_on_ctrl_c(CancelToken()) as token:
        try:
            summary = scan_folders(library, args.folders, analyzer, reembed=args.reembed, progress=progress,
                                   cancel=token, workers=args.workers)
        except Cancelled:
            info("faceme scan: cancelled; run the same command again to continue")
            return CANCELLED_EXIT_CODE
    if args.json:
        print_json(asdict(summary))
        return 0
    print(
        f"{summary.found} photos: {summary.added} new, {summary.changed} changed, {summary.moved} moved, "
        f"{summary.unchanged} unchanged, {summary.missing} newly missing, {summary.failed} failed; "
        f"{summary.faces_added} faces added, {summary.people_created} new people ({summary.seconds:.1f} s)"
    )
    if summary.reembedded:
        print(f"{summary.reembedded} faces re-embedded with {analyzer.embedding_model_id}")
    elif args.reembed:
        print(f"nothing to re-embed: the faces already use {analyzer.embedding_model_id}. A better model comes "
              "with the antelopev2 pack: 'faceme models download antelopev2' (or 'faceme models import DIR')")
    for path, error in summary.failures:
        # Load errors already start with the file's name.
        print(f"failed: {error}" if error.startswith(str(path)) else f"failed: {path}: {error}")
    for folder in summary.output_folders_skipped:
        print(f"skipped: {folder}: a FaceMe restore-album output folder (restored copies are never scanned)")
    if summary.missing:
        print(
            "list missing photos with 'faceme scan --missing'; "
            "they keep their people until 'faceme scan --forget-missing'"
        )
    return 0
