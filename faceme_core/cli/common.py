"""Shared plumbing for subcommands: parser construction, output helpers."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any, Callable


class UserArgumentParser(argparse.ArgumentParser):
    """argparse that reports a bad command line as one line (plus a hint), exit code 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def add_command(
    subparsers: argparse._SubParsersAction,
    name: str,
    *,
    help: str,
    handler: Callable[[argparse.Namespace], int | None],
    description: str | None = None,
) -> argparse.ArgumentParser:
    """A subcommand with the options every command has (``--verbose``)."""
    parser = subparsers.add_parser(
        name,
        help=help,
        description=description or help,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="show details, and tracebacks of errors")
    parser.set_defaults(handler=handler)
    return parser


def print_json(data: Any) -> None:
    json.dump(data, sys.stdout, indent=2, ensure_ascii=False, default=str)
    sys.stdout.write("\n")


def info(message: str) -> None:
    """Human-readable progress goes to stderr so stdout stays parseable (``--json``)."""
    print(message, file=sys.stderr, flush=True)


def count(number: int, singular: str, plural: str | None = None) -> str:
    """``1 face``, ``2 faces``, ``1 new person``, ``3 new people``."""
    return f"{number} {singular if number == 1 else (plural or singular + 's')}"
