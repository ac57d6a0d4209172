"""What the command line asks the app to open (parsed without Qt, so it is testable on its own)."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

from faceme_desktop import __version__


@dataclass(frozen=True)
class StartOptions:
    library: Path | None  # None: the library of the settings (or the default one)
    photos: tuple[Path, ...]  # photos to restore (the Restore view, part 2, takes them)


def parse_start_options(argv: list[str]) -> StartOptions:
    parser = argparse.ArgumentParser(prog="faceme-desktop", description="FaceMe Desktop: restore faces in family photos")
    parser.add_argument("--library", metavar="PATH",
                        help="open this library file for this run, instead of the usual one")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("photos", nargs="*", metavar="PHOTO", help="photos to restore")
    # Qt's own options (-platform, -style, ...: one dash) are left for QApplication; an unknown
    # --option is a typo, said as one, not handed to Qt.
    ours, _qt = _without_qt_options(argv)
    args, rest = parser.parse_known_args(ours)
    unknown = [arg for arg in rest if arg.startswith("--")]
    if unknown:
        parser.error(f"unrecognized arguments: {' '.join(unknown)}")
    library = Path(args.library).expanduser().absolute() if args.library else None
    return StartOptions(library=library, photos=tuple(Path(p).expanduser().absolute() for p in args.photos))


# Qt's command-line options that take a value (QApplication / QGuiApplication documentation).
_QT_OPTIONS_WITH_VALUE = frozenset({
    "-platform", "-platformpluginpath", "-platformtheme", "-plugin", "-qmljsdebugger", "-style", "-stylesheet",
    "-session", "-display", "-geometry", "-name", "-title", "-qwindowgeometry", "-qwindowtitle", "-qwindowicon",
    "-screen",
})


def _without_qt_options(argv: list[str]) -> tuple[list[str], list[str]]:
    """(our arguments, Qt's): Qt's one-dash options keep their values, which are no photos."""
    ours, qt = [], []
    values_for_qt = 0
    for arg in argv:
        if values_for_qt:
            qt.append(arg)
            values_for_qt -= 1
        elif arg in _QT_OPTIONS_WITH_VALUE:
            qt.append(arg)
            values_for_qt = 1
        elif arg.startswith("-") and not arg.startswith("--") and arg != "-h" and arg != "-":
            qt.append(arg)  # -reverse, -style=fusion, ...
        else:
            ours.append(arg)
    return ours, qt
