"""``accelerate launch -m training.train --config FILE [--resume latest]``: FaceMe's two training stages.

Stage I trains a ControlNet initialised from the UNet together with Mix (Mix is what Stage I is for);
Stage II freezes that Mix and trains a fresh ControlNet, replacing the identity prompt by the text
prompt for half the samples. Loss: MSE on epsilon, timesteps uniform over the 1000 training steps.
The VAE, the text encoders (only their cached output is used) and the UNet stay frozen.

Everything about scale (processes, machines, mixed precision, DeepSpeed) comes from accelerate; the
model pieces come from the engine (``faceme_core.engine``), never copied.
"""

from __future__ import annotations

import argparse
import logging
import math
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F

from faceme_core.errors import FaceMeError
from training.checkpoints import (
    COMPLETE_MARKER,
    TrainPosition,
    checkpoint_dir,
    export_weights,
    prune_checkpoints,
    resolve_resume,
)
from training.config import ConfigError, TrainConfig, load_config

logger = logging.getLogger("training")


@dataclass(frozen=True)
class TrainResult:
    steps: int  # optimizer steps done in total (including those before a resume)
    losses: tuple[float, ...]  # this process's loss per optimizer step of this run (mean over accumulation)
    weights_dir: Path | None  # the exported weights (None when the run stopped before the end)


@dataclass
class FrozenParts:
    """What the step needs but never trains."""

    vae: torch.nn.Module
    unet: torch.nn.Module
    noise_scheduler: object
    scheduler_config: dict
    prompt: object  # PromptEmbeddings


# --- 1. building ------------------------------------------------------------------------------------------

def build_accelerator(config: TrainConfig):
    from accelerate import Accelerator
    from accelerate.utils import ProjectConfiguration

    # Without CUDA, accelerate forms a (gloo) process group only when told to run on the CPU.
    cpu = int(os.environ.get("WORLD_SIZE", "1")) > 1 and not torch.cuda.is_available()
    log_with = "tensorboard" if _tensorboard_available() else None
    project = ProjectConfiguration(project_dir=str(config.output_dir), logging_dir=str(config.output_dir / "logs"))
    return Accelerator(gradient_accumulation_steps=config.gradient_accumulation_steps,
                       mixed_precision=config.mixed_precision, log_with=log_with, project_config=project, cpu=cpu)


def base_model_path(config: TrainConfig) -> Path:
    if config.base_model is not None:
        return config.base_model
    from faceme_core.errors import ModelMissingError
    from faceme_core.models.store import component_status
    from faceme_core.paths import models_dir

    status = component_status("base", config.models_dir or models_dir())
    if status.state != "installed" or status.path is None:
        raise ModelMissingError(f"no usable SDXL base model in {config.models_dir or models_dir()} "
                                "(faceme models download base, or set base_model in the config)")
    return status.path


def build_model(config: TrainConfig, accelerator, weight_dtype: torch.dtype):
    """The frozen parts, and the trainable ControlNet + Mix module (identical on every process)."""
    from diffusers import ControlNetModel

    from faceme_core.engine.components import (
        check_cross_attention_width,
        load_scheduler_config,
        load_unet,
        load_vae,
    )
    from faceme_core.engine.identity import load_mix
    from faceme_core.engine.mix import Mix
    from faceme_core.engine.prompt import add_time_ids, load_prompt_embeddings
    from faceme_core.engine.samplers import noising_scheduler
    from training.model import FaceMeTrainable

    base = base_model_path(config)
    device = accelerator.device
    with accelerator.main_process_first():  # one process computes c_text, the others read its cache
        prompt = load_prompt_embeddings(base, config.output_dir / "cache")
    unet = load_unet(base)  # float32 first: the ControlNet is copied from it
    controlnet = ControlNetModel.from_unet(unet, conditioning_embedding_out_channels=config.controlnet_conditioning_channels)
    mix_config = config.build_mix_config()
    mix = Mix(mix_config) if config.stage == 1 else load_mix(config.mix_path, mix_config)
    check_cross_attention_width(prompt.c_text.shape[-1], unet, controlnet)
    # Frozen parts: the UNet in the mixed-precision dtype, the VAE always in float32 (float16 gives NaNs).
    unet.requires_grad_(False)
    unet.to(device)
    if weight_dtype != torch.float32:
        unet.to(dtype=weight_dtype)
    vae = load_vae(base, device, torch.float32)
    vae.requires_grad_(False)
    if config.gradient_checkpointing:
        unet.enable_gradient_checkpointing()
        controlnet.enable_gradient_checkpointing()
    scheduler_config = load_scheduler_config(base)
    frozen = FrozenParts(vae=vae, unet=unet, noise_scheduler=noising_scheduler(scheduler_config),
                         scheduler_config=scheduler_config, prompt=prompt)
    model = FaceMeTrainable(controlnet, mix, unet, prompt, add_time_ids(1, face_size=config.resolution)[0],
                            train_mix=config.stage == 1)
    return model.train(), frozen


def build_optimizer(config: TrainConfig, parameters):
    if config.use_8bit_adam:
        try:
            import bitsandbytes as bnb
        except ImportError:
            raise ConfigError("use_8bit_adam: needs bitsandbytes (pip install bitsandbytes; CUDA only)") from None
        optimizer_class = bnb.optim.AdamW8bit
    else:
        optimizer_class = torch.optim.AdamW
    return optimizer_class(parameters, lr=config.learning_rate, betas=(config.adam_beta1, config.adam_beta2),
                           weight_decay=config.adam_weight_decay, eps=config.adam_epsilon)


def build_dataset(config: TrainConfig):
    """The dataset on the validated manifest (read before any model is loaded: bad data fails in seconds)."""
    from training.data import FaceMeDataset
    from training.layout import DataLayout, TrainingDataError

    if not config.data_root.is_dir():
        raise TrainingDataError(f"data_root {config.data_root}: no such folder")
    return FaceMeDataset(DataLayout(config.data_root), config.resolution, config.seed, config.min_references,
                         config.max_references, config.drop_probability)


def build_data(config: TrainConfig, dataset):
    from torch.utils.data import DataLoader

    from training.data import EpochSampler

    sampler = EpochSampler(len(dataset), config.seed)
    # Its own generator: a DataLoader otherwise draws its workers' base seed from the global RNG on every
    # iterator, and a resumed run (one more iterator) would then draw different noise than an unbroken one.
    loader = DataLoader(dataset, batch_size=config.train_batch_size, sampler=sampler,
                        num_workers=config.dataloader_num_workers, drop_last=False, persistent_workers=False,
                        generator=torch.Generator().manual_seed(config.seed))
    return dataset, sampler, loader


# --- 2. one step ------------------------------------------------------------------------------------------

def training_loss(model, frozen: FrozenParts, batch: dict) -> torch.Tensor:
    """Encode the ground truth (float32 VAE), noise it at a uniform timestep, MSE on the predicted noise."""
    pixels = batch["pixels"].to(frozen.vae.device, torch.float32)
    with torch.no_grad():
        latents = frozen.vae.encode(pixels).latent_dist.sample() * frozen.vae.config.scaling_factor
    noise = torch.randn_like(latents)
    steps = frozen.noise_scheduler.config.num_train_timesteps
    timesteps = torch.randint(0, steps, (latents.shape[0],), device=latents.device).long()
    noisy = frozen.noise_scheduler.add_noise(latents, noise, timesteps)
    predicted = model(noisy, timesteps, batch["control"], batch["clip"], batch["arcface"], batch["reference_count"],
                      batch["drop_identity"])
    return F.mse_loss(predicted.float(), noise.float())


# --- 3. the run -------------------------------------------------------------------------------------------

def run(config: TrainConfig, resume: str | None = None) -> TrainResult:
    from accelerate.utils import set_seed
    from diffusers.optimization import get_scheduler

    accelerator = build_accelerator(config)
    logging.basicConfig(format="%(asctime)s %(levelname)s %(message)s", level=logging.INFO)
    weight_dtype = {"fp16": torch.float16, "bf16": torch.bfloat16}.get(accelerator.mixed_precision, torch.float32)
    if accelerator.is_main_process:
        config.output_dir.mkdir(parents=True, exist_ok=True)
    # 0. what can be wrong with the data, the checkpoint or Stage I's Mix, before minutes of model loading
    dataset = build_dataset(config)
    start = resolve_resume(config.output_dir, resume)
    if config.mix_path is not None and not config.mix_path.is_file():
        raise ConfigError(f"mix_path {config.mix_path}: no such file (Stage I writes weights/mix/mix.safetensors)")
    # 1. the same initial weights everywhere, then different noise per process (device-specific seed)
    set_seed(config.seed)
    model, frozen = build_model(config, accelerator, weight_dtype)
    set_seed(config.seed, device_specific=True)
    dataset, sampler, loader = build_data(config, dataset)
    optimizer = build_optimizer(config, [p for p in model.parameters() if p.requires_grad])
    # accelerate steps a prepared scheduler once per process per optimizer step (diffusers' convention)
    lr_scheduler = get_scheduler(config.lr_scheduler, optimizer,
                                 num_warmup_steps=config.lr_warmup_steps * accelerator.num_processes,
                                 num_training_steps=config.max_train_steps * accelerator.num_processes)
    model, optimizer, loader, lr_scheduler = accelerator.prepare(model, optimizer, loader, lr_scheduler)
    position = TrainPosition()
    accelerator.register_for_checkpointing(position)
    if accelerator.is_main_process and accelerator.log_with:
        accelerator.init_trackers("faceme", config={"stage": config.stage, "lr": config.learning_rate})
    elif accelerator.is_main_process and config.validation_steps:
        logger.warning("TensorBoard is not installed: validation images go to %s/validation only",
                       config.output_dir)
    # 2. resume: weights of both modules, optimizer, scheduler, RNG states, step and data position
    if start is not None:
        accelerator.load_state(str(start))
        logger.info("resumed from %s at step %d", start, position.step)
    # 3. the loop
    losses: list[float] = []
    window: list[torch.Tensor] = []
    batches_per_epoch = len(loader)
    trainable = [p for p in model.parameters() if p.requires_grad]
    began = time.monotonic()
    while position.step < config.max_train_steps:
        sampler.set_epoch(position.epoch)
        skip = position.batches_in_epoch  # after a resume: the batches of this epoch already trained on
        for batch in accelerator.skip_first_batches(loader, skip) if skip else loader:
            with accelerator.accumulate(model):
                loss = training_loss(model, frozen, batch)
                window.append(loss.detach())
                accelerator.backward(loss)
                if accelerator.sync_gradients and config.max_grad_norm is not None:
                    accelerator.clip_grad_norm_(trainable, config.max_grad_norm)
                optimizer.step()
                lr_scheduler.step()
                optimizer.zero_grad(set_to_none=True)
            position.batches_in_epoch += 1
            if config.log_samples:
                _log_samples(config, accelerator, position, batch)
            if not accelerator.sync_gradients:
                continue
            position.step += 1
            losses.append(float(torch.stack(window).mean()))  # the mean over the accumulated micro-batches
            window.clear()
            if not math.isfinite(losses[-1]):
                raise FaceMeError(f"training diverged: loss {losses[-1]} at step {position.step} "
                                  "(try bf16 instead of fp16, or a lower learning_rate)")
            _after_step(config, accelerator, model, frozen, dataset, position, losses[-1], lr_scheduler, began)
            if position.step >= config.max_train_steps:
                break
        if position.batches_in_epoch >= batches_per_epoch:
            position.epoch += 1
            position.batches_in_epoch = 0
    # 4. the released layout, written once
    accelerator.wait_for_everyone()
    weights_dir = None
    unwrapped = accelerator.unwrap_model(model)
    if accelerator.is_main_process:
        weights_dir = export_weights(unwrapped.controlnet, unwrapped.mix, config.output_dir)
        logger.info("weights written to %s", weights_dir)
    accelerator.wait_for_everyone()
    accelerator.end_training()
    return TrainResult(position.step, tuple(losses), weights_dir)


def _after_step(config, accelerator, model, frozen, dataset, position, loss, lr_scheduler, began) -> None:
    step = position.step
    if step % config.log_every == 0 or step == 1:
        # every process reaches this step, so the gather is safe: the loss of all processes, averaged
        mean_loss = float(accelerator.gather(torch.tensor([loss], device=accelerator.device)).mean())
        logs = {"loss": mean_loss, "lr": lr_scheduler.get_last_lr()[0]}
        if torch.cuda.is_available():  # the figure the README's memory table asks users to report
            logs["peak_memory_gib"] = torch.cuda.max_memory_allocated() / 2**30
        accelerator.log(logs, step=step)
        if accelerator.is_main_process:
            rate = step / max(time.monotonic() - began, 1e-9)
            logger.info("step %d/%d loss %.4f (%.2f steps/s)", step, config.max_train_steps, mean_loss, rate)
    if step % config.checkpointing_steps == 0:
        save_checkpoint(config, accelerator, step)
    if config.validation_steps and step % config.validation_steps == 0:
        from training.validation import log_validation

        if accelerator.is_main_process:
            log_validation(config, accelerator, accelerator.unwrap_model(model), frozen, dataset, step)
        accelerator.wait_for_everyone()


def _log_samples(config: TrainConfig, accelerator, position: TrainPosition, batch: dict) -> None:
    """Which samples (and so which degradations) this process trained on: one JSON line per sample."""
    import dataclasses
    import json

    from training.degradation import sample_degradation

    path = config.output_dir / "samples" / f"rank-{accelerator.process_index}.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", encoding="utf-8") as handle:
        for epoch, index, count, drop in zip(batch["epoch"].tolist(), batch["index"].tolist(),
                                             batch["reference_count"].tolist(), batch["drop_identity"].tolist()):
            params = dataclasses.asdict(sample_degradation(config.seed, epoch, index))
            handle.write(json.dumps({"step": position.step + 1, "epoch": epoch, "index": index,
                                     "references": count, "drop_identity": drop, "degradation": params}) + "\n")


def save_checkpoint(config: TrainConfig, accelerator, step: int) -> Path:
    """Every process saves (DeepSpeed shards its state); old ones are pruned first, the marker last."""
    path = checkpoint_dir(config.output_dir, step)
    if accelerator.is_main_process:
        prune_checkpoints(config.output_dir, config.checkpoints_total_limit)
    accelerator.wait_for_everyone()
    accelerator.save_state(str(path))
    accelerator.wait_for_everyone()
    if accelerator.is_main_process:
        (path / COMPLETE_MARKER).write_text(f"step {step}\n")
        logger.info("checkpoint written to %s", path)
    return path


def _tensorboard_available() -> bool:
    try:
        import tensorboard  # noqa: F401
    except ImportError:
        return False
    return True


# --- command line -----------------------------------------------------------------------------------------

def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="accelerate launch -m training.train", description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", type=Path, required=True, help="training YAML (see training/configs/)")
    parser.add_argument("--resume", default=None, metavar="latest|DIR",
                        help="continue from the newest checkpoint in output_dir (latest) or from DIR")
    parser.add_argument("--max-train-steps", type=int, default=None, help="override max_train_steps")
    args = parser.parse_args(argv)
    try:
        overrides = {} if args.max_train_steps is None else {"max_train_steps": args.max_train_steps}
        result = run(load_config(args.config, overrides), resume=args.resume)
    except FaceMeError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if result.weights_dir is not None:
        print(f"trained {result.steps} steps; weights in {result.weights_dir}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
