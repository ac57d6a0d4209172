"""Status, import and resolve_model_paths: what the engine gets, and what users are told."""

from __future__ import annotations

import json
import os
import shutil

import pytest

from faceme_core.cli.error_text import describe
from faceme_core.cli.main import main
from faceme_core.errors import ModelFormatError, ModelMissingError
from faceme_core.models.layout import default_layout
from faceme_core.models.store import resolve_model_paths
from faceme_core.paths import models_dir
from tests.models.helpers import copy_tree, fake_hf_snapshot, mix_shapes, write_sparse_safetensors

NAMES = ["base", "controlnet", "mix", "photomaker", "antelopev2"]


def run_cli(capsys, *argv):
    code = main(["models", *argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def copied_models(tmp_path, tiny_models):
    """A folder of tiny components as a user might have copied them: another layout than ours."""
    from tests.support.tiny_insightface import build_tiny_antelopev2

    source = tmp_path / "usb-stick"
    copy_tree(tiny_models.base_model, source / "RealVisXL_V3.0")
    copy_tree(tiny_models.controlnet, source / "FaceMe" / "weights" / "controlnet")
    copy_tree(tiny_models.mix.parent, source / "FaceMe" / "weights" / "mix")
    shutil.copy(tiny_models.photomaker, source / "photomaker-v1.bin")
    build_tiny_antelopev2(source / "insightface" / "antelopev2")
    (source / "readme.txt").write_text("weights from the lab machine")
    return source


def test_status_on_empty_model_folder(capsys):
    code, out, _ = run_cli(capsys, "status", "--json")
    status = json.loads(out)
    assert code == 0
    assert status["models_dir"] == str(models_dir())
    assert status["ready"] is False
    assert [c["name"] for c in status["components"]] == NAMES
    for c in status["components"]:
        assert c["state"] == "missing" and c["path"] is None and c["size_bytes"] is None
        assert set(c) == {"name", "title", "repo_id", "revision", "approx_bytes", "licence", "state", "path", "source",
                          "size_bytes", "errors", "warnings"}
        assert c["approx_bytes"] > 0


def test_resolve_without_models_names_each_missing_component_and_both_remedies():
    with pytest.raises(ModelMissingError) as caught:
        resolve_model_paths()
    message = str(caught.value)
    for name in NAMES:
        assert name in message
        assert any(detail.startswith(f"{name}: not installed") for detail in caught.value.details)
    assert caught.value.action == "download_models" and "import" in caught.value.hint
    cli_text = describe(caught.value)  # one component a line, then both commands
    assert "faceme models download" in cli_text and "faceme models import DIR" in cli_text
    assert cli_text.count("\n  - ") == len(NAMES) and max(map(len, cli_text.splitlines()[1:])) < 200


def test_resolve_names_only_what_is_missing(tiny_models):
    copy_tree(tiny_models.base_model.parent, models_dir())
    with pytest.raises(ModelMissingError) as caught:
        resolve_model_paths()  # everything but antelopev2 is there
    message = str(caught.value)
    assert "antelopev2" in message
    assert "base (" not in message and "photomaker (" not in message
    paths = resolve_model_paths(need_antelopev2=False)
    layout = default_layout(models_dir())
    assert (paths.base_model, paths.controlnet, paths.mix, paths.photomaker, paths.antelopev2) == (
        layout.base_model, layout.controlnet, layout.mix, layout.photomaker, None
    )


def test_import_then_status_installed_and_resolve(copied_models, capsys):
    code, out, _ = run_cli(capsys, "import", str(copied_models), "--json")
    results = {r["name"]: r for r in json.loads(out)}
    assert code == 0
    assert {n: r["outcome"] for n, r in results.items()} == {n: "imported" for n in NAMES}
    assert results["mix"]["source"] == str(copied_models / "FaceMe" / "weights" / "mix" / "mix.safetensors")

    layout = default_layout(models_dir())
    assert resolve_model_paths() == layout
    assert (layout.base_model / "unet" / "diffusion_pytorch_model.safetensors").is_file()
    # Same file system: hard links, not copies of gigabytes.
    assert os.stat(layout.mix).st_ino == os.stat(copied_models / "FaceMe" / "weights" / "mix" / "mix.safetensors").st_ino
    assert not (layout.base_model / "readme.txt").exists()
    assert not any(p.name.startswith(".") for p in layout.base_model.parent.iterdir())  # no staging left

    code, out, _ = run_cli(capsys, "status", "--json")
    status = json.loads(out)
    assert status["ready"] is True
    for c in status["components"]:
        assert c["state"] == "installed" and c["source"] == "imported" and c["size_bytes"] > 0

    code, out, _ = run_cli(capsys, "import", str(models_dir()))  # importing the store itself is a no-op
    assert code == 0 and out.count("already installed") == 5


def test_import_skips_invalid_components_and_reports_them(tmp_path, tiny_models, capsys):
    source = tmp_path / "copied"
    shapes = mix_shapes()
    shapes["norm1.bias"] = (1024,)
    write_sparse_safetensors(source / "mix.safetensors", shapes)
    shutil.copy(tiny_models.photomaker, source / "photomaker-v1.bin")

    code, out, _ = run_cli(capsys, "import", str(source))
    assert code == 2
    assert "photomaker  imported" in out
    assert "mix         invalid" in out and "norm1.bias has shape (1024), expected (2048)" in out
    assert "base        not found" in out
    assert not default_layout(models_dir()).mix.exists()
    assert default_layout(models_dir()).photomaker.is_file()


def test_import_of_an_empty_folder_fails_cleanly(tmp_path, capsys):
    code, out, _ = run_cli(capsys, "import", str(tmp_path))
    assert code == 2 and out.count("not found") == 5
    code, _, err = run_cli(capsys, "import", str(tmp_path / "nowhere"))
    assert code == 2 and "not a folder" in err


def test_import_replaces_a_previous_version(copied_models, tmp_path):
    from faceme_core.models.install import import_models

    target = default_layout(models_dir()).controlnet
    target.mkdir(parents=True)
    (target / "stale.txt").write_text("old")
    results = {r.name: r.outcome for r in import_models(copied_models)}
    assert results["controlnet"] == "imported"
    assert sorted(p.name for p in target.iterdir()) == ["config.json", "diffusion_pytorch_model.safetensors"]


def test_components_already_in_the_hf_cache_are_found(hf_cache, tiny_models, capsys):
    base = copy_tree(tiny_models.base_model, fake_hf_snapshot(hf_cache, "SG161222/RealVisXL_V3.0"))
    faceme = fake_hf_snapshot(hf_cache, "thomas2modyu/FaceMe")
    copy_tree(tiny_models.controlnet, faceme / "weights" / "controlnet")
    copy_tree(tiny_models.mix.parent, faceme / "weights" / "mix")
    photomaker = fake_hf_snapshot(hf_cache, "TencentARC/PhotoMaker") / "photomaker-v1.bin"
    shutil.copy(tiny_models.photomaker, photomaker)

    paths = resolve_model_paths(need_antelopev2=False)
    assert paths.base_model == base
    assert paths.controlnet == faceme / "weights" / "controlnet"
    assert paths.mix == faceme / "weights" / "mix" / "mix.safetensors"
    assert paths.photomaker == photomaker

    code, out, _ = run_cli(capsys, "path", "--json")
    assert json.loads(out)["components"]["base"] == str(base)


def test_resolve_reports_an_invalid_component(tiny_models):
    copy_tree(tiny_models.base_model.parent, models_dir())
    from tests.support.tiny_insightface import build_tiny_antelopev2

    build_tiny_antelopev2(default_layout(models_dir()).antelopev2)
    (default_layout(models_dir()).photomaker).write_bytes(b"not a zip")
    with pytest.raises(ModelFormatError) as caught:
        resolve_model_paths()
    assert [detail.split(":")[0] for detail in caught.value.details] == ["photomaker"]
    assert "faceme models verify" in describe(caught.value)
