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

from faceme_core.engine.components import TextEncoders
from faceme_core.errors import ModelFormatError

PROMPT = "A photo of face."
IDENTITY_WORD = "face"
FACE_SIZE = 512  # the released weights restore 512x512 FFHQ-aligned faces
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


def time_ids_for(face_size: int = FACE_SIZE) -> tuple[float, ...]:
    """SDXL micro-conditioning: original size, crop top-left, target size; (512, 512, 0, 0, 512, 512) for
    the released weights, as FaceMe trained and ran them."""
    return (float(face_size), float(face_size), 0.0, 0.0, float(face_size), float(face_size))


ADD_TIME_IDS = time_ids_for(FACE_SIZE)


def add_time_ids(batch: int, dtype: torch.dtype = torch.float32, device: str | torch.device = "cpu",
                 face_size: int = FACE_SIZE) -> torch.Tensor:
    """(batch, 6) ``time_ids`` for ``predict_noise``."""
    return torch.tensor([time_ids_for(face_size)], dtype=dtype, device=device).expand(batch, -1)


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


def encode_prompt(text_encoders: TextEncoders, prompt: str = PROMPT,
                  identity_word: str = IDENTITY_WORD) -> PromptEmbeddings:
    """Embed ``prompt`` as the SDXL pipeline does: both encoders' penultimate hidden states, padded to
    the tokenizers' 77 tokens, concatenated (768 + 1280); the pooled projection of encoder 2.

    Differentiable, and it leaves the encoders' modes alone (callers choose inference_mode or not).
    """
    face_index = find_word_index(text_encoders.tokenizer, prompt, identity_word)
    rows, pooled = [], None
    pairs = ((text_encoders.tokenizer, text_encoders.text_encoder),
             (text_encoders.tokenizer_2, text_encoders.text_encoder_2))
    for tok, encoder in pairs:
        ids = tok(prompt, padding="max_length", max_length=tok.model_max_length, truncation=True,
                  return_tensors="pt").input_ids.to(encoder.device)
        out = encoder(ids, output_hidden_states=True)
        rows.append(out.hidden_states[-2][0])  # penultimate layer, as SDXL was trained
        pooled = out.text_embeds[0] if hasattr(out, "text_embeds") else pooled
    return PromptEmbeddings(c_text=torch.cat(rows, dim=-1).float(), pooled=pooled.float(), face_index=face_index)


def compute_prompt_embeddings(base_model: Path) -> PromptEmbeddings:
    """Load SDXL's tokenizers and text encoders (CPU, float32), embed PROMPT, free them."""
    from faceme_core.engine.components import load_text_encoders

    text_encoders = load_text_encoders(Path(base_model))
    with torch.inference_mode():
        prompt = encode_prompt(text_encoders)
    del text_encoders
    gc.collect()
    return PromptEmbeddings(prompt.c_text.clone(), prompt.pooled.clone(), prompt.face_index)


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
