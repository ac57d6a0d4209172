"""The training samples: identity-drop rate, 1..4 references from a pool that never grows, determinism."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
import torch

from training.data import EpochSampler, FaceMeDataset, sample_choices


def test_identity_drop_rate_is_honoured_per_sample():
    for probability in (0.5, 0.2, 0.0, 1.0):
        drops = [sample_choices(0, epoch, index, 5, 1, 4, probability).drop_identity
                 for epoch in range(5) for index in range(1000)]
        rate = sum(drops) / len(drops)
        assert abs(rate - probability) < 0.02, (probability, rate)
    # decided per sample, not per batch: neighbours differ
    flags = [sample_choices(0, 0, index, 5, 1, 4, 0.5).drop_identity for index in range(8)]
    assert len(set(flags)) == 2


def test_reference_counts_are_uniform_over_one_to_four_and_distinct_when_the_pool_allows():
    counts = Counter()
    for index in range(4000):
        choices = sample_choices(1, 0, index, 6, 1, 4, 0.0)
        counts[len(choices.reference_indices)] += 1
        assert len(set(choices.reference_indices)) == len(choices.reference_indices)
        assert all(0 <= i < 6 for i in choices.reference_indices)
    assert sorted(counts) == [1, 2, 3, 4]
    assert all(900 < n < 1100 for n in counts.values()), counts
    small_pool = sample_choices(1, 0, 3, 1, 4, 4, 0.0)
    assert small_pool.reference_indices == (0, 0, 0, 0)  # the own embedding repeated: nothing else to draw


def test_items_are_deterministic_and_the_pool_never_grows(prepared_data):
    dataset = FaceMeDataset(prepared_data, 64, seed=0, drop_probability=0.5)
    pools = [entry.pool for entry in dataset.entries]
    first = dataset[(0, 1)]
    for epoch in range(3):
        for index in range(len(dataset)):
            dataset[(epoch, index)]
    assert [entry.pool for entry in dataset.entries] == pools  # the reference code appended on every access
    again = dataset[(0, 1)]
    for key in first:
        assert torch.equal(first[key], again[key]), key
    assert not torch.equal(first["control"], dataset[(1, 1)]["control"])  # a new epoch degrades anew
    assert first["pixels"].shape == (3, 64, 64) and first["clip"].shape == (4, 2048)
    count = int(first["reference_count"])
    assert 1 <= count <= 4 and torch.all(first["clip"][count:] == 0)
    assert first["pixels"].min() >= -1 and first["pixels"].max() <= 1


def test_the_ground_truths_own_features_are_in_every_pool(prepared_data):
    dataset = FaceMeDataset(prepared_data, 64, seed=0)
    for entry in dataset.entries:
        assert entry.pool[0] == prepared_data.features_relative(entry.gt)
    drawn = Counter(i for index in range(len(dataset)) for epoch in range(50)
                    for i in dataset.choices(epoch, index).reference_indices)
    assert drawn[0] > 0


def test_epoch_sampler_shuffles_per_epoch_identically_everywhere():
    a, b = EpochSampler(10, seed=3), EpochSampler(10, seed=3)
    assert list(a) == list(b)
    first = [i for _, i in a]
    a.set_epoch(1)
    assert sorted(i for _, i in a) == list(range(10)) and [i for _, i in a] != first
    assert all(epoch == 1 for epoch, _ in a)


def test_stage_two_module_uses_c_text_exactly_for_dropped_samples(tiny_models, prepared_data, tmp_path):
    from accelerate import Accelerator

    from tests.training.helpers import tiny_config
    from training.train import build_model

    config = tiny_config(tiny_models, prepared_data.root, tmp_path / "run")
    model, _ = build_model(config, Accelerator(cpu=True), torch.float32)
    dataset = FaceMeDataset(prepared_data, 64, seed=0)
    batch = torch.utils.data.default_collate([dataset[(0, 0)], dataset[(0, 1)]])
    states = model.encoder_states(batch["clip"], batch["arcface"], batch["reference_count"],
                                  torch.tensor([True, False]))
    assert torch.equal(states[0], model.c_text)
    assert not torch.equal(states[1], model.c_text)
    face = model.face_index
    count = int(batch["reference_count"][1])
    # c_id keeps the prompt before "face", then the identity rows, then the rest of the prompt
    assert torch.equal(states[1][:face], model.c_text[:face])
    assert torch.equal(states[1][face + count:], model.c_text[face + 1:77 - count + 1])


@pytest.mark.parametrize("key, value, message", [
    ("stage", 3, "stage"), ("identity_drop_probability", 0.5, "Stage II"), ("max_references", 0, "min_references"),
    ("resolution", 60, "multiple of 8"), ("mixed_precision", "fp8", "mixed_precision"),
    ("mix_config", {"width": 3}, "unknown key"), ("max_train_steps", 1.5, "whole number"),
    ("seed", "zero", "seed='zero'"),
])
def test_bad_settings_are_named(tiny_models, tmp_path, key, value, message):
    from tests.training.helpers import tiny_config_dict
    from training.config import ConfigError, config_from_dict

    with pytest.raises(ConfigError, match=message):
        config_from_dict(tiny_config_dict(tiny_models, tmp_path, tmp_path / "out", **{key: value}))


def test_stage_two_needs_a_mix_and_unknown_settings_are_refused(tiny_models, tmp_path):
    from tests.training.helpers import tiny_config_dict
    from training.config import ConfigError, config_from_dict, load_config

    with pytest.raises(ConfigError, match="mix_path"):
        config_from_dict(tiny_config_dict(tiny_models, tmp_path, tmp_path / "out", stage=2))
    # the reference code declared --seed a string and crashed on it; here a quoted number is still a number
    assert config_from_dict(tiny_config_dict(tiny_models, tmp_path, tmp_path / "out", seed="7")).seed == 7
    with pytest.raises(ConfigError, match=r"learning_rte \(did you mean learning_rate\?\)"):
        config_from_dict(tiny_config_dict(tiny_models, tmp_path, tmp_path / "out", learning_rte=1e-4))
    path = tmp_path / "c.yaml"
    path.write_text("stage: 1\ndata_root: data\noutput_dir: out\n")
    config = load_config(path)
    assert config.data_root == (tmp_path / "data").resolve() and config.learning_rate == 5e-5
    assert np.isclose(config.drop_probability, 0.0)


def test_worker_processes_build_the_same_batches_as_the_main_process(prepared_data):
    from torch.utils.data import DataLoader

    dataset = FaceMeDataset(prepared_data, 64, seed=0, drop_probability=0.5)

    def batches(workers: int) -> list[dict]:
        sampler = EpochSampler(len(dataset), seed=0)
        sampler.set_epoch(2)
        return list(DataLoader(dataset, batch_size=2, sampler=sampler, num_workers=workers))

    for in_main, in_workers in zip(batches(0), batches(2), strict=True):
        for key in in_main:
            assert torch.equal(in_main[key], in_workers[key]), key
        assert in_workers["clip"].device.type == "cpu"


def test_ground_truths_are_read_upright_as_prepare_reads_them(tmp_path):
    from PIL import Image

    from faceme_core.imageio import load_photo
    from training.data import load_ground_truth
    from training.layout import DataLayout, TrainingDataError

    (tmp_path / "gt").mkdir()
    pixels = np.zeros((40, 64, 3), np.uint8)
    pixels[:, :32] = 255  # left half white: a turn moves it
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 degrees clockwise to display"
    Image.fromarray(pixels).save(tmp_path / "gt" / "turned.png", exif=exif)
    upright = load_photo(tmp_path / "gt" / "turned.png").rgb8()
    assert upright.shape == (64, 40, 3)
    loaded = load_ground_truth(DataLayout(tmp_path), "gt/turned.png", 32)
    expected = np.asarray(Image.fromarray(upright).resize((32, 32), Image.BOX))
    assert np.array_equal(loaded, expected)
    (tmp_path / "gt" / "broken.png").write_bytes(b"not a png")
    with pytest.raises(TrainingDataError, match="broken.png: cannot read"):
        load_ground_truth(DataLayout(tmp_path), "gt/broken.png", 32)
