"""What the command line asks the app to open (parsed without Qt, so it is testable on its own)."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class StartOptions:
    library: Path | None  # None: the library of the settings (or the default one)
    photos: tuple[Path, ...]  # photos to restore (the Restore view, part 2, takes them)


def parse_start_options(argv: list[str]) -> StartOptions:
    parser = argparse.ArgumentParser(prog="faceme-desktop", description="FaceMe Desktop: restore faces in family photos")
    parser.add_argument("--library", metavar="PATH", help="open this library file instead of the usual one")
    parser.add_argument("photos", nargs="*", metavar="PHOTO", help="photos to restore")
    # Qt's own options (-platform, -style, ...) are left for QApplication.
    args, _qt_args = parser.parse_known_args(argv)
    library = Path(args.library).expanduser().absolute() if args.library else None
    return StartOptions(library=library, photos=tuple(Path(p).expanduser().absolute() for p in args.photos))
