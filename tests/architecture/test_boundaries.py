"""The package boundaries that keep the core reusable, checked on every import statement (top-level and
inside functions), so a lazy import cannot sneak past:

- ``faceme_core`` never imports Qt, ``faceme_desktop`` or ``training``: the CLI, the app and training
  all stand on it;
- ``training`` never imports ``faceme_desktop``;
- ``faceme_desktop`` never imports ``training``.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
QT = ("PySide6", "shiboken6", "superqt", "qtawesome", "qtpy", "PyQt5", "PyQt6")

FORBIDDEN = {
    "faceme_core": QT + ("faceme_desktop", "training"),
    "training": QT + ("faceme_desktop",),
    "faceme_desktop": ("training",),
}


def imported_modules(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
    return found


def violations(package: str, forbidden: tuple[str, ...]) -> list[str]:
    bad = []
    for path in sorted((ROOT / package).rglob("*.py")):
        for line, module in imported_modules(path):
            if module.split(".")[0] in forbidden:
                bad.append(f"{path.relative_to(ROOT)}:{line} imports {module}")
    return bad


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_package_respects_its_import_boundary(package):
    assert violations(package, FORBIDDEN[package]) == []


def test_the_check_sees_lazy_imports(tmp_path, monkeypatch):
    """The checker itself: an import inside a function body is found."""
    module = tmp_path / "faceme_core" / "sneaky.py"
    module.parent.mkdir()
    module.write_text("def f():\n    from PySide6.QtCore import QObject\n    return QObject\n")
    monkeypatch.setattr(__import__(__name__, fromlist=["ROOT"]), "ROOT", tmp_path)
    assert violations("faceme_core", FORBIDDEN["faceme_core"]) == ["faceme_core/sneaky.py:2 imports PySide6.QtCore"]
