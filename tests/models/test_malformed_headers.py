"""Safetensors headers that are JSON but not what the format says: one error line, never a traceback."""

from __future__ import annotations

import json
import shutil
import struct
from pathlib import Path

import pytest

from faceme_core.cli.main import main
from faceme_core.errors import ModelFormatError
from faceme_core.models.headers import read_safetensors_header
from faceme_core.models.store import resolve_model_paths
from tests.models.helpers import mix_shapes, write_sparse_safetensors


def _with_header(path: Path, edit) -> None:
    """Rewrite ``path``'s JSON header through ``edit`` (a dict -> raw bytes), keeping its data."""
    data = path.read_bytes()
    (length,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + length])
    raw = edit(header)
    raw += b" " * (-len(raw) % 8)
    path.write_bytes(struct.pack("<Q", len(raw)) + raw + data[8 + length:])


BAD_HEADERS = {
    "metadata list": lambda h: json.dumps({**h, "__metadata__": [1, 2]}).encode(),
    "metadata text": lambda h: json.dumps({**h, "__metadata__": "x"}).encode(),
    "metadata numbers": lambda h: json.dumps({**h, "__metadata__": {"format": 3}}).encode(),
    "5,000 digits": lambda h: json.dumps(h).encode()[:-1] + b', "n": ' + b"9" * 5000 + b"}",
    "nested deep": lambda h: json.dumps(h).encode()[:-1] + b', "n": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
}


@pytest.mark.parametrize("name", BAD_HEADERS)
def test_bad_header_is_a_format_error(tmp_path, name):
    path = tmp_path / "mix.safetensors"
    write_sparse_safetensors(path, mix_shapes())
    _with_header(path, BAD_HEADERS[name])
    with pytest.raises(ModelFormatError, match="mix.safetensors"):
        read_safetensors_header(path)


def test_status_verify_and_restore_say_the_mix_is_unusable(tmp_path, tiny_models, capsys, monkeypatch):
    from tests.support.tiny_insightface import build_tiny_antelopev2
    from faceme_core.models.layout import default_layout

    models = tmp_path / "models"
    shutil.copytree(tiny_models.base_model.parent, models)
    build_tiny_antelopev2(default_layout(models).antelopev2)
    monkeypatch.setenv("FACEME_MODELS", str(models))
    mix = default_layout(models).mix
    _with_header(mix, BAD_HEADERS["metadata list"])

    assert main(["models", "status"]) == 0
    out = capsys.readouterr().out
    assert "invalid" in out and "__metadata__" in out
    assert main(["models", "verify", str(mix)]) == 2
    assert "__metadata__" in capsys.readouterr().out
    with pytest.raises(ModelFormatError) as caught:
        resolve_model_paths()  # what restore does first
    assert any(detail.startswith("mix: not usable") for detail in caught.value.details)
