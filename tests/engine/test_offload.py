"""Offload modes run through accelerate's and diffusers' hooks and give the same faces as no offloading.

On the CPU the hooks' execution device is the CPU, so every mode runs here; what is checked is that the
hooks are really installed (weights held off the module, or group hooks registered) and that the
restored faces are identical.
"""

from __future__ import annotations

import numpy as np
import pytest

from faceme_core.engine.options import OFFLOAD_MODES, RestoreOptions
from faceme_core.engine.restorer import FaceRequest, Restorer, offload_mode
from tests.engine.helpers import FACE, random_reference, smooth_face


@pytest.fixture(scope="module")
def faces_and_reference():
    rng = np.random.default_rng(5)
    return smooth_face(rng), random_reference(rng)


def restore_with(mode, tiny_paths, cache_dir, faces_and_reference):
    lq, reference = faces_and_reference
    restorer = Restorer.load(tiny_paths, device="cpu", offload=mode, face_size=FACE, cache_dir=cache_dir)
    identity = restorer.encode_identity([reference])  # the CLIP tower and Mix run under the hooks too
    (result,) = restorer([FaceRequest(lq=lq, identity=identity)], RestoreOptions(steps=2, seed=5))
    return restorer, identity, result


def test_every_offload_mode_gives_the_same_result_as_none(tiny_paths, tmp_path, faces_and_reference):
    _, identity, expected = restore_with("none", tiny_paths, tmp_path / "none", faces_and_reference)
    for mode in OFFLOAD_MODES[1:]:
        restorer, other_identity, result = restore_with(mode, tiny_paths, tmp_path / mode, faces_and_reference)
        assert restorer.auto_batch_size() == 1
        np.testing.assert_allclose(other_identity.tokens, identity.tokens, rtol=1e-5, atol=1e-5, err_msg=mode)
        assert np.array_equal(result.image, expected.image), mode
        unet = restorer.unet
        if mode == "model":
            assert hasattr(unet, "_hf_hook") and len(restorer._hooks) == 4  # Mix, VAE, ControlNet, UNet
        elif mode == "sequential":
            assert next(unet.parameters()).device.type == "meta"  # weights live in the hook's CPU map
        else:
            hooked = [m for m in unet.modules() if getattr(m, "_diffusers_hook", None) is not None]
            assert len(hooked) > 10  # diffusers' group offloading, layer by layer


def test_the_old_boolean_offload_means_model_offload():
    assert offload_mode(True) == "model" and offload_mode(False) == "none"
    with pytest.raises(ValueError, match="offload='gpu'"):
        offload_mode("gpu")


def test_the_cli_accepts_the_old_flag_and_the_modes():
    import argparse

    from faceme_core.cli.engine_options import add_engine_options

    parser = argparse.ArgumentParser()
    add_engine_options(parser)
    assert parser.parse_args([]).offload == "none"
    assert parser.parse_args(["--offload"]).offload == "model"
    assert parser.parse_args(["--offload", "sequential"]).offload == "sequential"
    with pytest.raises(SystemExit):
        parser.parse_args(["--offload", "all"])
