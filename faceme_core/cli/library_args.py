"""Options and helpers every library command shares (scan, people, refs, restore-album)."""

from __future__ import annotations

import argparse


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
