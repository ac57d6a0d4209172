"""c_text from SDXL's two text encoders, its disk cache, and the identity splice that makes c_id."""

from __future__ import annotations

import os

import pytest
import torch

from faceme_core.engine import prompt as prompt_module
from faceme_core.engine.prompt import (
    PROMPT,
    compute_prompt_embeddings,
    find_word_index,
    load_prompt_embeddings,
    splice_identity,
)
from tests.engine.helpers import FACE


@pytest.fixture(scope="module")
def tokenizer(tiny_paths):
    from transformers import CLIPTokenizer

    return CLIPTokenizer.from_pretrained(tiny_paths.base_model / "tokenizer")


def test_face_token_is_found_not_assumed(tokenizer):
    assert find_word_index(tokenizer, PROMPT, "face") == 4  # <start> a photo of face .
    assert find_word_index(tokenizer, "face of a photo.", "face") == 1
    assert find_word_index(tokenizer, "a photo of a photo of face.", "face") == 7


def test_c_text_is_both_encoders_penultimate_states(tiny_paths, tokenizer):
    from transformers import CLIPTextModel, CLIPTextModelWithProjection

    embeddings = compute_prompt_embeddings(tiny_paths.base_model)
    assert embeddings.c_text.shape == (77, 2048) and embeddings.face_index == 4
    from transformers import CLIPTokenizer

    ids = tokenizer(PROMPT, padding="max_length", max_length=77, return_tensors="pt").input_ids
    tokenizer_2 = CLIPTokenizer.from_pretrained(tiny_paths.base_model / "tokenizer_2")
    ids_2 = tokenizer_2(PROMPT, padding="max_length", max_length=77, return_tensors="pt").input_ids
    assert not torch.equal(ids, ids_2)  # SDXL's two tokenizers pad differently ("!" in the second)
    with torch.inference_mode():
        out1 = CLIPTextModel.from_pretrained(tiny_paths.base_model / "text_encoder")(ids, output_hidden_states=True)
        out2 = CLIPTextModelWithProjection.from_pretrained(tiny_paths.base_model / "text_encoder_2")(
            ids_2, output_hidden_states=True)
    torch.testing.assert_close(embeddings.c_text[:, :768], out1.hidden_states[-2][0])
    torch.testing.assert_close(embeddings.c_text[:, 768:], out2.hidden_states[-2][0])
    assert not torch.allclose(embeddings.c_text[:, 768:], out2.last_hidden_state[0])  # really the penultimate
    torch.testing.assert_close(embeddings.pooled, out2.text_embeds[0])


@pytest.mark.parametrize("n", [1, 3, 90])
def test_splice_identity_rows(n):
    generator = torch.Generator().manual_seed(n)
    c_text = torch.randn(77, 2048, generator=generator)
    tokens = torch.randn(n, 2048, generator=generator)
    c_id = splice_identity(c_text, 4, tokens)
    assert c_id.shape == (77, 2048)
    assert torch.equal(c_id[:4], c_text[:4])
    kept = min(n, 77 - 4)
    assert torch.equal(c_id[4:4 + kept], tokens[:kept])
    suffix = 77 - 4 - kept
    assert torch.equal(c_id[4 + kept:], c_text[5:5 + suffix])


def test_splice_identity_is_batched_and_differentiable():
    c_text = torch.randn(77, 16)
    tokens = torch.randn(2, 3, 16, requires_grad=True)
    c_id = splice_identity(c_text, 4, tokens)
    assert c_id.shape == (2, 77, 16)
    assert torch.equal(c_id[1], splice_identity(c_text, 4, tokens[1]))
    c_id.sum().backward()
    assert torch.equal(tokens.grad, torch.ones_like(tokens))


def test_prompt_cache_skips_text_encoders(tiny_paths, tmp_path, monkeypatch):
    first = load_prompt_embeddings(tiny_paths.base_model, tmp_path)
    assert list((tmp_path / "prompt").glob("*.safetensors"))

    def refuse(*args, **kwargs):
        raise AssertionError("the text encoders must not be loaded on a cache hit")

    monkeypatch.setattr(prompt_module, "compute_prompt_embeddings", refuse)
    second = load_prompt_embeddings(tiny_paths.base_model, tmp_path)
    assert torch.equal(first.c_text, second.c_text) and torch.equal(first.pooled, second.pooled)
    assert second.face_index == first.face_index


def test_prompt_cache_is_invalidated_by_changed_text_encoder(tiny_paths, tmp_path, monkeypatch):
    from tests.support.tiny_models import build_tiny_model_dir

    paths = build_tiny_model_dir(tmp_path / "models")
    load_prompt_embeddings(paths.base_model, tmp_path / "cache")
    weights = paths.base_model / "text_encoder_2" / "model.safetensors"
    os.utime(weights, ns=(weights.stat().st_atime_ns, weights.stat().st_mtime_ns + 10**9))
    calls = []
    real = prompt_module.compute_prompt_embeddings
    monkeypatch.setattr(prompt_module, "compute_prompt_embeddings", lambda base: calls.append(base) or real(base))
    load_prompt_embeddings(paths.base_model, tmp_path / "cache")
    assert calls == [paths.base_model]


def test_second_restorer_load_never_loads_text_encoders(tiny_paths, tmp_path, monkeypatch):
    import transformers

    from faceme_core.engine.restorer import Restorer

    first = Restorer.load(tiny_paths, device="cpu", face_size=FACE, cache_dir=tmp_path)

    def refuse(*args, **kwargs):
        raise AssertionError("text encoder loaded although c_text is cached")

    monkeypatch.setattr(transformers.CLIPTextModel, "from_pretrained", refuse)
    monkeypatch.setattr(transformers.CLIPTextModelWithProjection, "from_pretrained", refuse)
    second = Restorer.load(tiny_paths, device="cpu", face_size=FACE, cache_dir=tmp_path)
    assert torch.equal(first.prompt.c_text, second.prompt.c_text)
