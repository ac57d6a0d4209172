"""Tiny FaceMe components written in the REAL on-disk formats, so tests run the code users run.

``build_tiny_model_dir(models_dir)`` lays every component out at ``default_layout(models_dir)``:

- an SDXL diffusers folder (model_index.json, unet/ vae/ text_encoder/ text_encoder_2/ tokenizer/
  tokenizer_2/ scheduler/) built from configs the way diffusers' own tests do: a (32, 64)-channel UNet
  with SDXL's text_time addition embedding and cross-attention width 2048 (the identity tokens are
  2048-d), so the two CLIP text encoders keep their real hidden sizes 768 and 1280 but have 2 layers
  and a tiny MLP; a VAE with the real 8x downsampling but 8-16 channels;
- a ControlNet folder (``ControlNetModel.from_unet``, its zero convolutions given random weights);
- ``mix.safetensors`` at its real size (random init, ~39M parameters);
- ``photomaker-v1.bin``: ``{"id_encoder": tiny CLIP tower (hidden 1024, 2 layers, MLP 64) + both
  projections + a few fuse_module.* tensors, "lora_weights": a few keys in the old naming}``.

The tokenizers know only the prompt "A photo of face.": a vocabulary of its characters (plain and with
``</w>``) plus the BPE merges that build each word, so "face" is one token at index 4.

Building takes a few seconds, so it happens once per source version into a shared temp folder and
is copied from there (copies, not links: some tests corrupt files on purpose).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path

from faceme_core.models.layout import ModelPaths, default_layout

PROMPT_WORDS = ("a", "photo", "of", "face", ".")
_COMPLETE_MARKER = ".faceme-tiny-complete"
TINY_TIME_EMBED_DIM = 8
TINY_POOLED_DIM = 32  # text_encoder_2's projection_dim; the UNet's add embedding input is 6 * 8 + 32
TINY_CLIP_VISION = dict(hidden_size=1024, intermediate_size=64, num_attention_heads=16, num_hidden_layers=2,
                        patch_size=14, image_size=224, projection_dim=768)

# Like RealVisXL / SDXL base: an Euler scheduler config; the engine builds DDPM etc. from it.
SCHEDULER_CONFIG = dict(
    num_train_timesteps=1000, beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear",
    prediction_type="epsilon", steps_offset=1, timestep_spacing="leading", interpolation_type="linear",
    use_karras_sigmas=False, clip_sample=False, sample_max_value=1.0, set_alpha_to_one=False, skip_prk_steps=True,
)


def build_tiny_model_dir(models_dir: Path, *, with_antelopev2: bool = False) -> ModelPaths:
    """Write every tiny component at ``default_layout(models_dir)`` and return those paths."""
    models_dir = Path(models_dir)
    cached = _cached_build_root()
    models_dir.mkdir(parents=True, exist_ok=True)
    shutil.copytree(cached, models_dir, dirs_exist_ok=True, ignore=shutil.ignore_patterns(_COMPLETE_MARKER))
    layout = default_layout(models_dir)
    if with_antelopev2:
        from tests.support.tiny_insightface import build_tiny_antelopev2

        build_tiny_antelopev2(layout.antelopev2)
        return layout
    return ModelPaths(base_model=layout.base_model, controlnet=layout.controlnet, mix=layout.mix,
                      photomaker=layout.photomaker, antelopev2=None)


def cached_tiny_model_paths() -> ModelPaths:
    """The shared read-only build itself (no copy): for tests that never modify model files."""
    layout = default_layout(_cached_build_root())
    return ModelPaths(base_model=layout.base_model, controlnet=layout.controlnet, mix=layout.mix,
                      photomaker=layout.photomaker, antelopev2=None)


def _cached_build_root() -> Path:
    import diffusers
    import torch
    import transformers

    versions = f"{torch.__version__}{diffusers.__version__}{transformers.__version__}"
    key_source = Path(__file__).read_bytes() + versions.encode()
    key = hashlib.sha256(key_source).hexdigest()[:16]
    root = Path(tempfile.gettempdir()) / f"faceme-tiny-models-{key}"
    if (root / _COMPLETE_MARKER).exists():
        return root
    staging = Path(tempfile.mkdtemp(prefix="faceme-tiny-build-", dir=root.parent))
    _build_all(staging)
    (staging / _COMPLETE_MARKER).write_text("ok")
    try:
        os.rename(staging, root)  # atomic; another process may have won the race
    except OSError:
        shutil.rmtree(staging, ignore_errors=True)
    return root


def _build_all(models_dir: Path) -> None:
    import torch

    layout = default_layout(models_dir)
    with torch.random.fork_rng():
        torch.manual_seed(0)
        unet = _write_base_model(layout.base_model)
        _write_controlnet(unet, layout.controlnet)
        _write_mix(layout.mix)
        _write_photomaker(layout.photomaker)


# --- the SDXL base model ---------------------------------------------------------------------------

def tiny_tokenizer_files() -> tuple[dict[str, int], list[str]]:
    """Vocabulary and BPE merges that split "A photo of face." into its five words."""
    vocab: dict[str, int] = {"<|startoftext|>": 0, "<|endoftext|>": 1, "!": 2}
    for char in sorted(set("".join(PROMPT_WORDS))):
        vocab.setdefault(char, len(vocab))
        vocab.setdefault(char + "</w>", len(vocab))
    merges: list[str] = []
    for word in PROMPT_WORDS:
        symbols = [*word[:-1], word[-1] + "</w>"]
        while len(symbols) > 1:  # merge left to right: p h -> ph, ph o -> pho, ...
            merges.append(f"{symbols[0]} {symbols[1]}")
            symbols = [symbols[0] + symbols[1], *symbols[2:]]
            vocab.setdefault(symbols[0], len(vocab))
    return vocab, merges


def _write_tokenizer(folder: Path, pad_token: str) -> None:
    # The slow-tokenizer files SDXL repositories ship (vocab.json + merges.txt).
    vocab, merges = tiny_tokenizer_files()
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "vocab.json").write_text(json.dumps(vocab))
    (folder / "merges.txt").write_text("#version: 0.2\n" + "\n".join(merges) + "\n")
    config = {"tokenizer_class": "CLIPTokenizer", "model_max_length": 77, "pad_token": pad_token,
              "bos_token": "<|startoftext|>", "eos_token": "<|endoftext|>", "unk_token": "<|endoftext|>",
              "do_lower_case": True}
    (folder / "tokenizer_config.json").write_text(json.dumps(config, indent=2))


def _write_base_model(folder: Path):
    from diffusers import AutoencoderKL, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTextModelWithProjection

    vocab, _ = tiny_tokenizer_files()
    unet = UNet2DConditionModel(
        block_out_channels=(32, 64), layers_per_block=1, sample_size=64, in_channels=4, out_channels=4,
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"), up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
        attention_head_dim=(2, 4), use_linear_projection=True, addition_embed_type="text_time",
        addition_time_embed_dim=TINY_TIME_EMBED_DIM, transformer_layers_per_block=(1, 1),
        projection_class_embeddings_input_dim=6 * TINY_TIME_EMBED_DIM + TINY_POOLED_DIM, cross_attention_dim=2048,
    )
    vae = AutoencoderKL(
        block_out_channels=(8, 8, 16, 16), norm_num_groups=8, layers_per_block=1, in_channels=3, out_channels=3,
        down_block_types=("DownEncoderBlock2D",) * 4, up_block_types=("UpDecoderBlock2D",) * 4,
        latent_channels=4, sample_size=512, scaling_factor=0.13025, force_upcast=True,
    )
    text_common = dict(vocab_size=len(vocab), intermediate_size=16, num_hidden_layers=2, num_attention_heads=4,
                       max_position_embeddings=77, bos_token_id=0, eos_token_id=1, pad_token_id=1)
    text_encoder = CLIPTextModel(CLIPTextConfig(hidden_size=768, hidden_act="quick_gelu", **text_common))
    text_encoder_2 = CLIPTextModelWithProjection(
        CLIPTextConfig(hidden_size=1280, hidden_act="gelu", projection_dim=TINY_POOLED_DIM, **text_common))

    folder.mkdir(parents=True, exist_ok=True)
    unet.save_pretrained(folder / "unet")
    vae.save_pretrained(folder / "vae")
    text_encoder.save_pretrained(folder / "text_encoder")
    text_encoder_2.save_pretrained(folder / "text_encoder_2")
    # Written by hand like SDXL's file, which carries keys Euler ignores (clip_sample, set_alpha_to_one...).
    (folder / "scheduler").mkdir()
    scheduler_config = {"_class_name": "EulerDiscreteScheduler", "_diffusers_version": "0.19.0", **SCHEDULER_CONFIG}
    (folder / "scheduler" / "scheduler_config.json").write_text(json.dumps(scheduler_config, indent=2))
    _write_tokenizer(folder / "tokenizer", pad_token="<|endoftext|>")
    _write_tokenizer(folder / "tokenizer_2", pad_token="!")
    model_index = {
        "_class_name": "StableDiffusionXLPipeline", "_diffusers_version": "0.19.0",
        "force_zeros_for_empty_prompt": True,
        "scheduler": ["diffusers", "EulerDiscreteScheduler"], "text_encoder": ["transformers", "CLIPTextModel"],
        "text_encoder_2": ["transformers", "CLIPTextModelWithProjection"],
        "tokenizer": ["transformers", "CLIPTokenizer"],
        "tokenizer_2": ["transformers", "CLIPTokenizer"], "unet": ["diffusers", "UNet2DConditionModel"],
        "vae": ["diffusers", "AutoencoderKL"],
    }
    (folder / "model_index.json").write_text(json.dumps(model_index, indent=2))
    return unet


def _write_controlnet(unet, folder: Path) -> None:
    from diffusers import ControlNetModel

    import torch

    controlnet = ControlNetModel.from_unet(unet, conditioning_embedding_out_channels=(8, 8, 8, 16))
    # A trained ControlNet's zero convolutions are no longer zero: give them weights, or the control
    # image, the conditioning scale and the ControlNet's gradients would change nothing in tests.
    with torch.no_grad():
        for name, parameter in controlnet.named_parameters():
            if name.startswith(("controlnet_down_blocks.", "controlnet_mid_block.")) and name.endswith("weight"):
                parameter.normal_(0.0, 0.2)
    controlnet.save_pretrained(folder)


# --- FaceMe's Mix and PhotoMaker's encoder ------------------------------------------------------------

def _write_mix(path: Path) -> None:
    from safetensors.torch import save_file

    from faceme_core.engine.mix import Mix

    path.parent.mkdir(parents=True, exist_ok=True)
    mix = Mix()
    save_file({k: v.contiguous() for k, v in mix.state_dict().items()}, str(path))


def tiny_photomaker_state() -> dict:
    """The ``photomaker-v1.bin`` dict: tiny id_encoder (real key names) and old-style LoRA keys."""
    import torch
    from transformers import CLIPVisionConfig, CLIPVisionModelWithProjection

    tower = CLIPVisionModelWithProjection(CLIPVisionConfig(**TINY_CLIP_VISION))
    id_encoder = dict(tower.state_dict())
    id_encoder["visual_projection_2.weight"] = torch.randn(1280, 1024) * 0.02
    # PhotoMaker's fusion module, unused by FaceMe (real shapes are larger; they are ignored anyway).
    for name in ("fuse_module.mlp1.fc1.weight", "fuse_module.mlp1.fc1.bias", "fuse_module.mlp2.fc2.weight",
                 "fuse_module.layer_norm.weight"):
        id_encoder[name] = torch.randn(8, 8) if name.endswith("weight") and "norm" not in name else torch.randn(8)
    block = "unet.down_blocks.1.attentions.0.transformer_blocks.0.attn1.processor"
    lora = {f"{block}.to_k_lora.down.weight": torch.randn(4, 64), f"{block}.to_k_lora.up.weight": torch.randn(64, 4)}
    return {"id_encoder": {k: v.contiguous() for k, v in id_encoder.items()}, "lora_weights": lora}


def _write_photomaker(path: Path) -> None:
    import torch

    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(tiny_photomaker_state(), path)
