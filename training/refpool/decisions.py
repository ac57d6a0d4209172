"""The build's memory: every analysis and every keep/reject decision, as append-only JSON lines.

Each line is written, flushed and fsynced before the builder moves on, so an interrupted build
resumes from the last complete line (a torn last line, from a crash mid-write, is ignored).
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

KEPT = "kept"
REJECTED = "rejected"  # similarity at or below the threshold
FAILED = "failed"  # no face found in the render, or the synthesiser raised a FaceMeError


@dataclass(frozen=True)
class RenderDecision:
    identity: str  # ground truth, relative to the data root
    target: str  # cluster target name, e.g. "p1e2"
    attempt: int  # 1-based
    seed: int
    synthesiser: str
    outcome: str  # KEPT, REJECTED or FAILED
    similarity: float | None  # ArcFace cosine of the render to the source face
    threshold: float
    image: str | None  # the kept render, relative to the data root
    reason: str = ""
    render_pose: list[float] | None = None  # what the render really shows, when measured
    render_cluster: str | None = None  # the target nearest to the render's pose/expression

    def to_json(self) -> str:
        return json.dumps(asdict(self))


class JsonLines:
    """Append records to a JSONL file durably; read back every complete one."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def read(self) -> list[dict]:
        if not self.path.is_file():
            return []
        records = []
        with open(self.path, encoding="utf-8") as handle:
            for line in handle:
                if not line.endswith("\n"):
                    break  # torn last line: written when the process died; redone on resume
                if line.strip():
                    records.append(json.loads(line))
        return records

    def append(self, line: str) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._drop_torn_tail()
        with open(self.path, "a", encoding="utf-8") as handle:
            handle.write(line + "\n")
            handle.flush()
            os.fsync(handle.fileno())

    def _drop_torn_tail(self) -> None:
        if not self.path.is_file() or self.path.stat().st_size == 0:
            return
        data = self.path.read_bytes()
        if not data.endswith(b"\n"):
            with open(self.path, "r+b") as handle:
                handle.truncate(data.rfind(b"\n") + 1)
