"""Checkpoint folders: what `--resume latest` picks, what pruning keeps (plain files, no training)."""

from __future__ import annotations

import pytest

from training.checkpoints import (
    COMPLETE_MARKER,
    checkpoint_dir,
    list_checkpoints,
    prune_checkpoints,
    resolve_resume,
)
from training.config import ConfigError


def make_checkpoint(output, step, complete=True):
    path = checkpoint_dir(output, step)
    path.mkdir(parents=True)
    if complete:
        (path / COMPLETE_MARKER).write_text(f"step {step}\n")
    return path


def test_resume_latest_takes_the_newest_complete_checkpoint_by_step_number(tmp_path):
    assert resolve_resume(tmp_path, "latest") is None  # nothing yet: a fresh start, same command
    assert resolve_resume(tmp_path, None) is None
    for step in (9, 10, 2):
        make_checkpoint(tmp_path, step)
    make_checkpoint(tmp_path, 11, complete=False)  # interrupted while saving: never resumed from
    (tmp_path / "checkpoints" / "checkpoint-final").mkdir()
    assert [p.name for p in list_checkpoints(tmp_path)] == ["checkpoint-2", "checkpoint-9", "checkpoint-10"]
    assert resolve_resume(tmp_path, "latest") == checkpoint_dir(tmp_path, 10)
    assert resolve_resume(tmp_path, str(checkpoint_dir(tmp_path, 9))) == checkpoint_dir(tmp_path, 9)
    with pytest.raises(ConfigError, match="no such checkpoint folder"):
        resolve_resume(tmp_path, str(tmp_path / "elsewhere"))


def test_pruning_leaves_room_for_the_next_checkpoint(tmp_path):
    for step in (1, 2, 3):
        make_checkpoint(tmp_path, step)
    prune_checkpoints(tmp_path, None)
    assert len(list_checkpoints(tmp_path)) == 3
    prune_checkpoints(tmp_path, 2)  # before saving a fourth: keep one, so two remain after it
    assert [p.name for p in list_checkpoints(tmp_path)] == ["checkpoint-3"]
