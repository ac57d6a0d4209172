"""`faceme models download`: the Hub and insightface plumbing, with their network functions replaced."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import huggingface_hub
import pytest
from huggingface_hub import constants

from faceme_core.cli.main import main
from faceme_core.errors import FaceMeError
from faceme_core.models.layout import default_layout
from faceme_core.models.manifest import base_weight_files
from faceme_core.models.store import component_status, resolve_model_paths
from faceme_core.paths import models_dir
from tests.models.helpers import copy_tree, fake_hf_snapshot

REALVIS_FILES = [
    ".gitattributes",
    "README.md",
    "RealVisXL_V3.0.safetensors",  # the single-file checkpoint: never wanted
    "model_index.json",
    "scheduler/scheduler_config.json",
    "text_encoder/config.json",
    "text_encoder/model.fp16.safetensors",
    "text_encoder/model.safetensors",
    "text_encoder_2/config.json",
    "text_encoder_2/model.fp16.safetensors",
    "text_encoder_2/model.safetensors",
    "tokenizer/merges.txt",
    "tokenizer/special_tokens_map.json",
    "tokenizer/tokenizer_config.json",
    "tokenizer/vocab.json",
    "tokenizer_2/merges.txt",
    "tokenizer_2/vocab.json",
    "unet/config.json",
    "unet/diffusion_pytorch_model.fp16.safetensors",
    "unet/diffusion_pytorch_model.safetensors",
    "vae/config.json",
    "vae/diffusion_pytorch_model.fp16.safetensors",
    "vae/diffusion_pytorch_model.safetensors",
    "vae/diffusion_pytorch_model.bin",
]


def run_cli(capsys, *argv):
    code = main(["models", *argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def online(monkeypatch):
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("TRANSFORMERS_OFFLINE", raising=False)
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)


@pytest.fixture
def fake_hub(monkeypatch, hf_cache, tiny_models):
    """Replaces the Hub's network functions: records each call and fills the cache from the tiny build."""
    calls: list[tuple[str, str, dict]] = []
    content = {
        "SG161222/RealVisXL_V3.0": lambda snap: copy_tree(tiny_models.base_model, snap),
        "thomas2modyu/FaceMe": lambda snap: (
            copy_tree(tiny_models.controlnet, snap / "weights" / "controlnet"),
            copy_tree(tiny_models.mix.parent, snap / "weights" / "mix"),
        ),
    }

    def list_repo_files(self, repo_id, revision=None, **kwargs):
        calls.append(("list_repo_files", repo_id, {"revision": revision}))
        return list(REALVIS_FILES)

    def snapshot_download(repo_id, *, revision=None, allow_patterns=None, cache_dir=None, **kwargs):
        calls.append(("snapshot_download", repo_id, {"revision": revision, "allow_patterns": allow_patterns}))
        snapshot = fake_hf_snapshot(Path(cache_dir), repo_id)
        content[repo_id](snapshot)
        return str(snapshot)

    def hf_hub_download(repo_id, filename, *, revision=None, cache_dir=None, **kwargs):
        calls.append(("hf_hub_download", repo_id, {"revision": revision, "filename": filename}))
        target = fake_hf_snapshot(Path(cache_dir), repo_id) / filename
        shutil.copy(tiny_models.photomaker, target)
        return str(target)

    monkeypatch.setattr(huggingface_hub.HfApi, "list_repo_files", list_repo_files)
    monkeypatch.setattr(huggingface_hub, "snapshot_download", snapshot_download)
    monkeypatch.setattr(huggingface_hub, "hf_hub_download", hf_hub_download)
    return calls


def test_base_weight_files_prefers_fp16_and_skips_the_single_file_checkpoint():
    files = base_weight_files(REALVIS_FILES)
    assert "RealVisXL_V3.0.safetensors" not in files and "README.md" not in files
    assert "unet/diffusion_pytorch_model.fp16.safetensors" in files
    assert not any(f.endswith(".bin") or f in ("unet/diffusion_pytorch_model.safetensors",) for f in files)
    assert {"model_index.json", "unet/config.json", "tokenizer/vocab.json", "scheduler/scheduler_config.json"} <= set(files)

    full_only = [f for f in REALVIS_FILES if ".fp16." not in f]
    assert "unet/diffusion_pytorch_model.safetensors" in base_weight_files(full_only)
    with pytest.raises(FaceMeError, match="no safetensors weights in vae/"):
        base_weight_files([f for f in REALVIS_FILES if not f.startswith("vae/diffusion")])


def test_download_hub_components(online, fake_hub, capsys):
    code, out, _ = run_cli(capsys, "download", "base", "faceme", "photomaker", "--json")
    results = {r["name"]: r for r in json.loads(out)}
    assert code == 0
    assert {n: r["outcome"] for n, r in results.items()} == {
        "base": "downloaded", "controlnet": "downloaded", "mix": "downloaded", "photomaker": "downloaded"
    }
    by_call = {(name, repo): kwargs for name, repo, kwargs in fake_hub}
    assert by_call[("list_repo_files", "SG161222/RealVisXL_V3.0")] == {"revision": "main"}
    base = by_call[("snapshot_download", "SG161222/RealVisXL_V3.0")]
    assert base["revision"] == "main" and base["allow_patterns"] == base_weight_files(REALVIS_FILES)
    faceme = by_call[("snapshot_download", "thomas2modyu/FaceMe")]
    assert faceme["revision"] == "main"
    assert set(faceme["allow_patterns"]) >= {"*.json", "*.safetensors"} and "*.bin" not in faceme["allow_patterns"]
    assert by_call[("hf_hub_download", "TencentARC/PhotoMaker")] == {"revision": "main", "filename": "photomaker-v1.bin"}
    assert len(fake_hub) == 4  # one download per repository: controlnet and mix share theirs

    # Discovered inside the FaceMe snapshot, and found there again by the store.
    assert results["mix"]["path"].endswith("weights/mix/mix.safetensors")
    paths = resolve_model_paths(need_antelopev2=False)
    assert str(paths.controlnet) == results["controlnet"]["path"]
    assert component_status("base").source == "hf-cache"

    code, out, _ = run_cli(capsys, "download", "photomaker")  # nothing to do the second time
    assert code == 0 and "already installed" in out and len(fake_hub) == 4


def test_download_reports_what_the_faceme_repo_lacks(online, fake_hub, monkeypatch, capsys, tiny_models):
    def controlnet_only(repo_id, *, revision=None, allow_patterns=None, cache_dir=None, **kwargs):
        snapshot = fake_hf_snapshot(Path(cache_dir), repo_id)
        copy_tree(tiny_models.controlnet, snapshot / "controlnet")
        return str(snapshot)

    monkeypatch.setattr(huggingface_hub, "snapshot_download", controlnet_only)
    code, _, err = run_cli(capsys, "download", "mix")
    assert code == 2
    assert "did not find a mix.safetensors" in err
    assert "controlnet/config.json" in err and "faceme models import DIR" in err


def test_offline_download_fails_cleanly_without_touching_the_network(fake_hub, capsys):
    # HF_HUB_OFFLINE=1 comes from the suite's autouse fixture.
    code, out, err = run_cli(capsys, "download", "photomaker")
    assert code == 2 and out == ""
    (line,) = err.strip().splitlines()
    assert "HF_HUB_OFFLINE" in line and "huggingface.co" in line and "faceme models import DIR" in line
    assert fake_hub == []


def test_unreachable_hub_is_a_clean_error(online, monkeypatch, capsys):
    import httpx2

    def no_network(*args, **kwargs):
        raise httpx2.ConnectError("[Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(huggingface_hub, "hf_hub_download", no_network)
    code, _, err = run_cli(capsys, "download", "photomaker")
    assert code == 2 and "Traceback" not in err
    assert "TencentARC/PhotoMaker" in err and "name resolution" in err and "faceme models import DIR" in err


def test_download_antelopev2_with_insightface_downloader(online, monkeypatch, capsys):
    from insightface.utils import storage

    from tests.support.tiny_insightface import build_tiny_antelopev2

    calls = []

    def download(sub_dir, name, force=False, root="~/.insightface"):
        calls.append((sub_dir, name, force))
        print("download_path:", root)  # as insightface does, on stdout
        # The real zip nests a second antelopev2/ folder inside the extracted one.
        return str(build_tiny_antelopev2(Path(root) / sub_dir / name / name))

    monkeypatch.setattr(storage, "download", download)
    code, out, _ = run_cli(capsys, "download", "antelopev2", "--json")
    assert code == 0 and calls == [("models", "antelopev2", True)]
    assert json.loads(out)[0]["outcome"] == "downloaded"  # insightface's prints kept off stdout
    pack = default_layout(models_dir()).antelopev2
    assert sorted(p.name for p in pack.iterdir()) == ["glintr100.onnx", "scrfd_10g_bnkps.onnx"]
    assert component_status("antelopev2").state == "installed"
    assert [p.name for p in pack.parent.parent.iterdir()] == ["models"]  # scratch folder removed


def test_unknown_component_is_a_clean_error(capsys):
    code, _, err = run_cli(capsys, "download", "vae")
    assert code == 2 and "unknown model component 'vae'" in err and "photomaker" in err
