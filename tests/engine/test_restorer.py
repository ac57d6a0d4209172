"""Restorer end to end on the tiny models: load, encode identities (cached), restore."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from faceme_core.engine.identity import CLIP_MEAN, CLIP_STD, clip_pixels
from faceme_core.engine.options import RestoreOptions
from faceme_core.engine.restorer import FaceRequest, Restorer
from faceme_core.errors import ModelMissingError
from tests.engine.helpers import FACE, random_reference, smooth_face


class ForwardCounter:
    def __init__(self, module):
        self.calls = 0
        self._handle = module.register_forward_pre_hook(lambda *_: setattr(self, "calls", self.calls + 1))

    def close(self):
        self._handle.remove()


def test_end_to_end(tiny_paths, tmp_path, rng):
    restorer = Restorer.load(tiny_paths, device="cpu", face_size=FACE, cache_dir=tmp_path)
    references = [random_reference(rng, "ref:a"), random_reference(rng, "ref:b"), random_reference(rng)]
    identity = restorer.encode_identity(references)
    assert identity.tokens.shape == (3, 2048) and identity.tokens.dtype == torch.float32
    assert identity.tokens.device.type == "cpu"
    assert not torch.allclose(identity.tokens[0], identity.tokens[1])
    lq = smooth_face(rng)
    results = restorer([FaceRequest(lq, identity), FaceRequest(lq, None)], RestoreOptions(steps=2, seed=3))
    assert len(results) == 2
    for result in results:
        assert result.image.shape == (FACE, FACE, 3) and result.image.dtype == np.uint8
        assert result.steps == 2 and result.seconds > 0
    assert [r.blind for r in results] == [False, True]
    assert results[0].model_evaluations == 4 and results[1].model_evaluations == 2


def test_colour_correction_takes_the_input_colours(tiny_restorer, rng):
    lq = smooth_face(rng)
    request = [FaceRequest(lq, None)]
    fixed = tiny_restorer(request, RestoreOptions(steps=2, seed=0))[0].image.astype(float)
    raw = tiny_restorer(request, RestoreOptions(steps=2, seed=0, color_correction=False))[0].image.astype(float)
    # random tiny weights produce random colours; correction brings the mean colour back to the input's
    lq_mean = lq.reshape(-1, 3).mean(0)
    assert np.abs(fixed.reshape(-1, 3).mean(0) - lq_mean).max() < np.abs(raw.reshape(-1, 3).mean(0) - lq_mean).max()
    assert np.abs(fixed.reshape(-1, 3).mean(0) - lq_mean).max() < 12


def test_identity_tokens_are_cached_in_memory_and_on_disk(tiny_paths, tmp_path, rng, monkeypatch):
    from faceme_core.engine import restorer as restorer_module

    loads = []  # the CLIP tower is loaded only to compute features of references never seen before
    real_loader = restorer_module.load_clip_id_encoder
    monkeypatch.setattr(restorer_module, "load_clip_id_encoder", lambda path: loads.append(path) or real_loader(path))
    references = [random_reference(rng, "photo-sha:0"), random_reference(rng, "photo-sha:1")]
    restorer = Restorer.load(tiny_paths, device="cpu", face_size=FACE, cache_dir=tmp_path)
    assert restorer.clip_encoder is None and not loads  # not even loaded until needed
    first = restorer.encode_identity(references)
    assert len(loads) == 1  # both references in one batch
    assert restorer.clip_encoder is None  # released again: it never sits in memory while sampling
    again = restorer.encode_identity(references[::-1])
    assert len(loads) == 1
    torch.testing.assert_close(again.tokens, first.tokens.flip(0))

    fresh = Restorer.load(tiny_paths, device="cpu", face_size=FACE, cache_dir=tmp_path)  # new process, same cache folder
    mix_calls = ForwardCounter(fresh.mix)
    from_disk = fresh.encode_identity(references)
    assert len(loads) == 1 and mix_calls.calls == 1
    torch.testing.assert_close(from_disk.tokens, first.tokens, rtol=1e-5, atol=1e-5)
    uncached = random_reference(rng)  # no cache_key: always computed
    fresh.encode_identity([uncached])
    fresh.encode_identity([uncached])
    assert len(loads) == 3


def test_arcface_is_normalised_and_checked(tiny_restorer, rng):
    from dataclasses import replace

    reference = random_reference(rng)
    scaled = replace(reference, arcface=reference.arcface * 7.0)
    tokens = tiny_restorer.encode_identity([reference, scaled]).tokens
    torch.testing.assert_close(tokens[0], tokens[1], rtol=1e-5, atol=1e-5)
    with pytest.raises(ValueError, match="arcface"):
        tiny_restorer.encode_identity([replace(reference, arcface=np.zeros(512, np.float32))])
    with pytest.raises(ValueError, match="arcface"):
        tiny_restorer.encode_identity([replace(reference, arcface=np.ones(128, np.float32))])


def test_clip_preprocessing_crops_the_box():
    image = np.zeros((300, 400, 3), dtype=np.uint8)
    image[50:250, 100:200] = (200, 100, 50)  # the "face": a tall box of one colour
    pixels = clip_pixels(image, (100.0, 50.0, 200.0, 250.0))
    assert pixels.shape == (3, 224, 224)
    expected = (np.array([200, 100, 50]) / 255.0 - np.array(CLIP_MEAN)) / np.array(CLIP_STD)
    np.testing.assert_allclose(pixels.mean(dim=(1, 2)).numpy(), expected, atol=1e-3)
    wider = clip_pixels(image, (0.0, 0.0, 400.0, 300.0))  # whole image: mostly black
    assert wider.mean() < pixels.mean()
    with pytest.raises(ValueError, match="box"):
        clip_pixels(image, (500.0, 10.0, 600.0, 100.0))


def test_clip_preprocessing_matches_transformers_clip_processor(rng):
    from PIL import Image
    from transformers.models.clip.image_processing_pil_clip import CLIPImageProcessorPil

    image = rng.integers(0, 256, (300, 260, 3), dtype=np.uint8)
    box = (-10.4, 20.6, 180.2, 290.7)  # overhangs the left edge, as detector boxes do
    expected = CLIPImageProcessorPil()(Image.fromarray(image).crop(box), return_tensors="pt")["pixel_values"][0]
    torch.testing.assert_close(clip_pixels(image, box), expected, rtol=0, atol=1e-5)


def test_missing_component_is_named(tiny_paths, tmp_path):
    from faceme_core.models.layout import ModelPaths

    paths = ModelPaths(tiny_paths.base_model, tiny_paths.controlnet, tmp_path / "nowhere" / "mix.safetensors",
                       tiny_paths.photomaker)
    with pytest.raises(ModelMissingError, match="nowhere/mix.safetensors"):
        Restorer.load(paths, device="cpu", face_size=FACE, cache_dir=tmp_path)
