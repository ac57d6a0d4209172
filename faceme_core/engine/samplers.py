"""Schedulers for the sampler presets, all built from the base model's own scheduler config."""

from __future__ import annotations

from faceme_core.engine.options import SamplerPreset

START_TIMESTEP = 999  # the last training timestep: the LQ latent is noised to it (SeeSR's trick)


def build_scheduler(preset: SamplerPreset, scheduler_config: dict, steps: int, device=None):
    """A fresh scheduler (schedulers keep per-run state, so one per face and run), its timesteps set.

    The reference setting (DDPM, 50 steps) uses the base model's config untouched: its "leading"
    spacing starts at t=981, exactly as FaceMe ran. Every other setting (our presets, other step
    counts) uses "trailing" spacing, so its first step is t=999, where the start latent was noised:
    a deterministic solver started lower would take that noisier latent for a cleaner one.
    """
    import diffusers

    config = dict(scheduler_config)
    if not (preset.reference and steps == preset.steps):
        config["timestep_spacing"] = "trailing"
    scheduler = getattr(diffusers, preset.scheduler_class_name).from_config(config)
    scheduler.set_timesteps(steps, device=device)
    return scheduler


def noising_scheduler(scheduler_config: dict):
    """DDPM's forward process (alphas_cumprod of the config), used to noise the start latent to t = 999.

    Every preset is a variance-preserving epsilon sampler on the same betas, so they all start from the
    same noised latent, whatever their own timestep grids are.
    """
    from diffusers import DDPMScheduler

    return DDPMScheduler.from_config(scheduler_config)
