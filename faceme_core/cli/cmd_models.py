"""`faceme models` (placeholder until its issue lands)."""

from faceme_core.cli.common import add_command
from faceme_core.errors import FaceMeError


def register(subparsers):
    add_command(subparsers, "models", help="(not available yet)", handler=run)


def run(args):
    raise FaceMeError("this command is not available yet")
