"""Small real files for model store tests."""

from __future__ import annotations

import json
import shutil
import struct
from pathlib import Path

DTYPE_BYTES = {"F16": 2, "F32": 4}


def write_sparse_safetensors(path: Path, shapes: dict[str, tuple[int, ...]], *, dtype: str = "F16") -> int:
    """A valid safetensors file whose data is all zeros, written sparse (fast, no memory). Returns its size."""
    header: dict[str, dict] = {}
    offset = 0
    for name, shape in shapes.items():
        size = DTYPE_BYTES[dtype]
        for d in shape:
            size *= d
        header[name] = {"dtype": dtype, "shape": list(shape), "data_offsets": [offset, offset + size]}
        offset += size
    raw = json.dumps(header).encode()
    raw += b" " * (-len(raw) % 8)  # the format aligns the data section to 8 bytes
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as f:
        f.write(struct.pack("<Q", len(raw)))
        f.write(raw)
        f.truncate(8 + len(raw) + offset)
    return 8 + len(raw) + offset


def mix_shapes() -> dict[str, tuple[int, ...]]:
    from faceme_core.engine.mix import expected_mix_tensors

    return {spec.name: spec.shape for spec in expected_mix_tensors()}


def fake_hf_snapshot(cache: Path, repo_id: str, commit: str = "a" * 40, revision: str = "main") -> Path:
    """The Hub cache's layout for one repository: refs/<revision> -> snapshots/<commit>/."""
    storage = cache / ("models--" + repo_id.replace("/", "--"))
    snapshot = storage / "snapshots" / commit
    snapshot.mkdir(parents=True, exist_ok=True)
    (storage / "refs").mkdir(exist_ok=True)
    (storage / "refs" / revision).write_text(commit)
    return snapshot


def copy_tree(source: Path, target: Path) -> Path:
    shutil.copytree(source, target, dirs_exist_ok=True)
    return target
