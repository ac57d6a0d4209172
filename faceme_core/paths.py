"""Where the app keeps its data: models, the default library, caches (platformdirs)."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP_NAME = "FaceMe"
APP_AUTHOR = "FaceMe"


def user_data_dir() -> Path:
    """``FACEME_HOME`` overrides the platform's user data folder (tests and portable installs)."""
    override = os.environ.get("FACEME_HOME")
    if override:
        return Path(override)
    return Path(platformdirs.user_data_dir(APP_NAME, APP_AUTHOR))


def models_dir() -> Path:
    """``FACEME_MODELS`` overrides the model folder (e.g. a shared network drive)."""
    override = os.environ.get("FACEME_MODELS")
    return Path(override) if override else user_data_dir() / "models"


def default_library_path() -> Path:
    return user_data_dir() / "library" / "library.sqlite"


def cache_dir() -> Path:
    return Path(platformdirs.user_cache_dir(APP_NAME, APP_AUTHOR)) if not os.environ.get("FACEME_HOME") \
        else Path(os.environ["FACEME_HOME"]) / "cache"
