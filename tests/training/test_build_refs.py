import json

import numpy as np
import pytest

from faceme_core.faces.analyzer import FaceAnalyzer
from faceme_core.faces.insightface_backend import InsightFaceBackend
from faceme_core.models.layout import ANTELOPEV2_DIRNAME
from faceme_core.tasks import Cancelled, CancelToken
from tests.support.tiny_insightface import build_tiny_antelopev2, build_tiny_landmark_3d68
from tests.training.refpool_support import (
    ColourAttributes,
    ScriptedSynthesiser,
    blocky_image,
    fake_analyzer,
    make_gt,
)
from training.layout import DataLayout, read_pools
from training.refpool.attributes import Landmark3DExtractor, expression_descriptor, pose_from_landmarks
from training.refpool.builder import BuildConfig, ReferencePoolBuilder, render_path
from training.refpool.clustering import cluster_targets, kmeans
from training.imagefiles import write_png
from training.refpool.decisions import FAILED, KEPT, REJECTED, JsonLines

SMALL = dict(pose_clusters=2, expression_clusters=2)


def read_decisions(root):
    return JsonLines(root / "refpool" / "decisions.jsonl").read()


# --- clustering ---------------------------------------------------------------------------------------------

def blobs(seed=0):
    """3 pose blobs x 3 expression blobs, 6 faces each: the true (pose, expression) group of every point."""
    rng = np.random.default_rng(seed)
    poses, expressions, truth = [], [], []
    for p, pose_centre in enumerate([(0, -40, 0), (0, 0, 0), (10, 40, 5)]):
        for e, expression_centre in enumerate([(-1, 0), (0, 1), (1, 0)]):
            for _ in range(6):
                poses.append(np.array(pose_centre) + rng.normal(0, 2, 3))
                expressions.append(np.array(expression_centre) + rng.normal(0, 0.05, 2))
                truth.append((p, e))
    return np.array(poses), np.array(expressions), truth


def test_two_level_clustering_recovers_nine_pose_expression_groups():
    poses, expressions, truth = blobs()
    targets = cluster_targets(poses, expressions)
    assert sorted(t.name for t in targets) == sorted(f"p{p}e{e}" for p in range(3) for e in range(3))
    assert all(t.size == 6 for t in targets)
    # each target's exemplar comes from a distinct true group, and its centre is near that group's centre
    assert len({truth[t.exemplar] for t in targets}) == 9
    for t in targets:
        members = [i for i, g in enumerate(truth) if g == truth[t.exemplar]]
        assert np.allclose(t.pose, poses[members].mean(axis=0))
        assert np.allclose(t.expression, expressions[members].mean(axis=0), atol=1e-9)


def test_kmeans_is_reproducible_and_ordered():
    points = np.concatenate([np.random.default_rng(1).normal(c, 0.1, (10, 2)) for c in (5.0, -5.0, 0.0)])
    first, second = kmeans(points, 3, seed=7), kmeans(points, 3, seed=7)
    assert np.array_equal(first.labels, second.labels)
    assert list(first.centres[:, 0]) == sorted(first.centres[:, 0])  # numbered by first coordinate
    assert np.array_equal(first.labels, np.repeat([2, 0, 1], 10))
    with pytest.raises(ValueError):
        kmeans(points[:2], 3)


# --- attributes from the tiny 1k3d68 ---------------------------------------------------------------------

def test_pose_free_expression_ignores_head_rotation_scale_and_shift():
    from insightface.data import get_object

    mean = np.asarray(get_object("meanshape_68.pkl"), np.float64)
    face = mean.copy()
    face[48:68, 1] += 0.05 * np.sign(face[48:68, 1] - face[48:68, 1].mean())  # open the mouth
    angle = np.deg2rad(25)
    yaw = np.array([[np.cos(angle), 0, np.sin(angle)], [0, 1, 0], [-np.sin(angle), 0, np.cos(angle)]])
    moved = 80 * face @ yaw.T + np.array([200.0, 150.0, 10.0])
    pose, _, _, _ = pose_from_landmarks(moved, mean)
    assert abs(abs(pose[1]) - 25) < 2.0 and abs(pose[0]) < 2.0 and abs(pose[2]) < 2.0
    assert np.allclose(expression_descriptor(moved, mean), expression_descriptor(face, mean), atol=2e-3)
    assert np.abs(expression_descriptor(face, mean)).max() > 0.02  # the open mouth is seen
    assert np.abs(expression_descriptor(mean * 3 + 1, mean)).max() < 1e-6


def test_landmark_extractor_runs_the_tiny_1k3d68_through_insightface(tmp_path):
    pack = build_tiny_antelopev2(tmp_path / "pack")
    build_tiny_landmark_3d68(pack)
    analyzer, extractor = FaceAnalyzer(InsightFaceBackend(pack)), Landmark3DExtractor(pack)
    grey = np.full((256, 256, 3), 128, np.uint8)
    face = analyzer.analyze_rgb(grey).faces[0]
    points = extractor.landmarks(grey, face.detection)
    assert points.shape == (68, 3)
    # the tiny model's output on a flat grey crop is the mean shape, placed inside the face box
    x0, y0, x1, y1 = face.box
    assert x0 - 10 < points[:, 0].min() and points[:, 0].max() < x1 + 10
    grey_attributes = extractor(grey, face.detection)
    assert np.abs(grey_attributes.pose).max() < 1.0
    bright = extractor(np.full((256, 256, 3), 255, np.uint8), face.detection)
    assert np.abs(bright.pose - grey_attributes.pose).max() > 1.0  # different crops, different poses


# --- the builder ----------------------------------------------------------------------------------------

def test_build_keeps_the_first_render_above_threshold_and_writes_the_prepare_layout(tmp_path):
    names = make_gt(tmp_path, 6)
    synthesiser = ScriptedSynthesiser(good_from=2)
    builder = ReferencePoolBuilder(tmp_path, fake_analyzer(), ColourAttributes(), synthesiser,
                                   BuildConfig(threshold=0.9, **SMALL))
    summary = builder.build()
    assert (summary.identities, summary.targets, summary.kept, summary.exhausted) == (6, 4, 24, 0)
    assert summary.attempts == 48 == len(synthesiser.calls)
    decisions = read_decisions(tmp_path)
    assert [d["outcome"] for d in decisions[:2]] == [REJECTED, KEPT]
    assert all(d["similarity"] < 0.9 for d in decisions if d["outcome"] == REJECTED)
    assert all(d["similarity"] > 0.9 for d in decisions if d["outcome"] == KEPT)
    assert len({d["seed"] for d in decisions}) == len(decisions)  # every attempt its own seed
    pools = read_pools(DataLayout(tmp_path).pools)
    assert [p.gt for p in pools] == names
    for pool in pools:
        assert len(pool.references) == 4
        for reference in pool.references:
            assert (tmp_path / reference).is_file()
    assert pools[0].references[0] == render_path("gt/00000.png", "p0e0") == "refs/00000/p0e0.png"
    clusters = json.loads((tmp_path / "refpool" / "clusters.json").read_text())
    assert len(clusters["targets"]) == 4 and set(clusters["exemplars"].values()) <= set(names)


def test_three_attempts_then_the_target_is_given_up(tmp_path):
    make_gt(tmp_path, 4)
    synthesiser = ScriptedSynthesiser(good_from=99)
    summary = ReferencePoolBuilder(tmp_path, fake_analyzer(), ColourAttributes(), synthesiser,
                                   BuildConfig(threshold=0.9, pose_clusters=2, expression_clusters=1)).build()
    assert (summary.kept, summary.exhausted, summary.attempts) == (0, 8, 24)
    assert sorted({c[2] for c in synthesiser.calls}) == [1, 2, 3]
    assert all(p.references == () for p in read_pools(DataLayout(tmp_path).pools))
    assert not (tmp_path / "refs").exists()


def test_threshold_is_strict_similarity_equal_to_it_is_rejected(tmp_path):
    make_gt(tmp_path / "a", 4)
    config = dict(pose_clusters=2, expression_clusters=1, max_attempts=1)
    ReferencePoolBuilder(tmp_path / "a", fake_analyzer(), ColourAttributes(), ScriptedSynthesiser(good_from=99),
                         BuildConfig(threshold=-1.0, **config)).build()
    first = read_decisions(tmp_path / "a")[0]
    assert first["outcome"] == KEPT
    make_gt(tmp_path / "b", 4)
    ReferencePoolBuilder(tmp_path / "b", fake_analyzer(), ColourAttributes(), ScriptedSynthesiser(good_from=99),
                         BuildConfig(threshold=first["similarity"], **config)).build()
    again = read_decisions(tmp_path / "b")[0]
    assert (again["seed"], again["similarity"]) == (first["seed"], first["similarity"])
    assert again["outcome"] == REJECTED


def test_an_interrupted_build_resumes_where_it_stopped(tmp_path):
    make_gt(tmp_path / "whole", 5)
    whole = ScriptedSynthesiser(good_from=2)
    config = BuildConfig(threshold=0.9, **SMALL)
    full = ReferencePoolBuilder(tmp_path / "whole", fake_analyzer(), ColourAttributes(), whole, config).build()
    assert full.kept >= 10 and full.attempts == 2 * full.kept

    root = tmp_path / "resumed"
    make_gt(root, 5)
    cancel = CancelToken()
    interrupted = ScriptedSynthesiser(good_from=2, cancel=cancel, cancel_after=7)
    with pytest.raises(Cancelled):
        ReferencePoolBuilder(root, fake_analyzer(), ColourAttributes(), interrupted, config).build(cancel=cancel)
    assert len(read_decisions(root)) == 7 and not (root / "pools.jsonl").exists()
    # a crash mid-line leaves a torn line: it is dropped and redone
    with open(root / "refpool" / "decisions.jsonl", "a") as handle:
        handle.write('{"identity": "gt/0')
    rest = ScriptedSynthesiser(good_from=2)
    summary = ReferencePoolBuilder(root, fake_analyzer(), ColourAttributes(), rest, config).build()
    assert interrupted.calls + rest.calls == whole.calls  # no render twice, none missing, same seeds
    assert summary.kept == full.kept and summary.attempts == full.attempts - 7
    assert read_decisions(root) == read_decisions(tmp_path / "whole")
    assert (root / "pools.jsonl").read_text() == (tmp_path / "whole" / "pools.jsonl").read_text()
    # and a finished build has nothing left to do
    again = ScriptedSynthesiser(good_from=2)
    assert ReferencePoolBuilder(root, fake_analyzer(), ColourAttributes(), again, config).build().attempts == 0
    assert again.calls == []


def test_a_deleted_render_is_rendered_again_with_the_same_seed(tmp_path):
    make_gt(tmp_path, 4)
    config = BuildConfig(threshold=0.9, pose_clusters=2, expression_clusters=1)
    first = ScriptedSynthesiser(good_from=2)
    ReferencePoolBuilder(tmp_path, fake_analyzer(), ColourAttributes(), first, config).build()
    (tmp_path / "refs" / "00001" / "p1e0.png").unlink()
    again = ScriptedSynthesiser(good_from=2)
    summary = ReferencePoolBuilder(tmp_path, fake_analyzer(), ColourAttributes(), again, config).build()
    assert again.calls == [c for c in first.calls if c[:3] == ("gt/00001.png", "p1e0", 2)]
    assert summary.kept == 8 and (tmp_path / "refs" / "00001" / "p1e0.png").is_file()


def test_unreadable_ground_truth_is_listed_not_fatal(tmp_path):
    make_gt(tmp_path, 4)
    (tmp_path / "gt" / "broken.png").write_bytes(b"not a png")
    summary = ReferencePoolBuilder(tmp_path, fake_analyzer(), ColourAttributes(), ScriptedSynthesiser(),
                                   BuildConfig(threshold=0.9, pose_clusters=2, expression_clusters=1)).build()
    assert (summary.identities, summary.without_face, summary.kept) == (5, 1, 8)
    records = JsonLines(tmp_path / "refpool" / "attributes.jsonl").read()
    broken = next(r for r in records if r["identity"] == "gt/broken.png")
    assert broken["face"] is None and broken["reason"]
    assert next(p for p in read_pools(DataLayout(tmp_path).pools) if p.gt == "gt/broken.png").references == ()


def test_a_render_without_a_face_is_a_failed_attempt(tmp_path):
    make_gt(tmp_path, 4)

    class NoFaceOnFirstTry(FaceAnalyzer):
        def analyze_rgb(self, rgb):
            result = super().analyze_rgb(rgb)
            if rgb.shape[0] == 32:  # the synthesiser's faceless renders are 32 px
                return type(result)(size_wh=result.size_wh, faces=[], skipped=[], backend=result.backend)
            return result

    def synthesiser(request):
        return np.zeros((32, 32, 3), np.uint8) if request.attempt == 1 else request.source

    summary = ReferencePoolBuilder(tmp_path, NoFaceOnFirstTry(fake_analyzer().backend), ColourAttributes(),
                                   synthesiser, BuildConfig(threshold=0.9, pose_clusters=2,
                                                            expression_clusters=1)).build()
    decisions = read_decisions(tmp_path)
    assert decisions[0]["outcome"] == FAILED and decisions[0]["reason"] == "no face found in the render"
    assert summary.kept == 8


def test_too_few_faces_to_cluster_is_a_clear_error(tmp_path):
    from training.layout import TrainingDataError

    make_gt(tmp_path, 3)
    with pytest.raises(TrainingDataError, match="needs at least 4"):
        ReferencePoolBuilder(tmp_path, fake_analyzer(), ColourAttributes(), ScriptedSynthesiser(),
                             BuildConfig(**SMALL)).build()


def test_cli_builds_with_the_tiny_antelopev2_and_1k3d68(tmp_path, capsys):
    from training.build_refs import main

    pack = build_tiny_antelopev2(tmp_path / "models" / ANTELOPEV2_DIRNAME)
    build_tiny_landmark_3d68(pack, sensitivity=2.0)
    root = tmp_path / "data"
    for i in range(4):
        write_png(root / "gt" / f"{i}.png", blocky_image(i, 256))
    argv = ["--data-root", str(root), "--models-dir", str(tmp_path / "models"), "--threshold", "0.9",
            "--pose-clusters", "2", "--expression-clusters", "1",
            "--synthesiser", "tests.training.refpool_support:scripted_synthesiser_factory"]
    assert main(argv) == 0
    assert "8 renders kept, 0 targets out of attempts, 16 renders this run" in capsys.readouterr().out
    decisions = read_decisions(root)
    assert [d["outcome"] for d in decisions[:2]] == [REJECTED, KEPT]
    assert decisions[0]["similarity"] < 0.9 < decisions[1]["similarity"]  # the real (tiny) ArcFace decided
    assert decisions[1]["render_cluster"] in {"p0e0", "p1e0"} and len(decisions[1]["render_pose"]) == 3
    assert all(len(p.references) == 2 for p in read_pools(DataLayout(root).pools))
    assert main(argv) == 0  # resumed: nothing left to do
    assert "0 renders this run" in capsys.readouterr().out


def test_cli_reports_a_missing_pack_as_one_line(tmp_path, capsys):
    from training.build_refs import main

    # the data root first, before any model is looked for
    assert main(["--data-root", str(tmp_path / "data"), "--models-dir", str(tmp_path / "none")]) == 2
    assert "gt: not found" in capsys.readouterr().err
    (tmp_path / "data" / "gt").mkdir(parents=True)
    assert main(["--data-root", str(tmp_path / "data"), "--models-dir", str(tmp_path / "none")]) == 2
    assert "gt: no images" in capsys.readouterr().err
    write_png(tmp_path / "data" / "gt" / "a.png", np.zeros((8, 8, 3), np.uint8))
    assert main(["--data-root", str(tmp_path / "data"), "--models-dir", str(tmp_path / "none")]) == 2
    assert "antelopev2 pack is not installed" in capsys.readouterr().err


# --- Arc2Face's identity prompt, on a tiny CLIP text encoder ------------------------------------------------

class WordTokenizer:
    """Just enough of a CLIP tokenizer: words -> ids, start/end tokens, padding to 77."""

    model_max_length = 77
    vocabulary = {"<start>": 0, "<end>": 1, "photo": 2, "of": 3, "a": 4, "id": 5, "person": 6}

    def encode(self, text, add_special_tokens=True):
        ids = [self.vocabulary[w] for w in text.split()]
        return [0, *ids, 1] if add_special_tokens else ids

    def __call__(self, text, padding, max_length, truncation, return_tensors):
        import torch

        ids = self.encode(text)
        ids += [1] * (max_length - len(ids))
        return type("Encoded", (), {"input_ids": torch.tensor([ids])})()


def test_arc2face_prompt_puts_the_arcface_vector_in_place_of_the_id_token():
    import torch
    from transformers import CLIPTextConfig, CLIPTextModel

    from training.refpool.arc2face import identity_prompt_embeds

    torch.manual_seed(0)
    encoder = CLIPTextModel(CLIPTextConfig(vocab_size=8, hidden_size=768, intermediate_size=32, num_hidden_layers=1,
                                           num_attention_heads=2, max_position_embeddings=77, eos_token_id=1)).eval()
    tokenizer = WordTokenizer()
    first, second = np.zeros(512, np.float32), np.zeros(512, np.float32)
    first[0], second[1] = 3.0, 1.0  # normalised inside: (1, 0, ...) and (0, 1, ...)
    a = identity_prompt_embeds(encoder, tokenizer, first)
    b = identity_prompt_embeds(encoder, tokenizer, np.stack([first, second]))
    assert a.shape == (1, 77, 768) and b.shape == (2, 77, 768)
    assert torch.allclose(a[0], b[0], atol=1e-5)
    # causal attention: tokens before "id" (start, photo, of, a) do not depend on it, "id" and after do
    assert torch.allclose(b[0, :4], b[1, :4], atol=1e-6)
    assert not torch.allclose(b[0, 4], b[1, 4], atol=1e-3) and not torch.allclose(b[0, 6], b[1, 6], atol=1e-3)
    layer = encoder.get_input_embeddings()
    plain = encoder(input_ids=torch.tensor([tokenizer.encode("photo of a id person") + [1] * 70]))[0]
    assert not torch.allclose(plain[0, 4], a[0, 4], atol=1e-3)  # and without the hook the result differs
    assert len(layer._forward_hooks) == 0  # the swap hook is removed afterwards


# --- the pool feeds training.prepare ------------------------------------------------------------------------

@pytest.mark.slow
def test_the_built_pool_is_what_prepare_reads(tiny_models, tmp_path):
    from training.imagefiles import write_png
    from training.layout import read_manifest
    from training.prepare import load_feature_models, prepare

    landmark_pack = tmp_path / "landmarks"  # not in the shared tiny_models folder: other tests read it
    build_tiny_landmark_3d68(landmark_pack, sensitivity=2.0)
    analyzer, encoder = load_feature_models(tiny_models)
    for i in range(4):
        write_png(tmp_path / "gt" / f"{i}.png", blocky_image(i, 256))
    ReferencePoolBuilder(tmp_path, analyzer, Landmark3DExtractor(landmark_pack),
                         ScriptedSynthesiser(good_from=1),
                         BuildConfig(threshold=0.9, pose_clusters=2, expression_clusters=1)).build()
    layout = DataLayout(tmp_path)
    result = prepare(layout, analyzer, encoder)
    assert result.samples == 4 and result.no_face == () and result.computed == 4 + 8
    entries = read_manifest(layout)
    assert [len(e.pool) for e in entries] == [3, 3, 3, 3]  # own features first, then both renders
    assert entries[0].pool[0] == layout.features_relative("gt/0.png")
    assert entries[0].pool[1] == layout.features_relative("refs/0/p0e0.png")


def test_arc2face_that_cannot_be_loaded_is_one_clear_error_and_the_device_follows_the_machine(monkeypatch):
    import torch

    from faceme_core.errors import ModelMissingError
    from training.build_refs import load_synthesiser, parse_args
    from training.refpool.arc2face import Arc2FaceSynthesiser

    calls = []

    def offline(**kwargs):
        calls.append(kwargs)
        raise OSError("We couldn't connect to 'https://huggingface.co' to load the files.\nmore")

    monkeypatch.setattr(Arc2FaceSynthesiser, "load", offline)
    with pytest.raises(ModelMissingError, match="Arc2Face .* could not be loaded: We couldn't connect"):
        load_synthesiser(parse_args(["--data-root", "x"]))
    expected = ("cuda", "float16") if torch.cuda.is_available() else ("cpu", "float32")
    assert (calls[0]["device"], calls[0]["dtype"]) == expected


def test_a_synthesiser_that_cannot_be_imported_is_named():
    from faceme_core.errors import FaceMeError
    from training.build_refs import load_synthesiser, parse_args

    with pytest.raises(FaceMeError, match="no_such_module:make.*cannot import"):
        load_synthesiser(parse_args(["--data-root", "x", "--synthesiser", "no_such_module:make"]))
