"""What a user can choose about a restoration run, and the sampler presets on offer."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SamplerPreset:
    name: str
    scheduler_class_name: str  # a diffusers scheduler class, built from the base model's scheduler config
    steps: int
    reference: bool  # True only for FaceMe's own setting
    description: str


SAMPLER_PRESETS: dict[str, SamplerPreset] = {
    preset.name: preset
    for preset in (
        SamplerPreset("ddpm-50", "DDPMScheduler", 50, True,
                      "FaceMe's reference setting: DDPM, 50 steps"),
        SamplerPreset("dpmpp-25", "DPMSolverMultistepScheduler", 25, False,
                      "ours, not FaceMe's: DPM-Solver++ (2M), 25 steps, about twice as fast"),
        SamplerPreset("ddim-30", "DDIMScheduler", 30, False,
                      "ours, not FaceMe's: DDIM (eta 0), 30 steps"),
    )
}
REFERENCE_SAMPLER = "ddpm-50"
MAX_STEPS = 1000  # SDXL's training timesteps: no sampler can take more steps than that
MAX_IDENTITY_STRENGTH = 20.0  # far beyond useful (FaceMe uses 5); larger values only amplify noise
MAX_SEED = 2**32 - 1  # face i of a run uses seed + i, which must stay a valid torch seed
OFFLOAD_MODES = ("none", "model", "group", "sequential")  # see engine/offload.py for the memory each needs


@dataclass(frozen=True)
class RestoreOptions:
    sampler: str = REFERENCE_SAMPLER  # a SAMPLER_PRESETS name
    steps: int | None = None  # None: the preset's steps
    identity_strength: float = 5.0  # lambda of the identity guidance (paper Eq. 5)
    seed: int | None = None  # None: a fresh random seed per run
    color_correction: bool = True
    batch_size: int | None = None  # faces per batch; None: chosen from the device and its free memory

    def preset(self) -> SamplerPreset:
        try:
            return SAMPLER_PRESETS[self.sampler]
        except KeyError:
            raise ValueError(f"sampler={self.sampler!r}: expected one of {', '.join(SAMPLER_PRESETS)}") from None

    def step_count(self) -> int:
        steps = self.preset().steps if self.steps is None else self.steps
        if not 1 <= steps <= MAX_STEPS:
            raise ValueError(f"steps={self.steps!r}: must be between 1 and {MAX_STEPS}")
        return steps

    def validate(self) -> None:
        self.step_count()
        if not 0.0 <= self.identity_strength <= MAX_IDENTITY_STRENGTH:  # also false for NaN
            raise ValueError(f"identity_strength={self.identity_strength!r}: must be between 0 and "
                             f"{MAX_IDENTITY_STRENGTH:g} (FaceMe's setting is 5)")
        if self.seed is not None and not 0 <= self.seed <= MAX_SEED:
            raise ValueError(f"seed={self.seed!r}: must be between 0 and {MAX_SEED}")
        if self.batch_size is not None and self.batch_size < 1:
            raise ValueError(f"batch_size={self.batch_size!r}: must be at least 1")
