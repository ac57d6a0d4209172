"""The training configuration: one YAML file, read into a frozen, validated dataclass.

Every key is optional except ``stage``, ``data_root`` and ``output_dir``; defaults are the paper's
recipe (see training/README.md). Unknown keys are an error, so a typo never silently trains with a
default. Scale (GPUs, machines, DeepSpeed, mixed precision) is accelerate's business: its own config
file, passed to ``accelerate launch --config_file``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from faceme_core.errors import FaceMeError

LR_SCHEDULERS = ("constant", "constant_with_warmup", "linear", "cosine")
MIXED_PRECISION = ("no", "fp16", "bf16")


class ConfigError(FaceMeError):
    """The training configuration file is missing, unreadable or holds a bad value (named)."""


@dataclass(frozen=True)
class TrainConfig:
    stage: int  # 1: ControlNet + Mix (Mix is the output); 2: Mix frozen, fresh ControlNet
    data_root: Path  # prepared with `python -m training.prepare` (see training/layout.py)
    output_dir: Path  # checkpoints/, logs/, validation/ and the final controlnet/ + mix/mix.safetensors
    models_dir: Path | None = None  # FaceMe model folder holding the base model (default: the app's)
    base_model: Path | None = None  # an SDXL diffusers folder instead of the model folder's
    mix_path: Path | None = None  # Stage II: Stage I's mix/mix.safetensors
    resolution: int = 512  # face size; ground truths are resized to it when they differ
    train_batch_size: int = 4  # per process
    gradient_accumulation_steps: int = 1
    max_train_steps: int = 130_000  # optimizer steps (paper: 130K Stage I, 210K Stage II)
    learning_rate: float = 5e-5
    lr_scheduler: str = "constant"
    lr_warmup_steps: int = 0
    adam_beta1: float = 0.9
    adam_beta2: float = 0.999
    adam_weight_decay: float = 1e-2
    adam_epsilon: float = 1e-8
    use_8bit_adam: bool = False  # bitsandbytes' AdamW8bit (CUDA only)
    max_grad_norm: float | None = 1.0  # None: no clipping (the reference code's setting)
    mixed_precision: str | None = None  # None: whatever `accelerate launch` / its config says
    gradient_checkpointing: bool = False
    min_references: int = 1
    max_references: int = 4
    identity_drop_probability: float | None = None  # None: 0 in Stage I, 0.5 in Stage II (the paper's)
    seed: int = 0
    checkpointing_steps: int = 5000
    checkpoints_total_limit: int | None = 3
    validation_steps: int = 5000  # 0: never
    validation_samples: int = 4  # the first N ground truths of the manifest
    validation_sampling_steps: int = 50
    dataloader_num_workers: int = 4
    log_every: int = 10
    log_samples: bool = False  # write output_dir/samples/rank-<i>.jsonl: each sample's index and degradation
    controlnet_conditioning_channels: tuple[int, ...] = (16, 32, 96, 256)  # diffusers' default, as FaceMe's
    mix_config: dict[str, int] = field(default_factory=dict)  # MixConfig fields; empty: the released sizes

    @property
    def drop_probability(self) -> float:
        if self.identity_drop_probability is not None:
            return self.identity_drop_probability
        return 0.5 if self.stage == 2 else 0.0

    def validate(self) -> "TrainConfig":
        def bad(key: str, why: str) -> ConfigError:
            return ConfigError(f"{key}={getattr(self, key)!r}: {why}")

        if self.stage not in (1, 2):
            raise bad("stage", "must be 1 (ControlNet + Mix) or 2 (Mix frozen, fresh ControlNet)")
        if self.stage == 2 and self.mix_path is None:
            raise ConfigError("mix_path: Stage II needs the Mix trained in Stage I (its mix/mix.safetensors)")
        if self.stage == 1 and self.mix_path is not None:
            raise bad("mix_path", "Stage I trains Mix from scratch; remove mix_path or set stage: 2")
        for key in ("train_batch_size", "gradient_accumulation_steps", "max_train_steps", "checkpointing_steps",
                    "validation_sampling_steps", "log_every", "min_references"):
            if getattr(self, key) < 1:
                raise bad(key, "must be at least 1")
        for key in ("lr_warmup_steps", "validation_steps", "validation_samples", "dataloader_num_workers", "seed"):
            if getattr(self, key) < 0:
                raise bad(key, "must be 0 or more")
        if self.resolution < 8 or self.resolution % 8:
            raise bad("resolution", "must be a positive multiple of 8 (the VAE downsamples by 8)")
        if self.max_references < self.min_references:
            raise bad("max_references", f"must be at least min_references ({self.min_references})")
        if not self.learning_rate > 0:
            raise bad("learning_rate", "must be positive")
        if self.lr_scheduler not in LR_SCHEDULERS:
            raise bad("lr_scheduler", f"expected one of {', '.join(LR_SCHEDULERS)}")
        if self.mixed_precision is not None and self.mixed_precision not in MIXED_PRECISION:
            raise bad("mixed_precision", f"expected one of {', '.join(MIXED_PRECISION)} (or leave it out)")
        if self.max_grad_norm is not None and not self.max_grad_norm > 0:
            raise bad("max_grad_norm", "must be positive, or null for no clipping")
        if not 0.0 <= self.drop_probability <= 1.0:
            raise bad("identity_drop_probability", "must be between 0 and 1")
        if self.stage == 1 and self.drop_probability > 0:
            # A batch of dropped samples would leave Mix without gradients (and DDP waiting for them).
            raise bad("identity_drop_probability", "Stage I trains Mix on every sample; the identity drop "
                                                   "belongs to Stage II")
        if self.checkpoints_total_limit is not None and self.checkpoints_total_limit < 1:
            raise bad("checkpoints_total_limit", "must be at least 1, or null to keep every checkpoint")
        self.build_mix_config()
        return self

    def build_mix_config(self):
        from faceme_core.engine.mix import MixConfig

        known = {f.name for f in dataclasses.fields(MixConfig)}
        unknown = sorted(set(self.mix_config) - known)
        if unknown:
            raise ConfigError(f"mix_config: unknown key(s) {', '.join(unknown)}; expected some of {', '.join(sorted(known))}")
        try:
            return MixConfig(**{k: int(v) for k, v in self.mix_config.items()})
        except (TypeError, ValueError) as error:
            raise ConfigError(f"mix_config: {error}") from None


def load_config(path: Path, overrides: dict[str, Any] | None = None) -> TrainConfig:
    """Read a YAML training config; relative paths in it are relative to the file's folder."""
    import yaml

    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise ConfigError(f"{path}: cannot read the training config ({error.strerror})") from None
    except yaml.YAMLError as error:
        raise ConfigError(f"{path}: not valid YAML ({error})") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping of settings, got {type(raw).__name__}")
    return config_from_dict({**raw, **(overrides or {})}, base_dir=path.parent, source=str(path))


def config_from_dict(raw: dict[str, Any], base_dir: Path = Path("."), source: str = "config") -> TrainConfig:
    fields = {f.name: f for f in dataclasses.fields(TrainConfig)}
    unknown = sorted(set(raw) - set(fields))
    if unknown:
        import difflib

        guesses = [f"{key} (did you mean {close[0]}?)" if (close := difflib.get_close_matches(key, fields, n=1)) else key
                   for key in unknown]
        raise ConfigError(f"{source}: unknown setting(s) {', '.join(guesses)}")
    missing = [name for name in ("stage", "data_root", "output_dir") if raw.get(name) is None]
    if missing:
        raise ConfigError(f"{source}: missing required setting(s) {', '.join(missing)}")
    values = {}
    for name, value in raw.items():
        values[name] = _coerce(name, fields[name].type, value, base_dir, source)
    return TrainConfig(**values).validate()


def _coerce(name: str, annotation: str, value: Any, base_dir: Path, source: str) -> Any:
    if value is None:
        if "None" not in annotation:
            raise ConfigError(f"{source}: {name} cannot be null")
        return None
    try:
        if annotation.startswith("Path"):
            path = Path(str(value)).expanduser()
            return path if path.is_absolute() else (base_dir / path).resolve()
        if annotation.startswith("int"):
            if isinstance(value, bool) or float(value) != int(float(value)):
                raise ValueError("not a whole number")
            return int(float(value))
        if annotation.startswith("float"):
            return float(value)
        if annotation.startswith("bool"):
            if not isinstance(value, bool):
                raise ValueError("expected true or false")
            return value
        if annotation.startswith("str"):
            return str(value)
        if annotation.startswith("tuple"):
            return tuple(int(v) for v in value)
        if annotation.startswith("dict"):
            if not isinstance(value, dict):
                raise ValueError("expected a mapping")
            return dict(value)
    except (TypeError, ValueError) as error:
        raise ConfigError(f"{source}: {name}={value!r}: {error}") from None
    raise AssertionError(f"unhandled config type {annotation}")
