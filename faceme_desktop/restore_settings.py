"""The restore settings a user keeps between runs (QSettings): preset, identity strength, scale, offload mode."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QSettings

from faceme_core.engine.options import (
    MAX_IDENTITY_STRENGTH,
    OFFLOAD_MODES,
    REFERENCE_SAMPLER,
    SAMPLER_PRESETS,
    RestoreOptions,
)

UPSCALES = (1, 2)


@dataclass(frozen=True)
class RestoreChoices:
    """What the Restore view's settings bar holds. ``seed`` None: a new random seed each run."""

    sampler: str = REFERENCE_SAMPLER
    identity_strength: float = 5.0
    seed: int | None = None
    upscale: int = 1
    steps: int | None = None  # None: the preset's own number of steps

    def options(self) -> RestoreOptions:
        return RestoreOptions(sampler=self.sampler, steps=self.steps, identity_strength=self.identity_strength,
                              seed=self.seed)


class RestoreSettings:
    def __init__(self, settings: QSettings | None = None):
        self._settings = settings if settings is not None else QSettings()

    def choices(self) -> RestoreChoices:
        sampler = str(self._settings.value("restore/sampler", REFERENCE_SAMPLER))
        try:
            strength = float(self._settings.value("restore/identity_strength", 5.0))
        except (TypeError, ValueError):
            strength = 5.0
        try:
            upscale = int(self._settings.value("restore/upscale", 1))
        except (TypeError, ValueError):
            upscale = 1
        return RestoreChoices(
            sampler=sampler if sampler in SAMPLER_PRESETS else REFERENCE_SAMPLER,
            identity_strength=min(max(strength, 0.0), MAX_IDENTITY_STRENGTH),
            upscale=upscale if upscale in UPSCALES else 1,
        )

    def save_choices(self, choices: RestoreChoices) -> None:
        self._settings.setValue("restore/sampler", choices.sampler)
        self._settings.setValue("restore/identity_strength", choices.identity_strength)
        self._settings.setValue("restore/upscale", choices.upscale)

    @property
    def offload(self) -> str:
        """One of the engine's ``OFFLOAD_MODES`` ("none": everything on the device)."""
        value = str(self._settings.value("engine/offload", "none"))
        return value if value in OFFLOAD_MODES else "none"

    @offload.setter
    def offload(self, value: str) -> None:
        if value not in OFFLOAD_MODES:
            raise ValueError(f"offload {value!r}: expected one of {', '.join(OFFLOAD_MODES)}")
        self._settings.setValue("engine/offload", value)
