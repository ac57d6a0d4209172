"""The paper's degradation (Eq. 6): deterministic draws from (seed, epoch, index), a pure degrade()."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from PIL import Image

from tests.conftest import FACES_DIR
from training.degradation import (
    KERNEL_SIZE,
    DegradationParams,
    blur_kernel,
    degrade,
    sample_degradation,
)


@pytest.fixture(scope="module")
def face() -> np.ndarray:
    return np.asarray(Image.open(FACES_DIR / "Hepburn01.png").convert("RGB").resize((128, 128)))


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return 10 * np.log10(255.0**2 / max(mse, 1e-12))


def test_the_same_triple_draws_the_same_params_and_any_change_draws_new_ones():
    assert sample_degradation(7, 0, 3) == sample_degradation(7, 0, 3)
    draws = {sample_degradation(seed, epoch, index)
             for seed, epoch, index in [(7, 0, 3), (8, 0, 3), (7, 1, 3), (7, 0, 4), (3, 0, 7), (0, 7, 3)]}
    assert len(draws) == 6


def test_draws_cover_the_papers_ranges_with_half_isotropic_kernels():
    draws = [sample_degradation(1, 0, i) for i in range(2000)]
    isotropic = sum(d.isotropic for d in draws) / len(draws)
    assert 0.45 < isotropic < 0.55
    for field, low, high in (("blur_sigma_x", 0.2, 10), ("blur_sigma_y", 0.2, 10), ("downsample", 1, 16),
                             ("noise_sigma", 0, 15), ("jpeg_quality", 30, 100)):
        values = np.array([getattr(d, field) for d in draws], dtype=np.float64)
        assert values.min() >= low and values.max() <= high, field
        # spread over the whole range, not stuck in a corner
        assert values.min() < low + 0.05 * (high - low) and values.max() > high - 0.05 * (high - low), field
    angles = np.array([d.blur_angle for d in draws if not d.isotropic])
    assert angles.min() < -2.5 and angles.max() > 2.5
    assert all(d.kernel_size == KERNEL_SIZE == 41 for d in draws)


def test_negative_seed_epoch_or_index_is_refused():
    with pytest.raises(ValueError, match="epoch"):
        sample_degradation(0, -1, 0)


def test_blur_kernel_sums_to_one_and_an_anisotropic_kernel_follows_its_angle():
    base = dict(blur_sigma_x=6.0, blur_sigma_y=1.0, downsample=1.0, noise_sigma=0.0, noise_seed=0, jpeg_quality=90)
    flat = blur_kernel(DegradationParams(blur_angle=0.0, **base))
    upright = blur_kernel(DegradationParams(blur_angle=np.pi / 2, **base))
    assert flat.shape == (41, 41) and abs(float(flat.sum()) - 1) < 1e-5
    centre = 20
    assert flat[centre, centre + 8] > 10 * flat[centre + 8, centre]  # long along x
    np.testing.assert_allclose(upright, flat.T, atol=1e-6)  # a quarter turn puts it along y


def test_degrade_is_pure_and_keeps_the_size(face):
    params = sample_degradation(0, 0, 0)
    before = face.copy()
    first, second = degrade(face, params), degrade(face, params)
    assert first.shape == face.shape and first.dtype == np.uint8
    np.testing.assert_array_equal(first, second)
    np.testing.assert_array_equal(face, before)


def test_mild_params_barely_change_the_image_and_strong_ones_ruin_it(face):
    mild = DegradationParams(blur_sigma_x=0.2, blur_sigma_y=0.2, blur_angle=0.0, downsample=1.0,
                             noise_sigma=0.0, noise_seed=0, jpeg_quality=100)
    strong = dataclasses.replace(mild, blur_sigma_x=8.0, blur_sigma_y=8.0, downsample=8.0, noise_sigma=15.0,
                                 jpeg_quality=30)
    assert psnr(face, degrade(face, mild)) > 40
    assert psnr(face, degrade(face, strong)) < 25


@pytest.mark.parametrize("step", ["blur", "downsample", "noise", "jpeg"])
def test_each_step_on_its_own_changes_the_image(face, step):
    clean = DegradationParams(blur_sigma_x=0.2, blur_sigma_y=0.2, blur_angle=0.0, downsample=1.0,
                              noise_sigma=0.0, noise_seed=0, jpeg_quality=100)
    changed = {"blur": dict(blur_sigma_x=3.0, blur_sigma_y=3.0), "downsample": dict(downsample=4.0),
               "noise": dict(noise_sigma=10.0), "jpeg": dict(jpeg_quality=30)}[step]
    baseline = degrade(face, clean)
    assert psnr(baseline, degrade(face, dataclasses.replace(clean, **changed))) < 38


def test_noise_seed_changes_only_the_noise(face):
    params = DegradationParams(blur_sigma_x=1.0, blur_sigma_y=1.0, blur_angle=0.0, downsample=2.0,
                               noise_sigma=10.0, noise_seed=1, jpeg_quality=95)
    other = dataclasses.replace(params, noise_seed=2)
    a, b = degrade(face, params), degrade(face, other)
    assert not np.array_equal(a, b)
    assert psnr(a, b) > 20  # same blur and scale: only the noise pattern differs


@pytest.mark.parametrize("bad", [np.zeros((8, 8), np.uint8), np.zeros((8, 8, 3), np.float32)])
def test_degrade_refuses_anything_but_uint8_rgb(bad):
    with pytest.raises(ValueError, match="uint8"):
        degrade(bad, sample_degradation(0, 0, 0))


def test_params_are_validated():
    with pytest.raises(ValueError, match="downsample"):
        DegradationParams(blur_sigma_x=1.0, blur_sigma_y=1.0, blur_angle=0.0, downsample=0.5, noise_sigma=0.0,
                          noise_seed=0, jpeg_quality=50)
