"""Size sanity of model ``config.json`` files, checked before any model is built from them.

diffusers and transformers build whatever a config describes: a ControlNet whose ``layers_per_block``
is 100000 takes minutes (and all memory) to construct, even on the meta device, before any weight is
compared. The bounds below are far above every real SDXL/CLIP model (SDXL: layers_per_block 2,
transformer_layers_per_block up to 10, channels up to 1280; CLIP-G: 32 layers of width 1280) and far
below anything that would take long to build.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from faceme_core.errors import ModelFormatError

# key -> (smallest, largest) for the key's number, or for each number of its list.
SIZE_BOUNDS: dict[str, tuple[int, int]] = {
    "layers_per_block": (1, 16),
    "transformer_layers_per_block": (1, 64),
    "block_out_channels": (1, 8192),
    "conditioning_embedding_out_channels": (1, 8192),
    "attention_head_dim": (1, 4096),
    "num_attention_heads": (1, 256),
    "cross_attention_dim": (1, 16384),
    "in_channels": (1, 256),
    "out_channels": (1, 256),
    "conditioning_channels": (1, 256),
    "latent_channels": (1, 256),
    "norm_num_groups": (1, 1024),
    "sample_size": (1, 4096),
    "addition_time_embed_dim": (1, 16384),
    "projection_class_embeddings_input_dim": (1, 65536),
    "hidden_size": (1, 16384),
    "intermediate_size": (1, 65536),
    "num_hidden_layers": (1, 128),
    "projection_dim": (1, 16384),
    "vocab_size": (1, 1_000_000),
    "max_position_embeddings": (1, 65536),
}
MAX_BLOCKS = 16  # entries in block lists (SDXL: 3 or 4)
LIST_KEYS = ("down_block_types", "up_block_types", "block_out_channels", "conditioning_embedding_out_channels")


def config_size_problems(config: dict[str, Any]) -> list[str]:
    """What in ``config`` is not a plausible size (empty: buildable in reasonable time)."""
    problems = []
    for key in LIST_KEYS:
        value = config.get(key)
        if isinstance(value, (list, tuple)) and len(value) > MAX_BLOCKS:
            problems.append(f"{key} lists {len(value)} blocks (at most {MAX_BLOCKS} make sense)")
    for key, (low, high) in SIZE_BOUNDS.items():
        value = config.get(key)
        if value is None or any(key in problem for problem in problems):
            continue
        numbers = list(_flatten(value))
        if len(numbers) > MAX_BLOCKS * MAX_BLOCKS:
            problems.append(f"{key} lists {len(numbers)} values")
        elif any(isinstance(n, bool) or not isinstance(n, int) for n in numbers):
            problems.append(f"{key} is {_short(value)}, not whole numbers")
        elif any(not low <= n <= high for n in numbers):
            problems.append(f"{key} is {_short(value)}, outside {low}..{high}")
    return problems


def _flatten(value: Any, depth: int = 0):
    """The numbers of a value, a list of them, or a list of lists (transformer layers per block);
    deeper lists come out as lists, which are no number."""
    if isinstance(value, (list, tuple)) and depth < 2:
        for item in value[: MAX_BLOCKS * MAX_BLOCKS + 1]:
            yield from _flatten(item, depth + 1)
    else:
        yield value


def check_model_config(path: Path) -> None:
    """Raise ``ModelFormatError`` if the config file at ``path`` describes an implausible model."""
    try:
        config = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError) as error:
        raise ModelFormatError("is not readable JSON", subject=path, hint="reinstall this model component",
                               action="verify_models") from None
    if not isinstance(config, dict):
        raise ModelFormatError("is not a JSON object", subject=path, action="verify_models")
    problems = config_size_problems(config)
    if problems:
        raise ModelFormatError("describes an implausible model", subject=path, details=tuple(problems),
                               hint="reinstall this model component", action="verify_models")


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
