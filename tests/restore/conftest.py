"""Tiny models (with a tiny antelopev2 pack) in the real layouts, shared by the restore tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.small_faces import use_small_faces
from tests.support.tiny_models import build_tiny_model_dir


@pytest.fixture(scope="package")
def tiny_models(tmp_path_factory) -> Path:
    models_dir = tmp_path_factory.mktemp("models")
    build_tiny_model_dir(models_dir, with_antelopev2=True)
    return models_dir


@pytest.fixture(autouse=True)
def small_faces(monkeypatch):
    """Restore at 64 px: the tiny networks give the same coverage at 1/64 of the pixels."""
    use_small_faces(monkeypatch)
