"""Model store fixtures: an empty Hugging Face cache per test and the shared tiny components."""

from __future__ import annotations

from pathlib import Path

import pytest

from faceme_core.models.layout import ModelPaths


@pytest.fixture(autouse=True)
def hf_cache(tmp_path, monkeypatch) -> Path:
    """A private, empty Hub cache: the user's real cache never leaks into a test."""
    cache = tmp_path / "hf-cache"
    cache.mkdir()
    monkeypatch.setenv("HF_HUB_CACHE", str(cache))
    return cache


@pytest.fixture
def tiny_models() -> ModelPaths:
    """The shared tiny build (read-only: copy before modifying anything)."""
    from tests.support.tiny_models import cached_tiny_model_paths

    return cached_tiny_model_paths()
