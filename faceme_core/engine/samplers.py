"""Schedulers for the sampler presets, all built from the base model's own scheduler config."""

from __future__ import annotations

from faceme_core.engine.options import SamplerPreset

START_TIMESTEP = 999  # the last training timestep: the LQ latent is noised to it (SeeSR's trick)


def build_scheduler(preset: SamplerPreset, scheduler_config: dict):
    """A fresh scheduler (schedulers keep per-run state, so one per face and run)."""
    import diffusers

    scheduler_class = getattr(diffusers, preset.scheduler_class_name)
    return scheduler_class.from_config(scheduler_config)


def noising_scheduler(scheduler_config: dict):
    """DDPM's forward process (alphas_cumprod of the config), used to noise the start latent to t = 999.

    Every preset is a variance-preserving epsilon sampler on the same betas, so they all start from the
    same noised latent, whatever their own timestep grids are.
    """
    from diffusers import DDPMScheduler

    return DDPMScheduler.from_config(scheduler_config)
