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


# Where imported components live inside the app's model folder (``faceme_core.paths.models_dir()``).
# Downloads may also be found in the Hugging Face cache (HF_HOME); the store resolves both.
BASE_MODEL_DIRNAME = "realvisxl-v3"
CONTROLNET_DIRNAME = "faceme/controlnet"
MIX_FILENAME = "faceme/mix/mix.safetensors"
PHOTOMAKER_FILENAME = "photomaker/photomaker-v1.bin"
ANTELOPEV2_DIRNAME = "insightface/models/antelopev2"  # insightface's own <root>/models/<pack> layout


def default_layout(models_dir: Path) -> ModelPaths:
    """The paths of every component inside ``models_dir`` (whether or not they exist)."""
    return ModelPaths(
        base_model=models_dir / BASE_MODEL_DIRNAME,
        controlnet=models_dir / CONTROLNET_DIRNAME,
        mix=models_dir / MIX_FILENAME,
        photomaker=models_dir / PHOTOMAKER_FILENAME,
        antelopev2=models_dir / ANTELOPEV2_DIRNAME,
    )


def component_path(paths: ModelPaths, name: str) -> Path | None:
    """The path of the component called ``name`` (see ``manifest.COMPONENT_NAMES``) in ``paths``."""
    return {
        "base": paths.base_model,
        "controlnet": paths.controlnet,
        "mix": paths.mix,
        "photomaker": paths.photomaker,
        "antelopev2": paths.antelopev2,
    }[name]
