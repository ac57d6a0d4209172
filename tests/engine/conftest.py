"""Engine fixtures: the tiny model folder is built once per session (and cached across sessions)."""

from __future__ import annotations

import numpy as np
import pytest

from tests.engine.helpers import FACE


@pytest.fixture(scope="session")
def tiny_paths():
    """Read-only tiny models in the real layout; copy with build_tiny_model_dir to modify files."""
    from tests.support.tiny_models import cached_tiny_model_paths

    return cached_tiny_model_paths()


@pytest.fixture(scope="session")
def tiny_restorer(tiny_paths, tmp_path_factory):
    """One loaded Restorer for tests that only run it (loading takes a second)."""
    from faceme_core.engine.restorer import Restorer

    return Restorer.load(tiny_paths, device="cpu", face_size=FACE, cache_dir=tmp_path_factory.mktemp("engine_cache"))


@pytest.fixture
def rng():
    return np.random.default_rng(1234)
