"""The library (scan, people, references, jobs) never reaches the diffusion engine, not even through a
lazy import in a helper it calls: ``faceme refs add --file`` or a scan must not load torch and diffusers
(seconds of start-up and hundreds of MB) to look at a face. Followed through every ``faceme_core``
import, top-level and inside functions."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _module_file(name: str) -> Path | None:
    base = ROOT / Path(*name.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _core_imports(name: str) -> list[str]:
    path = _module_file(name)
    if path is None:
        return []
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found += [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
    return [module for module in found if module.startswith("faceme_core.") and _module_file(module)]


def import_chain(start: str, forbidden: str) -> list[str]:
    """The first chain of imports leading from ``start`` to a module under ``forbidden`` ([] if none)."""
    parent: dict[str, str | None] = {start: None}
    todo = [start]
    while todo:
        module = todo.pop()
        for imported in _core_imports(module):
            if imported in parent:
                continue
            parent[imported] = module
            if imported == forbidden or imported.startswith(forbidden + "."):
                chain = [imported]
                while parent[chain[-1]] is not None:
                    chain.append(parent[chain[-1]])
                return chain[::-1]
            todo.append(imported)
    return []


def test_no_library_module_reaches_the_engine():
    chains = []
    for path in sorted((ROOT / "faceme_core" / "library").rglob("*.py")):
        module = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        chain = import_chain(module, "faceme_core.engine")
        if chain:
            chains.append(" -> ".join(chain))
    assert chains == []


def test_the_chain_is_followed_through_lazy_imports():
    # The checker itself: the restore task reaches the engine only through other modules.
    chain = import_chain("faceme_core.tasks.restore_photos", "faceme_core.engine")
    assert chain[0] == "faceme_core.tasks.restore_photos" and chain[-1].startswith("faceme_core.engine")
