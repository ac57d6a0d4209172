"""The contract between the model store and the engine: where each component lies on disk.

The store (``faceme_core.models.store``) resolves these paths and says what is missing; the engine
only ever receives a ``ModelPaths`` and loads from it. Tests build tiny components in exactly these
layouts, so the code users run is the code tests run.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class ModelPaths:
    base_model: Path  # diffusers SDXL folder: unet/ vae/ text_encoder/ text_encoder_2/ tokenizer/ tokenizer_2/ scheduler/
    controlnet: Path  # diffusers ControlNetModel folder: config.json + weights
    mix: Path  # the mix.safetensors file
    photomaker: Path  # photomaker-v1.bin (torch pickle of plain tensors)
    antelopev2: Path | None = None  # insightface pack folder with the ONNX files; None: not installed
