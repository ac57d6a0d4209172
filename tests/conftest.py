"""Shared fixtures: test photo paths and an isolated app data folder for every test."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from faceme_core.paths import models_dir

# Qt tests never need a screen; set before any Qt import.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

# The user's own model folder, read before any test isolates FACEME_HOME: tests marked real_weights
# use the released weights installed there (or in the Hugging Face cache).
USER_MODELS_DIR = models_dir()

DATA_DIR = Path(__file__).parent / "data"
ALBUM_DIR = DATA_DIR / "album"
FACES_DIR = DATA_DIR / "faces"


@pytest.fixture(autouse=True)
def isolated_app_home(tmp_path_factory, monkeypatch):
    """No test ever reads or writes the real user's models, library or caches."""
    home = tmp_path_factory.mktemp("faceme_home")
    monkeypatch.setenv("FACEME_HOME", str(home))
    monkeypatch.delenv("FACEME_MODELS", raising=False)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    return home


@pytest.fixture
def album_dir() -> Path:
    return ALBUM_DIR


@pytest.fixture
def faces_dir() -> Path:
    return FACES_DIR
