"""Core errors carry fields a GUI can show and name no CLI flag or command; the CLI words them with its flags."""

from __future__ import annotations

import ast
import pickle
import re
from pathlib import Path

import pytest

import faceme_core
from faceme_core.cli.error_text import COMMANDS, FLAGS, describe
from faceme_core.cli.main import COMMAND_MODULES
from faceme_core.errors import ACTIONS, FaceMeError, LibraryError
from faceme_core.library.jobs import check_out_dir
from faceme_core.library.library import Library
from faceme_core.library.people import resolve_person

CORE = Path(faceme_core.__file__).parent
FLAG = re.compile(r"(?<![\w-])--[a-z][\w-]*")
COMMAND = re.compile(r"faceme (%s)\b" % "|".join(name.replace("_", "-") for name in COMMAND_MODULES))
# A command whose name is no English word ("restore-album") is the CLI's, with or without "faceme".
CLI_ONLY_NAME = re.compile(r"\b(%s)\b" % "|".join(name.replace("_", "-") for name in COMMAND_MODULES if "_" in name))


def _docstrings(tree: ast.AST) -> set[int]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                found.add(id(first.value))
    return found


def test_no_core_string_names_a_cli_flag_or_command():
    offenders = []
    for source in sorted(CORE.rglob("*.py")):
        if "cli" in source.relative_to(CORE).parts:
            continue
        tree = ast.parse(source.read_text(encoding="utf-8"))
        docstrings = _docstrings(tree)
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
                if FLAG.search(node.value) or COMMAND.search(node.value) or CLI_ONLY_NAME.search(node.value):
                    offenders.append(f"{source.relative_to(CORE)}:{node.lineno}: {node.value!r}")
    assert offenders == []


def test_the_scan_catches_a_flag_in_a_message(tmp_path):
    # The check above must be able to fail: the same patterns on a message the old code had.
    assert FLAG.search("--out-dir /x: exists and is not a folder")
    assert COMMAND.search("run 'faceme scan --reembed FOLDER...' to switch")
    assert COMMAND.search("see 'faceme restore-album --list'")
    assert CLI_ONLY_NAME.search("is a FaceMe restore-album output folder")


def test_error_fields_and_plain_sentence():
    error = LibraryError("is inside the album folder /a", setting="out_dir", value="/a/out",
                         hint="choose a folder outside your albums")
    assert (error.what, error.setting, error.value) == ("is inside the album folder /a", "out_dir", "/a/out")
    assert str(error) == "/a/out: is inside the album folder /a; choose a folder outside your albums"
    assert describe(error) == "--out-dir /a/out: is inside the album folder /a; choose a folder outside your albums"
    assert str(FaceMeError("just a message")) == "just a message"  # one-message callers keep working
    copy = pickle.loads(pickle.dumps(error))  # crosses process boundaries (scan workers)
    assert (str(copy), copy.setting, copy.hint) == (str(error), "out_dir", error.hint)


def test_unknown_action_is_a_bug():
    with pytest.raises(ValueError):
        FaceMeError("x", action="no-such-step")
    assert set(COMMANDS) == ACTIONS


def test_out_dir_inside_an_album(tmp_path):
    album = tmp_path / "album"
    album.mkdir()
    with pytest.raises(LibraryError) as caught:
        check_out_dir(album / "restored", [str(album)])
    error = caught.value
    assert error.setting == "out_dir" and "--" not in str(error) and error.hint
    assert describe(error).startswith(f"--out-dir {album / 'restored'}: is inside the album folder")


def test_library_that_does_not_exist(tmp_path):
    with pytest.raises(LibraryError) as caught:
        Library.open(tmp_path / "none.sqlite", create=False)
    error = caught.value
    assert error.setting == "library" and error.action == "scan" and "faceme" not in str(error)
    assert describe(error) == (f"--library {tmp_path / 'none.sqlite'}: no library there; scan a folder first to "
                               "create it (run 'faceme scan FOLDER')")


def test_unknown_person(tmp_path):
    library = Library.open(tmp_path / "lib.sqlite")
    try:
        with library.transaction() as conn, pytest.raises(LibraryError) as caught:
            resolve_person(conn, "Nobody")
    finally:
        library.close()
    assert str(caught.value) == "no person named 'Nobody'"
    assert describe(caught.value) == "no person named 'Nobody' (see 'faceme people list')"


def test_setting_without_value_names_its_flag_in_the_hint():
    error = LibraryError("face 3 belongs to nobody", setting="person", hint="say which person it is not")
    assert str(error) == "face 3 belongs to nobody; say which person it is not"
    assert describe(error) == "face 3 belongs to nobody; say which person it is not (--person)"
    assert describe(LibraryError("no face with id 3", action="list_people")) == (
        "no face with id 3 (see 'faceme people list')")


def test_every_flag_is_a_flag():
    assert all(flag.startswith("-") for flag in FLAGS.values())
