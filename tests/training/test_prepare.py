"""training.prepare: features computed as inference computes them, a validated manifest, resumable."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from faceme_core.engine.identity import clip_pixels, load_clip_id_encoder
from faceme_core.faces.analyzer import create_analyzer
from faceme_core.errors import FaceMeError
from faceme_core.imageio import load_photo
from tests.conftest import FACES_DIR
from tests.training.conftest import write_raw_dataset
from training.features import load_features
from training.layout import TrainingDataError, read_manifest
from training.prepare import load_feature_models, main, prepare, training_face


def test_features_equal_what_the_engine_computes_for_the_largest_face(prepared_data, tiny_models):
    layout = prepared_data
    analyzer = create_analyzer("insightface", tiny_models)
    encoder = load_clip_id_encoder(tiny_models / "photomaker" / "photomaker-v1.bin")
    for name in ("gt/Hepburn01.png", "refs/hepburn_portrait.jpg"):
        # FaceMe's identity input: the reference's colour order, detector at 512, its largest face
        rgb = load_photo(layout.image(name)).rgb8()
        identity = analyzer.backend.faceme_identity(rgb, largest=True)
        with torch.inference_mode():
            clip = encoder(clip_pixels(rgb, identity.box)[None])[0]
        stored = load_features(layout.features(layout.features_relative(name)))
        np.testing.assert_allclose(stored.arcface.numpy(), identity.arcface, rtol=0, atol=1e-6)
        torch.testing.assert_close(stored.clip, clip, rtol=1e-5, atol=1e-5)


def test_the_arcface_input_is_in_the_reference_colour_order_not_the_documented_one(tiny_models, tmp_path):
    from faceme_core.faces.types import Detection
    from training.imagefiles import write_png

    # Tinted: the test portraits are black and white, and grey looks the same in either channel order.
    tinted = (load_photo(FACES_DIR / "Hepburn01.png").rgb8() * np.array([1.0, 0.7, 0.35])).astype(np.uint8)
    write_png(tmp_path / "tinted.png", tinted)
    analyzer = create_analyzer("insightface", tiny_models)
    face = training_face(tmp_path / "tinted.png", analyzer)
    identity = analyzer.backend.faceme_identity(tinted, largest=True)
    np.testing.assert_array_equal(face.arcface, identity.arcface)
    documented = analyzer.backend.embed(tinted, Detection(identity.box, identity.points, 1.0)).vector
    assert float(face.arcface @ documented) < 0.99  # the app's matching embedding is not what Mix learnt from


def test_the_largest_face_is_taken_from_the_512_detector_alone(tiny_models, tmp_path, monkeypatch):
    from faceme_core.faces.types import Detection
    from tests.support.tiny_insightface import default_points

    def detection(box, score):
        return Detection(box=box, points=default_points(box), score=score)

    analyzer = create_analyzer("insightface", tiny_models)
    backend = analyzer.backend
    small_sure, large_unsure = detection((10.0, 10.0, 60.0, 70.0), 0.99), detection((100.0, 80.0, 300.0, 330.0), 0.6)
    sizes = []
    monkeypatch.setattr(backend, "_detect", lambda image, size: sizes.append(size) or [small_sure, large_unsure])
    monkeypatch.setattr(backend, "detect", lambda rgb: pytest.fail("the app's 640 detector is not the reference's"))
    face = training_face(FACES_DIR / "Hepburn01.png", analyzer)
    assert face.box == large_unsure.box and sizes == [(512, 512)]
    # the largest face too small to restore: listed as no face, not trained on
    tiny = detection((10.0, 10.0, 30.0, 34.0), 0.99)  # eyes about 6 px apart
    monkeypatch.setattr(backend, "_detect", lambda image, size: [tiny])
    with pytest.raises(FaceMeError, match="no face large enough"):
        training_face(FACES_DIR / "Hepburn01.png", analyzer)


def test_manifest_lists_own_features_first_and_faceless_images_apart(prepared_data):
    layout = prepared_data
    entries = {e.gt: e for e in read_manifest(layout)}
    assert sorted(entries) == ["gt/Einstein01.png", "gt/Einstein02.png", "gt/Hepburn01.png", "gt/Hepburn02.png"]
    hepburn = entries["gt/Hepburn01.png"]
    assert hepburn.pool == ("features/gt/Hepburn01.png.safetensors", "features/refs/Hepburn02.png.safetensors",
                            "features/refs/hepburn_portrait.jpg.safetensors")
    no_face = layout.no_face.read_text()
    assert "refs/tiny.png" in no_face and "no face" in no_face
    assert all("tiny" not in p for e in entries.values() for p in e.pool)


def test_a_second_run_reuses_everything_and_recomputes_a_damaged_file(prepared_data, tiny_models, tmp_path):
    import shutil

    layout_root = tmp_path / "copy"
    shutil.copytree(prepared_data.root, layout_root)
    from training.layout import DataLayout

    layout = DataLayout(layout_root)
    damaged = layout.features(layout.features_relative("refs/Einstein02.png"))
    damaged.write_bytes(b"half a file")
    before = layout.manifest.read_text()
    analyzer, encoder = load_feature_models(tiny_models)
    events = []
    result = prepare(layout, analyzer, encoder, progress=events.append)
    assert result.computed == 1 and result.reused == 8 and result.samples == 4
    assert [e.done for e in events] == [1] and events[-1].total == 1
    assert [n.image for n in result.no_face] == ["refs/tiny.png"]
    assert load_features(damaged).clip.shape == (2048,)
    assert layout.manifest.read_text() == before


def test_command_line_reports_and_a_bad_pools_file_is_one_clear_error(tiny_models, tmp_path, capsys):
    layout = write_raw_dataset(tmp_path / "data")
    # --models-dir, as build_refs and evaluate name it (--models still works)
    assert main([str(layout.root), "--models-dir", str(tiny_models), "--device", "cpu"]) == 0
    err = capsys.readouterr().err
    assert "4 training samples; 9 feature files computed, 0 reused, 1 images without a face" in err
    layout.pools.write_text('{"gt": "../x.png", "references": []}\n')
    assert main([str(layout.root), "--models", str(tiny_models)]) == 2
    err = capsys.readouterr().err
    assert "pools.jsonl:1" in err and err.count("\n") == 1
    # an image pools.jsonl names but that is not there: a wrong path, named, nothing computed
    layout.pools.write_text('{"gt": "gt/Hepburn01.png", "references": ["refs/nope.png"]}\n')
    assert main([str(layout.root), "--models", str(tiny_models)]) == 2
    assert "not found under" in (err := capsys.readouterr().err) and "refs/nope.png" in err
    # no ground truth with a usable face: nothing to train on, said so
    layout.pools.write_text('{"gt": "refs/tiny.png", "references": []}\n')
    assert main([str(layout.root), "--models", str(tiny_models)]) == 2
    assert "0 training samples" in (err := capsys.readouterr().err) and "nothing to train on" in err
    # a wrong data root is named before any model is looked for (here: a model folder that does not exist)
    assert main([str(tmp_path / "nowhere"), "--models", str(tmp_path / "no-models")]) == 2
    assert "nowhere: no such data folder" in capsys.readouterr().err
    layout.pools.unlink()
    assert main([str(layout.root), "--models", str(tmp_path / "no-models")]) == 2
    assert "pools.jsonl: not found" in capsys.readouterr().err


def test_a_corrupt_feature_file_is_refused_by_name(tmp_path):
    path = tmp_path / "x.safetensors"
    path.write_bytes(b"junk")
    with pytest.raises(TrainingDataError, match="x.safetensors"):
        load_features(path)


def test_a_cancelled_preparation_keeps_its_work_and_a_rerun_finishes_it(tiny_models, tmp_path):
    from faceme_core.tasks import Cancelled, CancelToken

    layout = write_raw_dataset(tmp_path / "data")
    analyzer, encoder = load_feature_models(tiny_models)
    token = CancelToken()
    with pytest.raises(Cancelled):
        prepare(layout, analyzer, encoder, progress=lambda event: token.cancel(), cancel=token)
    assert not layout.manifest.exists()  # written only when every image is done
    first_batch = len(list(layout.prepared.glob("features/**/*.safetensors")))
    assert 0 < first_batch < 9
    result = prepare(layout, analyzer, encoder)
    assert result.reused == first_batch and result.computed == 9 - first_batch and result.samples == 4
