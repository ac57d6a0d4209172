"""Shared by the restore, compare and jobs GUI tests: tiny restoration models loaded once."""

from __future__ import annotations

from pathlib import Path

import pytest

from faceme_core.restore.session import RestoreSession
from tests.support.small_faces import SMALL_FACE
from tests.support.tiny_models import build_tiny_model_dir


@pytest.fixture(scope="session")
def tiny_models_dir(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("tiny-models")
    build_tiny_model_dir(folder, with_antelopev2=True)
    return folder


@pytest.fixture(scope="session")
def tiny_engine(tiny_models_dir) -> RestoreSession:
    return RestoreSession.open(tiny_models_dir, device="cpu", face_size=SMALL_FACE)  # tiny nets at 64 px
