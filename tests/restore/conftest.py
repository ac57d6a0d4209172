"""Tiny models (with a tiny antelopev2 pack) in the real layouts, shared by the restore tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.tiny_models import build_tiny_model_dir


@pytest.fixture(scope="package")
def tiny_models(tmp_path_factory) -> Path:
    models_dir = tmp_path_factory.mktemp("models")
    build_tiny_model_dir(models_dir, with_antelopev2=True)
    return models_dir
