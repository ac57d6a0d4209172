"""What a check found about one component: errors (the engine cannot use it) and warnings (it can)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Mapping

from faceme_core.models.headers import TensorInfo

Level = Literal["error", "warning"]
LIST_LIMIT = 12  # names listed per problem before "... and N more"


# Buffers old CLIP files carry (transformers < 4.31 saved them); loaders drop them, so verify does too.
IGNORABLE_BUFFERS = ("position_ids",)


@dataclass(frozen=True)
class Finding:
    level: Level
    message: str


@dataclass(frozen=True)
class VerifyReport:
    component: str
    path: Path
    findings: tuple[Finding, ...]
    notes: tuple[str, ...] = ()  # what was found, for the reader (variant, layer count, ...)

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def errors(self) -> list[str]:
        return [f.message for f in self.findings if f.level == "error"]

    @property
    def warnings(self) -> list[str]:
        return [f.message for f in self.findings if f.level == "warning"]

    def to_json(self) -> dict:
        return {
            "component": self.component,
            "path": str(self.path),
            "ok": self.ok,
            "errors": self.errors,
            "warnings": self.warnings,
            "notes": list(self.notes),
        }

    def to_text(self) -> str:
        lines = [f"{self.component}: {'OK' if self.ok else 'INVALID'} ({self.path})"]
        lines += [f"  error: {m}" for m in self.errors]
        lines += [f"  warning: {m}" for m in self.warnings]
        lines += [f"  note: {m}" for m in self.notes]
        return "\n".join(lines)


@dataclass
class ReportBuilder:
    """Collects findings while a check runs; ``build()`` freezes them."""

    component: str
    path: Path
    findings: list[Finding] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def error(self, message: str) -> None:
        self.findings.append(Finding("error", message))

    def warn(self, message: str) -> None:
        self.findings.append(Finding("warning", message))

    def note(self, message: str) -> None:
        self.notes.append(message)

    def extend(self, findings: list[Finding]) -> None:
        self.findings.extend(findings)

    @property
    def has_errors(self) -> bool:
        return any(f.level == "error" for f in self.findings)

    def build(self) -> VerifyReport:
        return VerifyReport(self.component, self.path, tuple(self.findings), tuple(self.notes))


def format_names(names: list[str]) -> str:
    shown = ", ".join(names[:LIST_LIMIT])
    return shown + (f" ... and {len(names) - LIST_LIMIT} more" if len(names) > LIST_LIMIT else "")


def format_shape(shape: tuple[int, ...]) -> str:
    return "(" + ", ".join(str(d) for d in shape) + ")"


def compare_tensors(
    expected: Mapping[str, tuple[int, ...]],
    found: Mapping[str, TensorInfo],
    *,
    where: str,
    ignorable_unexpected: tuple[str, ...] = (),
) -> list[Finding]:
    """Missing, unexpected and wrongly shaped tensors, each named (a pure function of two name->shape maps).

    ``ignorable_unexpected``: name suffixes that loaders drop silently (e.g. CLIP's position_ids buffer).
    """
    findings: list[Finding] = []
    missing = [name for name in expected if name not in found]
    unexpected = [name for name in found if name not in expected and not name.endswith(ignorable_unexpected)]
    if missing:
        findings.append(Finding("error", f"{where}: {len(missing)} tensor(s) missing: {format_names(missing)}"))
    if unexpected:
        findings.append(Finding("error", f"{where}: {len(unexpected)} unexpected tensor(s): {format_names(unexpected)}"))
    for name, shape in expected.items():
        info = found.get(name)
        if info is not None and tuple(info.shape) != tuple(shape):
            findings.append(
                Finding(
                    "error",
                    f"{where}: tensor {name} has shape {format_shape(info.shape)}, expected {format_shape(shape)}",
                )
            )
    return findings
