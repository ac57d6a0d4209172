"""`faceme models verify`: header-only checks that name exactly what is wrong."""

from __future__ import annotations

import json
import shutil
import tracemalloc

import pytest
import torch

from faceme_core.cli.main import main
from faceme_core.models.verify import verify_path
from faceme_core.models.verify_folders import weights_variant
from tests.models.helpers import mix_shapes, write_sparse_safetensors


def run_cli(capsys, *argv):
    code = main(["models", *argv])
    out, err = capsys.readouterr()
    return code, out, err


# --- mix.safetensors -------------------------------------------------------------------------------


def test_verify_correct_mix_is_ok(tmp_path, capsys):
    from safetensors import safe_open

    path = tmp_path / "mix.safetensors"
    write_sparse_safetensors(path, mix_shapes())
    with safe_open(str(path), framework="pt") as f:  # the fixture is a genuine safetensors file
        assert set(f.keys()) == set(mix_shapes())

    code, out, _ = run_cli(capsys, "verify", str(path), "--json")
    report = json.loads(out)
    assert code == 0
    assert report["component"] == "mix" and report["ok"] is True and report["errors"] == []


def test_verify_mix_with_one_wrong_shape_names_tensor_expected_and_found(tmp_path, capsys):
    shapes = mix_shapes()
    shapes["mlp1.fc1.weight"] = (2048, 4000)  # released: (2048, 4096)
    path = tmp_path / "mix.safetensors"
    write_sparse_safetensors(path, shapes)

    code, out, _ = run_cli(capsys, "verify", str(path))
    assert code == 2
    assert "INVALID" in out
    (line,) = [l for l in out.splitlines() if "error:" in l]
    assert "mlp1.fc1.weight" in line and "(2048, 4000)" in line and "expected (2048, 4096)" in line


def test_verify_mix_lists_missing_and_unexpected_tensors(tmp_path):
    shapes = mix_shapes()
    del shapes["norm1.weight"]
    shapes["extra.bias"] = (3,)
    path = tmp_path / "renamed.safetensors"  # detected by content, not by name
    write_sparse_safetensors(path, shapes)

    report = verify_path(path)
    assert report.component == "mix" and not report.ok
    assert any("missing" in e and "norm1.weight" in e for e in report.errors)
    assert any("unexpected" in e and "extra.bias" in e for e in report.errors)
    assert len(report.errors) == 2


def test_verify_reports_truncated_mix_from_its_header(tmp_path):
    path = tmp_path / "mix.safetensors"
    size = write_sparse_safetensors(path, mix_shapes())
    with path.open("r+b") as f:
        f.truncate(size - 1000)  # an interrupted download

    report = verify_path(path)
    assert not report.ok
    (error,) = report.errors  # names and shapes were still all checked, from the header alone
    assert "truncated" in error and "mix.safetensors" in error


def test_verify_reports_bytes_beyond_the_declared_data(tmp_path):
    folder = tmp_path / "mix"
    write_sparse_safetensors(folder / "mix.safetensors", mix_shapes())
    with (folder / "mix.safetensors").open("ab") as f:
        f.write(b"junk")

    report = verify_path(folder)  # the folder holding it is accepted too
    assert report.component == "mix" and report.path == folder / "mix.safetensors"
    assert report.errors == ["mix: mix.safetensors has 4 bytes more than its header declares (damaged, or not written by safetensors)"]


def test_verify_reads_headers_only(tmp_path):
    # A real-size mix in fp32 (~157 MB): reading it would allocate at least that much.
    path = tmp_path / "mix.safetensors"
    size = write_sparse_safetensors(path, mix_shapes(), dtype="F32")
    assert size > 150 * 1024 * 1024
    tracemalloc.start()
    try:
        report = verify_path(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert report.ok
    assert peak < 5 * 1024 * 1024


def test_verify_rejects_a_file_that_is_not_safetensors(tmp_path, capsys):
    path = tmp_path / "mix.safetensors"
    path.write_bytes(b"\xff" * 64)
    code, out, _ = run_cli(capsys, "verify", str(path))
    assert code == 2 and "not a safetensors file" in out


# --- photomaker-v1.bin -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def photomaker_state():
    from tests.support.tiny_models import tiny_photomaker_state

    return tiny_photomaker_state()


def test_verify_tiny_photomaker_warns_but_passes(tmp_path, photomaker_state, capsys):
    path = tmp_path / "photomaker-v1.bin"
    torch.save(photomaker_state, path)
    code, out, _ = run_cli(capsys, "verify", str(path), "--json")
    report = json.loads(out)
    assert code == 0 and report["ok"] is True
    (warning,) = report["warnings"]
    assert "not the released size" in warning
    assert "num_hidden_layers 2 (released 24)" in warning and "intermediate_size 64 (released 4096)" in warning


def test_verify_accepts_the_legacy_position_ids_buffer_like_the_engine(tmp_path, photomaker_state):
    state = {"id_encoder": dict(photomaker_state["id_encoder"]), "lora_weights": photomaker_state["lora_weights"]}
    state["id_encoder"]["vision_model.embeddings.position_ids"] = torch.arange(257)[None]
    path = tmp_path / "photomaker-v1.bin"
    torch.save(state, path)
    assert verify_path(path).ok


def test_verify_photomaker_with_unexpected_non_fuse_key_is_an_error(tmp_path, photomaker_state):
    state = {"id_encoder": dict(photomaker_state["id_encoder"]), "lora_weights": photomaker_state["lora_weights"]}
    state["id_encoder"]["vision_model.extra_head.weight"] = torch.zeros(4, 4)
    path = tmp_path / "photomaker-v1.bin"
    torch.save(state, path)

    report = verify_path(path)
    assert not report.ok
    assert any("unexpected" in e and "vision_model.extra_head.weight" in e for e in report.errors)
    assert not any("fuse_module" in e for e in report.errors)  # those are ignored on purpose


def test_verify_photomaker_missing_projection_and_lora(tmp_path, photomaker_state):
    id_encoder = {k: v for k, v in photomaker_state["id_encoder"].items() if k != "visual_projection_2.weight"}
    path = tmp_path / "photomaker-v1.bin"
    torch.save({"id_encoder": id_encoder}, path)

    report = verify_path(path)
    assert any("missing" in e and "visual_projection_2.weight" in e for e in report.errors)
    assert any("lora_weights" in e for e in report.errors)


class Explosive:
    """Unpickling this would run code; weights_only loading must refuse it."""

    ran = False

    def __reduce__(self):
        return (Explosive._boom, ())

    @staticmethod
    def _boom():
        Explosive.ran = True
        return "boom"


def test_verify_photomaker_never_unpickles_arbitrary_objects(tmp_path, photomaker_state):
    path = tmp_path / "photomaker-v1.bin"
    torch.save({**photomaker_state, "payload": Explosive()}, path)
    Explosive.ran = False

    report = verify_path(path)
    assert not report.ok and "other than plain tensors" in report.errors[0]
    assert Explosive.ran is False


# --- folders: ControlNet, SDXL base, antelopev2 ----------------------------------------------------


def test_verify_tiny_controlnet_and_base_are_ok(tiny_models):
    controlnet = verify_path(tiny_models.controlnet)
    base = verify_path(tiny_models.base_model)
    assert controlnet.component == "controlnet" and controlnet.ok, controlnet.errors
    assert base.component == "base" and base.ok, base.errors


def test_verify_controlnet_with_wrong_config_and_weights(tmp_path, tiny_models, capsys):
    folder = shutil.copytree(tiny_models.controlnet, tmp_path / "controlnet")
    config = json.loads((folder / "config.json").read_text())
    config["conditioning_channels"] = 4
    (folder / "config.json").write_text(json.dumps(config))

    code, out, _ = run_cli(capsys, "verify", str(folder))
    assert code == 2 and "conditioning_channels is 4, expected 3" in out

    config["conditioning_channels"] = 3
    (folder / "config.json").write_text(json.dumps(config))
    (folder / "diffusion_pytorch_model.safetensors").unlink()
    write_sparse_safetensors(folder / "diffusion_pytorch_model.safetensors", {"conv_in.weight": (32, 4, 3, 3)})
    report = verify_path(folder)
    assert any("missing" in e and "controlnet_cond_embedding.conv_in.weight" in e for e in report.errors)


def test_verify_base_reports_missing_folder_and_wrong_cross_attention(tmp_path, tiny_models):
    base = shutil.copytree(tiny_models.base_model, tmp_path / "base")
    shutil.rmtree(base / "tokenizer_2")
    report = verify_path(base, "base")
    assert report.errors == ["base: missing folder(s): tokenizer_2"]

    shutil.copytree(tiny_models.base_model / "tokenizer_2", base / "tokenizer_2")
    unet_config = json.loads((base / "unet" / "config.json").read_text())
    unet_config["cross_attention_dim"] = 1024
    (base / "unet" / "config.json").write_text(json.dumps(unet_config))
    report = verify_path(base)
    assert any("cross_attention_dim is 1024, expected 2048" in e for e in report.errors)


def test_weights_variant_tells_the_engine_which_files_to_load(tmp_path, tiny_models):
    unet = shutil.copytree(tiny_models.base_model / "unet", tmp_path / "unet")
    assert weights_variant(unet) is None
    (unet / "diffusion_pytorch_model.safetensors").rename(unet / "diffusion_pytorch_model.fp16.safetensors")
    assert weights_variant(unet) == "fp16"


def test_verify_antelopev2(tmp_path, capsys):
    from tests.support.tiny_insightface import build_tiny_antelopev2

    pack = build_tiny_antelopev2(tmp_path / "antelopev2")
    report = verify_path(pack)
    assert report.component == "antelopev2" and report.ok, report.errors
    assert any("optional" in w for w in report.warnings)

    # A recogniser with the wrong input size (a detector file in its place).
    shutil.copy(pack / "scrfd_10g_bnkps.onnx", pack / "glintr100.onnx")
    code, out, _ = run_cli(capsys, "verify", str(pack))
    assert code == 2 and "glintr100: input shape" in out and "expected (N, 3, 112, 112)" in out


def test_verify_unknown_path_is_a_clean_error(tmp_path, capsys):
    (tmp_path / "notes.txt").write_text("hello")
    code, _, err = run_cli(capsys, "verify", str(tmp_path / "notes.txt"))
    assert code == 2 and "cannot tell which model component" in err and "Traceback" not in err
    code, _, err = run_cli(capsys, "verify", str(tmp_path / "absent"))
    assert code == 2 and "no such file or folder" in err


def test_sharded_variant_weights_as_diffusers_writes_them(tmp_path, tiny_models):
    from diffusers import ControlNetModel

    from faceme_core.models.install import files_to_install

    folder = tmp_path / "controlnet"
    ControlNetModel.from_pretrained(tiny_models.controlnet).save_pretrained(folder, variant="fp16", max_shard_size="1MB")
    shards = sorted(p.name for p in folder.glob("*.safetensors"))
    assert len(shards) > 1 and all(".fp16" in name for name in shards)

    report = verify_path(folder)
    assert report.ok, report.errors
    assert weights_variant(folder) == "fp16"
    installed = sorted(str(relative) for _, relative in files_to_install("controlnet", folder))
    assert installed == sorted(["config.json", "diffusion_pytorch_model.safetensors.index.fp16.json", *shards])

    next(folder.glob("*-00002-of-*.safetensors")).unlink()
    report = verify_path(folder)
    assert any("shard" in e and "00002" in e and "missing" in e for e in report.errors)


def test_vae_saved_with_legacy_attention_names_is_accepted(tmp_path, tiny_models):
    from safetensors.torch import load_file, save_file

    base = shutil.copytree(tiny_models.base_model, tmp_path / "base")
    weights = base / "vae" / "diffusion_pytorch_model.safetensors"
    legacy_names = {".to_q.": ".query.", ".to_k.": ".key.", ".to_v.": ".value.", ".to_out.0.": ".proj_attn."}
    tensors = {}
    for name, tensor in load_file(weights).items():
        for new, old in legacy_names.items():
            name = name.replace(new, old)
        tensors[name] = tensor
    assert any(".query." in name for name in tensors)
    save_file(tensors, weights)
    assert verify_path(base).ok

    del tensors[next(name for name in tensors if ".query." in name)]
    save_file(tensors, weights)
    assert any("base vae" in e and "to_q" in e for e in verify_path(base).errors)
