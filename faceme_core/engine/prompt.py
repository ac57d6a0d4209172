"""The fixed prompt's embeddings (c_text), cached on disk, and the identity splice that makes c_id.

c_text: "A photo of face." through SDXL's two text encoders (penultimate hidden states, 768 + 1280 =
2048 per row, 77 rows), plus text encoder 2's pooled projection. The text encoders are loaded once per
base model, their output cached on disk, and released: they are never in memory while sampling.
"""

from __future__ import annotations

import gc
import hashlib
from dataclasses import dataclass
from pathlib import Path

import torch

from faceme_core.errors import ModelFormatError, ModelMissingError

PROMPT = "A photo of face."
IDENTITY_WORD = "face"
# SDXL micro-conditioning: original size, crop top-left, target size (all 512 for FFHQ-aligned faces).
ADD_TIME_IDS = (512.0, 512.0, 0.0, 0.0, 512.0, 512.0)
TEXT_PARTS = ("text_encoder", "text_encoder_2", "tokenizer", "tokenizer_2")
_CACHE_FORMAT = "faceme-prompt-v1"


@dataclass(frozen=True)
class PromptEmbeddings:
    c_text: torch.Tensor  # (77, 2048) float32
    pooled: torch.Tensor  # (P,) float32: text encoder 2's projection of the prompt
    face_index: int  # row of the word "face" in tokenizer 1's ids (start token included)


def splice_identity(c_text: torch.Tensor, face_index: int, id_tokens: torch.Tensor) -> torch.Tensor:
    """c_id: c_text with its "face" row replaced by the N identity rows, cut back to c_text's length.

    Pure, batched and differentiable: ``c_text`` (L, D) or (B, L, D); ``id_tokens`` (N, D) or
    (B, N, D) with any N >= 1. A 2-D argument broadcasts against a batched one.
    """
    if id_tokens.shape[-2] < 1:
        raise ValueError("id_tokens: need at least one identity row")
    length = c_text.shape[-2]
    if not 0 <= face_index < length:
        raise ValueError(f"face_index={face_index}: outside a {length}-row prompt")
    if c_text.ndim == 3 or id_tokens.ndim == 3:
        batch = c_text.shape[0] if c_text.ndim == 3 else id_tokens.shape[0]
        c_text = c_text.expand(batch, *c_text.shape[-2:]) if c_text.ndim == 2 else c_text
        id_tokens = id_tokens.expand(batch, *id_tokens.shape[-2:]) if id_tokens.ndim == 2 else id_tokens
    prefix, suffix = c_text[..., :face_index, :], c_text[..., face_index + 1:, :]
    spliced = torch.cat([prefix, id_tokens.to(c_text.dtype), suffix], dim=-2)
    return spliced[..., :length, :]


def add_time_ids(batch: int, dtype: torch.dtype = torch.float32, device: str | torch.device = "cpu") -> torch.Tensor:
    return torch.tensor([ADD_TIME_IDS], dtype=dtype, device=device).expand(batch, -1)


# --- computing c_text -----------------------------------------------------------------------------------

def find_word_index(tokenizer, prompt: str, word: str) -> int:
    """Position of ``word``'s single token in ``prompt``'s ids (found, never assumed)."""
    word_ids = tokenizer(word, add_special_tokens=False).input_ids
    if len(word_ids) != 1:
        raise ModelFormatError(f"tokenizer splits {word!r} into {len(word_ids)} tokens; FaceMe needs exactly one")
    ids = list(tokenizer(prompt).input_ids)
    hits = [i for i, token in enumerate(ids) if token == word_ids[0]]
    if len(hits) != 1:
        raise ModelFormatError(f"the word {word!r} occurs {len(hits)} times in the tokenized prompt {prompt!r}")
    return hits[0]


def compute_prompt_embeddings(base_model: Path) -> PromptEmbeddings:
    """Load SDXL's tokenizers and text encoders, embed PROMPT as the SDXL pipeline does, free them."""
    from transformers import CLIPTextModel, CLIPTextModelWithProjection, CLIPTokenizer
    from transformers.utils import logging as transformers_logging

    transformers_logging.disable_progress_bar()  # a one-off load: its per-tensor bars are noise to users

    for part in TEXT_PARTS:
        if not (base_model / part).is_dir():
            raise ModelMissingError(f"{base_model}: the base model has no {part}/ folder")
    tokenizer = CLIPTokenizer.from_pretrained(base_model / "tokenizer")
    tokenizer_2 = CLIPTokenizer.from_pretrained(base_model / "tokenizer_2")
    from faceme_core.models.verify_folders import weights_variant

    # Safetensors only (nothing unpickles); fp16-only downloads need their variant named.
    text_encoder, text_encoder_2 = (
        model_class.from_pretrained(base_model / part, torch_dtype=torch.float32, use_safetensors=True,
                                    variant=weights_variant(base_model / part, "model"))
        for model_class, part in ((CLIPTextModel, "text_encoder"), (CLIPTextModelWithProjection, "text_encoder_2"))
    )
    face_index = find_word_index(tokenizer, PROMPT, IDENTITY_WORD)
    rows, pooled = [], None
    with torch.inference_mode():
        for tok, encoder in ((tokenizer, text_encoder), (tokenizer_2, text_encoder_2)):
            ids = tok(PROMPT, padding="max_length", max_length=tok.model_max_length, truncation=True,
                      return_tensors="pt").input_ids
            out = encoder(ids, output_hidden_states=True)
            rows.append(out.hidden_states[-2][0])  # penultimate layer, as SDXL was trained
            pooled = out.text_embeds[0] if hasattr(out, "text_embeds") else pooled
    del text_encoder, text_encoder_2
    gc.collect()
    return PromptEmbeddings(c_text=torch.cat(rows, dim=-1).float().clone(), pooled=pooled.float().clone(),
                            face_index=face_index)


# --- the disk cache -------------------------------------------------------------------------------------

def prompt_cache_key(base_model: Path) -> str:
    """Base model folder + name, size and mtime of every text encoder/tokenizer file."""
    digest = hashlib.sha256(f"{_CACHE_FORMAT}\0{PROMPT}\0{base_model.resolve()}".encode())
    for part in TEXT_PARTS:
        folder = base_model / part
        for path in sorted(p for p in folder.rglob("*") if p.is_file()) if folder.is_dir() else []:
            stat = path.stat()
            digest.update(f"\0{path.relative_to(base_model)}:{stat.st_size}:{stat.st_mtime_ns}".encode())
    return digest.hexdigest()


def load_prompt_embeddings(base_model: Path, cache_dir: Path | None) -> PromptEmbeddings:
    """c_text from the disk cache, computing (and caching) it on a miss."""
    from safetensors.torch import load_file, save

    from faceme_core.imageio.atomic import write_atomically

    path = None if cache_dir is None else Path(cache_dir) / "prompt" / f"{prompt_cache_key(base_model)}.safetensors"
    if path is not None and path.exists():
        try:
            cached = load_file(str(path))
            return PromptEmbeddings(cached["c_text"], cached["pooled"], int(cached["face_index"].item()))
        except Exception:  # corrupt entry: recompute and overwrite
            pass
    prompt = compute_prompt_embeddings(base_model)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(path, save({"c_text": prompt.c_text.contiguous(), "pooled": prompt.pooled.contiguous(),
                                     "face_index": torch.tensor(prompt.face_index)}))
    return prompt
