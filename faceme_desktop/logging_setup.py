"""A log file in the user's log folder (what to attach to a bug report)."""

from __future__ import annotations

import logging
import logging.handlers
from pathlib import Path

from platformdirs import user_log_dir

LOG_NAME = "faceme-desktop.log"


def log_file_path() -> Path:
    return Path(user_log_dir("faceme-desktop", "FaceMe")) / LOG_NAME


def setup_logging(path: Path | None = None) -> Path:
    """Log INFO and above to a rotating file; returns its path. Safe to call twice."""
    path = path or log_file_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    root = logging.getLogger()
    if not any(getattr(h, "faceme_log", False) for h in root.handlers):
        handler = logging.handlers.RotatingFileHandler(path, maxBytes=2_000_000, backupCount=3, encoding="utf-8")
        handler.faceme_log = True  # type: ignore[attr-defined]
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        root.addHandler(handler)
        root.setLevel(min(root.level or logging.INFO, logging.INFO))
    return path
