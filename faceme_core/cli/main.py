"""Entry point of the ``faceme`` command: dispatches to one module per subcommand."""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
import traceback

from faceme_core import __version__
from faceme_core.cli.common import UserArgumentParser
from faceme_core.errors import FaceMeError
from faceme_core.tasks import Cancelled

# Each module faceme_core/cli/cmd_<name>.py defines register(subparsers). Heavy imports (torch,
# diffusers, dlib) stay inside the handlers so that `faceme --help` is instant.
COMMAND_MODULES = (
    "detect",
    "align",
    "paste",
    "restore",
    "models",
    "scan",
    "people",
    "refs",
    "restore_album",
)


def build_parser() -> argparse.ArgumentParser:
    parser = UserArgumentParser(
        prog="faceme",
        description="Restore the faces in your photo album while keeping who the people are (FaceMe).",
    )
    parser.add_argument("--version", action="version", version=f"faceme {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=UserArgumentParser)
    subparsers.required = True
    for name in COMMAND_MODULES:
        importlib.import_module(f"faceme_core.cli.cmd_{name}").register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    # File names that are not valid UTF-8 (old archives) must print, not crash, under any locale.
    for stream in (sys.stdout, sys.stderr):
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")
    parser = build_parser()
    args = parser.parse_args(argv)
    verbose = getattr(args, "verbose", False)
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        return int(args.handler(args) or 0)
    except FaceMeError as error:
        if verbose:
            traceback.print_exc()
        print(f"faceme {args.command}: error: {error}", file=sys.stderr)
        return 2
    except Cancelled:  # a command that can say how to resume catches it itself
        print(f"faceme {args.command}: cancelled", file=sys.stderr)
        return 130
    except KeyboardInterrupt:
        print(f"faceme {args.command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # e.g. `faceme detect --json ... | head`: the reader left, nothing is wrong
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())
