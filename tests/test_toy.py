"""Toy distributions and their metrics against closed forms."""

import jax
import numpy as np
import pytest

from ganjax.data import toy
from ganjax.evaluation.toy import (mixture_fidelity, mixture_mmd, mode_coverage, mode_spread,
                                   perfect_mixture_mmd, perfect_spread_ratio, sample_moments)
from ganjax.outputs import figures

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


# --- fidelity beyond the HQ fraction: spread ratio and MMD to the true mixture ---------------

RING8 = toy.ring(8, 1.0, 0.01)


def _ring_draw(n: int, seed: int, scale: float = 1.0) -> np.ndarray:
    """n points of RING8 drawn with numpy, each mode's noise scaled by `scale`."""
    rng = np.random.default_rng(seed)
    return (RING8.centers[rng.integers(0, 8, n)]
            + scale * RING8.std * rng.standard_normal((n, 2)))


def test_perfect_spread_ratio_matches_the_rayleigh_closed_form_and_monte_carlo():
    t = 3.0
    rayleigh = 2 * (1 - (1 + t ** 2 / 2) * np.exp(-t ** 2 / 2)) / (1 - np.exp(-t ** 2 / 2))
    assert perfect_spread_ratio(2, t) == pytest.approx(np.sqrt(rayleigh / 2), rel=1e-12)
    assert perfect_spread_ratio(2, t) == pytest.approx(0.9744, abs=1e-4)
    r2 = (np.random.default_rng(0).standard_normal((400_000, 1)) ** 2).sum(1)
    assert perfect_spread_ratio(1, t) == pytest.approx(np.sqrt(r2[r2 <= 9].mean()), abs=2e-3)
    assert perfect_spread_ratio(2, 50.0) == pytest.approx(1.0)  # no cut, no truncation


def test_exact_samples_have_the_perfect_spread_and_half_spread_samples_half():
    exact = mode_spread(_ring_draw(20_000, 0), RING8.centers, RING8.std)
    assert exact == pytest.approx(perfect_spread_ratio(2, 3.0), abs=0.02)
    half = mode_spread(_ring_draw(20_000, 1, scale=0.5), RING8.centers, RING8.std)
    assert half == pytest.approx(0.5, abs=0.03)


def test_spread_needs_two_high_quality_samples_per_mode():
    centers = RING8.centers
    one_each = mode_spread(centers + 0.01, centers, RING8.std)  # 1 HQ sample per mode
    assert np.isnan(one_each)
    # Mode 0 alone qualifies: two samples at 1 std along x, so the RMS per coordinate is
    # sqrt(1 / 2) std; the far-away point and mode 3's single sample do not count.
    samples = np.concatenate([centers[:1] + [[0.01, 0]], centers[:1] - [[0.01, 0]],
                              centers[3:4], [[0.5, 0.5]]])
    assert mode_spread(samples, centers, RING8.std) == pytest.approx(np.sqrt(0.5))


def test_mixture_mmd_is_the_kernel_formula():
    rng = np.random.default_rng(3)
    x, y, std = rng.normal(size=(7, 2)), rng.normal(size=(5, 2)), 0.7

    def k(a, b):
        d2 = ((a[:, None, :] - b[None, :, :]) ** 2).sum(-1)
        return sum(np.exp(-d2 / (2 * (s * std) ** 2)) for s in (1, 2, 4))

    mmd2 = k(x, x).mean() + k(y, y).mean() - 2 * k(x, y).mean()
    assert mixture_mmd(x, y, std) == pytest.approx(np.sqrt(mmd2), rel=1e-10)
    assert mixture_mmd(x, x, std) == 0.0


def test_true_samples_score_the_perfect_mmd_and_a_collapse_scores_far_more():
    key = jax.random.PRNGKey(5)
    reference = np.asarray(RING8.sample(key, 500), np.float64)
    perfect = perfect_mixture_mmd(RING8, reference, key, 500)
    assert perfect == perfect_mixture_mmd(RING8, reference, key, 500)  # deterministic
    true = np.array([mixture_mmd(_ring_draw(500, seed), reference, RING8.std)
                     for seed in range(8)])
    assert abs(perfect - true.mean()) < 4 * true.std(ddof=1)
    collapsed = RING8.centers[:1] + RING8.std * np.random.default_rng(0).standard_normal((500, 2))
    assert mixture_mmd(collapsed, reference, RING8.std) > 10 * perfect
    fidelity = mixture_fidelity(_ring_draw(500, 9), RING8, reference, key)
    assert set(fidelity) == {"spread_ratio", "mixture_mmd", "mixture_mmd_perfect"}
    assert fidelity["mixture_mmd_perfect"] == perfect


def test_curves_figure_draws_the_perfect_sampler_lines():
    records = [{"step": s, "train/d_loss": 1.0, "train/g_loss": 0.7, "eval/spread_ratio": 0.6,
                "eval/mixture_mmd": 0.5 / s, "eval/mixture_mmd_perfect": 0.05}
               for s in (100, 200)]
    references = figures.toy_curve_references(RING8, perfect_spread_ratio(2))
    fig = figures.curves_figure(records, references=references)
    try:
        lines = {ax.get_title(): [line.get_ydata()[0] for line in ax.get_lines()
                                  if line.get_linestyle() != "-"] for ax in fig.axes}
        assert lines["Mode spread (HQ samples)"] == [pytest.approx(perfect_spread_ratio(2))]
        assert lines["MMD to the true mixture (lower is better)"] == [0.05]
        assert not any("mixture_mmd_perfect" in title for title in lines)  # no panel of its own
    finally:
        figures._pyplot().close(fig)
