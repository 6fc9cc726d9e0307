"""Toy distributions and their metrics against closed forms."""

import jax
import numpy as np
import pytest

from ganjax.data import toy
from ganjax.evaluation.toy import mode_coverage, sample_moments

# A perfect generator's high-quality fraction: P(chi2 with 2 dof <= 3^2) = 1 - exp(-4.5).
PERFECT_HQ = 1 - np.exp(-4.5)


def test_ring_places_distinct_modes_at_equal_angles():
    ring = toy.ring(8, 2.0, 0.02)
    angles = np.sort(np.mod(np.arctan2(ring.centers[:, 1], ring.centers[:, 0]), 2 * np.pi))
    np.testing.assert_allclose(angles, 2 * np.pi * np.arange(8) / 8, atol=1e-12)
    np.testing.assert_allclose(np.linalg.norm(ring.centers, axis=1), 2.0)


def test_grid_of_25_is_the_literature_grid():
    grid = toy.grid(25, 2.0, 0.05)
    assert sorted(map(tuple, grid.centers)) == [(x, y) for x in (-4, -2, 0, 2, 4)
                                                  for y in (-4, -2, 0, 2, 4)]


def test_gaussian_samples_have_the_target_moments():
    samples = np.asarray(toy.gaussian_1d(4.0, 1.5).sample(jax.random.PRNGKey(0), 200_000))
    assert samples.shape == (200_000, 1)
    moments = sample_moments(samples)
    assert moments["mean"] == pytest.approx(4.0, abs=0.01)
    assert moments["std"] == pytest.approx(1.5, abs=0.01)


def test_mixture_density_integrates_to_one():
    ring = toy.ring(8, 1.0, 0.1)
    xs = np.linspace(-1.6, 1.6, 401)
    grid = np.stack(np.meshgrid(xs, xs), -1).reshape(-1, 2)
    assert ring.density(grid).sum() * (xs[1] - xs[0]) ** 2 == pytest.approx(1.0, abs=1e-3)


def test_samples_at_the_modes_score_perfectly():
    ring = toy.ring(8, 1.0, 0.01)
    metrics = mode_coverage(np.repeat(ring.centers, 10, axis=0), ring.centers, 0.01)
    assert metrics == {"modes": 8.0, "hq_fraction": 1.0, "mode_kl": 0.0}


def test_true_mixture_scores_the_chi_square_fraction():
    grid = toy.grid(25, 2.0, 0.05)
    samples = np.asarray(grid.sample(jax.random.PRNGKey(1), 100_000))
    metrics = mode_coverage(samples, grid.centers, 0.05)
    assert metrics["modes"] == 25
    assert metrics["hq_fraction"] == pytest.approx(PERFECT_HQ, abs=0.002)
    assert metrics["mode_kl"] < 1e-3


def test_collapsed_generator():
    ring = toy.ring(8, 1.0, 0.01)
    # Three quarters of the samples on mode 0, a quarter on mode 3, plus far-away junk.
    samples = np.concatenate([np.repeat(ring.centers[:1], 60, 0), np.repeat(ring.centers[3:4], 20, 0),
                              np.full((20, 2), 0.5)])
    metrics = mode_coverage(samples, ring.centers, 0.01)
    assert metrics["modes"] == 2
    assert metrics["hq_fraction"] == pytest.approx(0.8)
    p = np.array([0.75, 0.25])
    assert metrics["mode_kl"] == pytest.approx(float(np.sum(p * np.log(p * 8))))


def test_no_high_quality_samples_gives_undefined_kl():
    ring = toy.ring(8, 1.0, 0.01)
    metrics = mode_coverage(np.zeros((10, 2)), ring.centers, 0.01)
    assert metrics["modes"] == 0 and metrics["hq_fraction"] == 0 and np.isnan(metrics["mode_kl"])
