"""Checkpoint folders (``checkpoints/checkpoint-<step>``), the resume position, and the final export.

A checkpoint is accelerate's ``save_state``: the trainable module's weights (ControlNet and Mix),
optimizer, LR scheduler, every process's RNG states and the ``TrainPosition`` below (step, epoch,
batches into the epoch), so ``--resume`` continues exactly where the run stopped. The export is the
released layout the app loads: ``weights/controlnet/`` (diffusers folder) and ``weights/mix/mix.safetensors``.
"""

from __future__ import annotations

import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from training.config import ConfigError

CHECKPOINTS_DIRNAME = "checkpoints"
CHECKPOINT_PREFIX = "checkpoint-"
WEIGHTS_DIRNAME = "weights"
COMPLETE_MARKER = "faceme-checkpoint-complete"  # written after every process has saved its part


@dataclass
class TrainPosition:
    """Where a run is; registered with accelerate so checkpoints carry it (mutable on purpose)."""

    step: int = 0  # optimizer steps done
    epoch: int = 0
    batches_in_epoch: int = 0  # batches of ``epoch`` this process has consumed

    def state_dict(self) -> dict:
        return {"step": self.step, "epoch": self.epoch, "batches_in_epoch": self.batches_in_epoch}

    def load_state_dict(self, state: dict) -> None:
        self.step, self.epoch, self.batches_in_epoch = (int(state[k]) for k in ("step", "epoch", "batches_in_epoch"))


def checkpoint_dir(output_dir: Path, step: int) -> Path:
    return Path(output_dir) / CHECKPOINTS_DIRNAME / f"{CHECKPOINT_PREFIX}{step}"


def list_checkpoints(output_dir: Path) -> list[Path]:
    """Complete checkpoints, oldest first (a folder without the marker is an interrupted save)."""
    folder = Path(output_dir) / CHECKPOINTS_DIRNAME
    found = []
    for path in folder.iterdir() if folder.is_dir() else []:
        match = re.fullmatch(rf"{CHECKPOINT_PREFIX}(\d+)", path.name)
        if match and (path / COMPLETE_MARKER).is_file():
            found.append((int(match.group(1)), path))
    return [path for _, path in sorted(found)]


def resolve_resume(output_dir: Path, resume: str | None) -> Path | None:
    """``latest`` -> the newest checkpoint (None when there is none yet: a fresh start); else a folder."""
    if resume is None:
        return None
    if resume == "latest":
        checkpoints = list_checkpoints(output_dir)
        return checkpoints[-1] if checkpoints else None
    path = Path(resume)
    if not path.is_dir():
        raise ConfigError(f"--resume {resume}: no such checkpoint folder (or use --resume latest)")
    return path


def prune_checkpoints(output_dir: Path, keep: int | None) -> None:
    """Before saving a new checkpoint: remove the oldest so that ``keep`` remain afterwards."""
    if keep is None:
        return
    checkpoints = list_checkpoints(output_dir)
    for old in checkpoints[: max(0, len(checkpoints) - (keep - 1))]:
        shutil.rmtree(old, ignore_errors=True)


def export_weights(controlnet, mix, output_dir: Path) -> Path:
    """Write ``weights/controlnet`` and ``weights/mix/mix.safetensors``; replaced as a whole, never half."""
    from safetensors.torch import save_file

    target = Path(output_dir) / WEIGHTS_DIRNAME
    staging = Path(output_dir) / f".{WEIGHTS_DIRNAME}-partial-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    controlnet.save_pretrained(staging / "controlnet", safe_serialization=True)
    (staging / "mix").mkdir(parents=True)
    save_file({k: v.detach().float().cpu().contiguous() for k, v in mix.state_dict().items()},
              str(staging / "mix" / "mix.safetensors"))
    old = Path(output_dir) / f".{WEIGHTS_DIRNAME}-old-{os.getpid()}"
    if target.exists():
        os.replace(target, old)
    os.replace(staging, target)
    shutil.rmtree(old, ignore_errors=True)
    return target
