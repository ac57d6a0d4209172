"""Both training stages on tiny models: finite losses, learning, frozen Mix, exact resume, usable export."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
import torch
import yaml
from PIL import Image

from faceme_core.cli.main import main as faceme
from faceme_core.engine.mix import MixConfig
from tests.conftest import FACES_DIR
from tests.training.helpers import TINY_MIX, tiny_config
from training.checkpoints import checkpoint_dir, list_checkpoints


@pytest.fixture(autouse=True)
def fresh_accelerate_state():
    """Each run builds its own Accelerator; accelerate keeps process-wide singletons between them."""
    yield
    from accelerate.state import AcceleratorState, GradientState

    AcceleratorState._reset_state(reset_partial_state=True)
    GradientState._reset_state()


def run(config, resume=None):
    from training.train import run as train_run

    return train_run(config, resume=resume)


def state_of(module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in module.state_dict().items()}


@pytest.mark.slow
def test_stage_one_trains_validates_and_exports_weights_the_app_accepts(tiny_models, prepared_data, tmp_path,
                                                                          monkeypatch, capsys):
    # The released Mix size: `faceme models verify` checks every released shape.
    config = tiny_config(tiny_models, prepared_data.root, tmp_path / "run", mix_config={}, validation_steps=2,
                         validation_samples=2, validation_sampling_steps=2)
    result = run(config)
    assert result.steps == 2 and len(result.losses) == 2 and all(np.isfinite(result.losses))
    weights = result.weights_dir
    assert weights == tmp_path / "run" / "weights"
    assert (weights / "controlnet" / "config.json").is_file() and (weights / "mix" / "mix.safetensors").is_file()
    grid = np.asarray(Image.open(tmp_path / "run" / "validation" / "step-0000002.png"))
    assert grid.shape == (2 * 64, 3 * 64, 3)
    # the app's own checks and loaders accept the export
    assert faceme(["models", "verify", str(weights / "controlnet")]) == 0
    assert faceme(["models", "verify", str(weights / "mix" / "mix.safetensors")]) == 0
    # a model folder with everything but FaceMe's own weights (linked, not copied: they are only read)
    models = tmp_path / "models"
    models.mkdir()
    for part in tiny_models.iterdir():
        if part.name != "faceme":
            (models / part.name).symlink_to(part, target_is_directory=True)
    monkeypatch.setenv("FACEME_MODELS", str(models))
    assert faceme(["models", "import", str(weights)]) == 0
    from faceme_core.models.store import resolve_model_paths

    paths = resolve_model_paths(models)
    assert paths.mix.read_bytes() == (weights / "mix" / "mix.safetensors").read_bytes()
    assert (paths.controlnet / "config.json").read_text() == (weights / "controlnet" / "config.json").read_text()
    out = tmp_path / "restored.png"
    face = tmp_path / "face.png"
    shutil.copy(FACES_DIR / "Hepburn01.png", face)
    code = faceme(["restore", str(face), "--ref", str(FACES_DIR / "Hepburn02.png"), "-o", str(out), "--steps", "1"])
    assert code == 0, capsys.readouterr().err
    assert out.is_file()


def test_repeated_steps_on_one_batch_lower_the_loss(tiny_models, prepared_data, tmp_path):
    from accelerate import Accelerator

    from training.data import FaceMeDataset
    from training.train import build_model, training_loss

    config = tiny_config(tiny_models, prepared_data.root, tmp_path / "run")
    torch.manual_seed(0)
    model, frozen = build_model(config, Accelerator(cpu=True), torch.float32)
    dataset = FaceMeDataset(prepared_data, config.resolution, seed=0)
    batch = torch.utils.data.default_collate([dataset[(0, 0)], dataset[(0, 1)]])
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-3)
    losses = []
    for _ in range(8):
        torch.manual_seed(1)  # the same noise and timesteps every step: only the weights change
        loss = training_loss(model, frozen, batch)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        losses.append(float(loss.detach()))
    assert all(np.isfinite(losses))
    assert losses[-1] < 0.8 * losses[0], losses
    # one module holds exactly the two trained ones (what accelerate/DeepSpeed prepare and checkpoints save);
    # the frozen UNet is used but is neither a parameter nor saved
    assert {name.split(".")[0] for name in model.state_dict()} == {"controlnet", "mix"}
    assert all(p.requires_grad for p in model.parameters()) and not any(p.requires_grad for p in frozen.unet.parameters())
    # both modules learned (Stage I trains ControlNet and Mix together)
    assert model.mix.mlp2.fc2.weight.grad is None  # zero_grad(set_to_none)
    assert all(p.requires_grad for p in model.mix.parameters())
    # validation leaves the training RNG where it was (a checkpoint at a validation step resumes exactly)
    from types import SimpleNamespace

    from training.validation import log_validation

    validation = tiny_config(tiny_models, prepared_data.root, tmp_path / "run", validation_samples=1,
                             validation_sampling_steps=1)
    before = torch.get_rng_state()
    log_validation(validation, SimpleNamespace(log_with=[]), model, frozen, dataset, step=8)
    assert torch.equal(torch.get_rng_state(), before) and model.training
    assert (tmp_path / "run" / "validation" / "step-0000008.png").is_file()


def test_stage_two_leaves_mix_bit_identical_and_trains_a_fresh_controlnet(tiny_models, prepared_data, tmp_path):
    from safetensors.torch import save_file

    from faceme_core.engine.mix import Mix

    torch.manual_seed(3)
    mix_path = tmp_path / "stage1" / "mix.safetensors"
    mix_path.parent.mkdir()
    save_file({k: v.contiguous() for k, v in Mix(MixConfig(**TINY_MIX)).state_dict().items()}, str(mix_path))
    config = tiny_config(tiny_models, prepared_data.root, tmp_path / "run", stage=2, mix_path=str(mix_path))
    assert config.drop_probability == 0.5
    result = run(config)
    assert all(np.isfinite(result.losses)) and result.steps == 2
    exported = result.weights_dir / "mix" / "mix.safetensors"
    assert exported.read_bytes() == mix_path.read_bytes()  # the very same bytes, not just close values
    # the ControlNet moved away from its copy of the UNet
    from diffusers import ControlNetModel

    trained = ControlNetModel.from_pretrained(result.weights_dir / "controlnet")
    assert trained.controlnet_mid_block.weight.abs().sum() > 0  # zero-initialised, so it was trained


def test_resume_latest_equals_an_uninterrupted_run(tiny_models, prepared_data, tmp_path):
    common = dict(train_batch_size=1, checkpointing_steps=2, max_train_steps=4, gradient_accumulation_steps=1)
    whole = run(tiny_config(tiny_models, prepared_data.root, tmp_path / "whole", **common))
    first = run(tiny_config(tiny_models, prepared_data.root, tmp_path / "parts", **{**common, "max_train_steps": 2}))
    assert first.steps == 2
    rest = run(tiny_config(tiny_models, prepared_data.root, tmp_path / "parts", **common), resume="latest")
    assert rest.steps == 4 and len(rest.losses) == 2
    assert rest.losses == whole.losses[2:]
    for name in ("model.safetensors", "optimizer.bin", "scheduler.bin"):
        a = checkpoint_dir(tmp_path / "whole", 4) / name
        b = checkpoint_dir(tmp_path / "parts", 4) / name
        assert _load(a) == _load(b), name
    # the data position too: all 4 batches of epoch 0 consumed (the next run starts epoch 1)
    positions = [torch.load(checkpoint_dir(tmp_path / run_dir, 4) / "custom_checkpoint_0.pkl", weights_only=False)
                 for run_dir in ("whole", "parts")]
    assert positions[0] == positions[1] == {"step": 4, "epoch": 0, "batches_in_epoch": 4}


def _load(path):
    """A comparable form of a checkpoint file (tensors as bytes)."""
    if path.suffix == ".safetensors":
        from safetensors.torch import load_file

        return {k: v.numpy().tobytes() for k, v in load_file(str(path)).items()}
    state = torch.load(path, weights_only=False)
    return json.dumps(_plain(state), sort_keys=True)


def _plain(value):
    if isinstance(value, torch.Tensor):
        return value.numpy().tobytes().hex()
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def test_gradient_accumulation_counts_optimizer_steps_and_checkpoints_keep_the_total_limit(
        tiny_models, prepared_data, tmp_path):
    # 4 samples, batch 2, accumulation 2: one optimizer step per epoch
    config = tiny_config(tiny_models, prepared_data.root, tmp_path / "run", train_batch_size=2, max_train_steps=3,
                         gradient_accumulation_steps=2, checkpointing_steps=1, checkpoints_total_limit=2)
    result = run(config)
    assert result.steps == 3 and len(result.losses) == 3 and all(np.isfinite(result.losses))
    assert [p.name for p in list_checkpoints(tmp_path / "run")] == ["checkpoint-2", "checkpoint-3"]
    position = torch.load(checkpoint_dir(tmp_path / "run", 3) / "custom_checkpoint_0.pkl", weights_only=False)
    assert position == {"step": 3, "epoch": 2, "batches_in_epoch": 2}


def test_bf16_mixed_precision_keeps_trained_weights_and_the_vae_in_float32(tiny_models, prepared_data, tmp_path):
    from accelerate import Accelerator

    from training.train import build_model

    config = tiny_config(tiny_models, prepared_data.root, tmp_path / "run", mixed_precision="bf16")
    result = run(config)  # bf16 autocast works on the CPU, so the mixed-precision path runs here
    assert result.steps == 2 and all(np.isfinite(result.losses))
    from safetensors.torch import load_file

    assert all(t.dtype == torch.float32 for t in load_file(str(result.weights_dir / "mix" / "mix.safetensors")).values())
    model, frozen = build_model(config, Accelerator(cpu=True, mixed_precision="bf16"), torch.bfloat16)
    assert frozen.unet.dtype == torch.bfloat16 and frozen.vae.dtype == torch.float32
    assert model.controlnet.dtype == torch.float32 and next(model.mix.parameters()).dtype == torch.float32


def test_eight_bit_adam_without_bitsandbytes_is_one_clear_error(tiny_models, prepared_data, tmp_path):
    try:
        import bitsandbytes  # noqa: F401
        pytest.skip("bitsandbytes is installed here")
    except ImportError:
        pass
    from training.config import ConfigError
    from training.train import build_optimizer

    config = tiny_config(tiny_models, prepared_data.root, tmp_path / "run", use_8bit_adam=True)
    with pytest.raises(ConfigError, match="bitsandbytes"):
        build_optimizer(config, [torch.nn.Parameter(torch.zeros(2))])


def test_command_line_names_a_bad_config_in_one_line(tmp_path, capsys):
    from training.train import main

    assert main(["--config", str(tmp_path / "missing.yaml")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "missing.yaml" in err and "Traceback" not in err
    bad = tmp_path / "bad.yaml"
    bad.write_text("stage: 2\ndata_root: d\noutput_dir: o\n")
    assert main(["--config", str(bad)]) == 2
    assert "mix_path" in capsys.readouterr().err


def test_bad_data_a_missing_mix_or_checkpoint_are_named_before_any_model_loads(prepared_data, tmp_path, capsys):
    from training.train import main

    def config(**settings) -> str:
        path = tmp_path / "c.yaml"
        # no base model exists at all: each error below must come before it is looked for
        path.write_text(yaml.safe_dump({"stage": 1, "data_root": str(prepared_data.root), "output_dir": "out",
                                        "base_model": str(tmp_path / "no-base"), **settings}))
        return str(path)

    assert main(["--config", config(data_root=str(tmp_path / "nowhere"))]) == 2
    assert "nowhere: no such folder" in capsys.readouterr().err
    assert main(["--config", config(data_root=str(tmp_path))]) == 2  # a folder never prepared
    assert "manifest.jsonl: not found" in capsys.readouterr().err
    assert main(["--config", config(stage=2, mix_path=str(tmp_path / "mix.safetensors"))]) == 2
    assert "mix.safetensors: no such file" in capsys.readouterr().err
    assert main(["--config", config(), "--resume", str(tmp_path / "checkpoint-9")]) == 2
    assert "checkpoint-9: no such checkpoint folder" in capsys.readouterr().err
    assert main(["--config", config()]) == 2  # everything else fine: now the base model is looked for
    assert "no-base" in capsys.readouterr().err


def test_gradient_checkpointing_gives_the_same_gradients_to_both_trained_modules(tiny_models, prepared_data, tmp_path,
                                                                                  monkeypatch):
    import torch.utils.checkpoint
    from accelerate import Accelerator

    from training.data import FaceMeDataset
    from training.train import build_model, training_loss

    dataset = FaceMeDataset(prepared_data, 64, seed=0)
    batch = torch.utils.data.default_collate([dataset[(0, 0)], dataset[(0, 1)]])
    config = tiny_config(tiny_models, prepared_data.root, tmp_path / "run", gradient_checkpointing=True)
    model, frozen = build_model(config, Accelerator(cpu=True), torch.float32)
    checkpointed_calls = []
    checkpoint = torch.utils.checkpoint.checkpoint
    monkeypatch.setattr(torch.utils.checkpoint, "checkpoint",
                        lambda *args, **kwargs: checkpointed_calls.append(1) or checkpoint(*args, **kwargs))

    def gradients() -> dict[str, torch.Tensor]:
        model.zero_grad(set_to_none=True)
        torch.manual_seed(1)  # the same noise and timesteps both times
        training_loss(model, frozen, batch).backward()
        return {name: p.grad.clone() for name, p in model.named_parameters() if p.grad is not None}

    with_checkpointing = gradients()
    assert checkpointed_calls  # the UNet's and the ControlNet's blocks really were checkpointed
    frozen.unet.disable_gradient_checkpointing()
    model.controlnet.disable_gradient_checkpointing()
    checkpointed_calls.clear()
    plain = gradients()
    assert not checkpointed_calls
    assert with_checkpointing.keys() == plain.keys()
    assert any(n.startswith("mix.") for n in plain) and any(n.startswith("controlnet.") for n in plain)
    for name, grad in plain.items():
        torch.testing.assert_close(with_checkpointing[name], grad, rtol=1e-4, atol=1e-6, msg=name)
