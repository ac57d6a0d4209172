"""Content hashes of files, read in blocks (photos and model files can be large)."""

from __future__ import annotations

import hashlib
from pathlib import Path


def file_sha256(path: Path, block_size: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(block_size):
            digest.update(block)
    return digest.hexdigest()
