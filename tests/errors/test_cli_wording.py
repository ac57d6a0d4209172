"""Small CLI things a new user hit: -v before the command, the help an unknown flag points to, plurals."""

from __future__ import annotations

import pytest

from faceme_core.cli.common import count
from faceme_core.cli.main import main


def run(capsys, *argv) -> tuple[int, str, str]:
    try:
        code = main([str(a) for a in argv])
    except SystemExit as exit_:
        code = exit_.code
    out, err = capsys.readouterr()
    return code, out, err


def test_verbose_is_accepted_before_the_command(capsys, tmp_path):
    missing = tmp_path / "none.sqlite"
    code, _, err = run(capsys, "-v", "people", "list", "--library", missing)
    assert code == 2 and "Traceback" in err and "no library there" in err  # verbose: the traceback too
    code, _, err = run(capsys, "people", "list", "--library", missing)
    assert code == 2 and "Traceback" not in err


@pytest.mark.parametrize("argv, help_of", [
    (["scan", "x", "--bogus"], "faceme scan"),
    (["people", "list", "--bogus"], "faceme people list"),
    (["restore-album", "--list", "--nope"], "faceme restore-album"),
])
def test_an_unknown_flag_points_to_the_commands_own_help(capsys, argv, help_of):
    code, _, err = run(capsys, *argv)
    assert code == 2 and f"(see '{help_of} --help')" in err and "--bogus" in err or "--nope" in err


def test_counts_are_singular_for_one():
    assert [count(1, "face"), count(2, "face"), count(0, "reference")] == ["1 face", "2 faces", "0 references"]
    assert [count(1, "new person", "new people"), count(3, "new person", "new people")] == ["1 new person",
                                                                                          "3 new people"]
