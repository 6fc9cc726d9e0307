"""ganjax.metrics against direct numpy/scipy computations, closed forms and sanity cases."""

import itertools

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.linalg
import scipy.special
import scipy.stats

from ganjax import metrics
from ganjax.metrics import kid as kid_lib

RTOL = 1e-6


def _rng(seed):
    return np.random.default_rng(seed)


# ----------------------------------------------------------------------------------------- FID


def _classic_fid(a, b):
    """The textbook FID: sample statistics and scipy's general matrix square root of S1 S2."""
    mu1, mu2 = a.mean(0), b.mean(0)
    s1, s2 = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    covmean = scipy.linalg.sqrtm(s1 @ s2).real
    return np.sum((mu1 - mu2) ** 2) + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean)


def test_fid_matches_sqrtm_formula():
    rng = _rng(0)
    a = rng.normal(size=(300, 8))
    b = rng.normal(size=(250, 8)) @ rng.normal(size=(8, 8)) * 0.5 + 0.3
    np.testing.assert_allclose(metrics.fid_from_features(a, b), _classic_fid(a, b), rtol=RTOL)


def test_gaussian_statistics_are_mean_and_unbiased_covariance():
    x = _rng(1).normal(size=(20, 3))
    mu, sigma = metrics.gaussian_statistics(x)
    centred = x - x.sum(0) / len(x)
    np.testing.assert_allclose(mu, x.sum(0) / len(x), rtol=1e-12)
    np.testing.assert_allclose(sigma, centred.T @ centred / (len(x) - 1), rtol=1e-12)
    assert mu.dtype == sigma.dtype == np.float64


def test_frechet_distance_diagonal_closed_form():
    rng = _rng(2)
    mu1, mu2 = rng.normal(size=6), rng.normal(size=6)
    var1, var2 = rng.uniform(0.1, 3.0, size=6), rng.uniform(0.1, 3.0, size=6)
    expected = np.sum((mu1 - mu2) ** 2) + np.sum((np.sqrt(var1) - np.sqrt(var2)) ** 2)
    got = metrics.frechet_distance(mu1, np.diag(var1), mu2, np.diag(var2))
    np.testing.assert_allclose(got, expected, rtol=RTOL)


def test_fid_identical_sets_is_zero_and_fid_is_symmetric():
    rng = _rng(3)
    a = rng.normal(size=(100, 10)) * 3.0 + 1.0
    b = rng.normal(size=(80, 10)) + 0.2
    assert abs(metrics.fid_from_features(a, a)) < 1e-8
    np.testing.assert_allclose(
        metrics.fid_from_features(a, b), metrics.fid_from_features(b, a), rtol=RTOL
    )


def test_frechet_distance_with_singular_covariance():
    # Fewer samples than features: both covariances are rank-deficient.
    rng = _rng(4)
    a, b = rng.normal(size=(5, 12)), rng.normal(size=(7, 12)) + 0.5
    mu1, s1 = metrics.gaussian_statistics(a)
    mu2, s2 = metrics.gaussian_statistics(b)
    eigenvalues = np.clip(np.linalg.eigvals(s1 @ s2).real, 0.0, None)
    trace_term = 2 * np.sum(np.sqrt(eigenvalues))
    expected = np.sum((mu1 - mu2) ** 2) + np.trace(s1) + np.trace(s2) - trace_term
    np.testing.assert_allclose(metrics.frechet_distance(mu1, s1, mu2, s2), expected, rtol=RTOL)


def test_fid_accepts_jax_arrays_without_enabling_x64():
    rng = _rng(5)
    a = rng.normal(size=(60, 4)).astype(np.float32)
    b = (rng.normal(size=(50, 4)) + 1.0).astype(np.float32)
    got = metrics.fid_from_features(jnp.asarray(a), jnp.asarray(b))
    expected = _classic_fid(a.astype(np.float64), b.astype(np.float64))
    np.testing.assert_allclose(got, expected, rtol=RTOL)
    assert not jax.config.jax_enable_x64


@pytest.mark.parametrize(
    "a, b, message",
    [
        (np.zeros(10), np.zeros((10, 2)), "2-D"),
        (np.zeros((10, 3)), np.zeros((10, 4)), "same way"),
        (np.zeros((1, 3)), np.zeros((10, 3)), "at least 2"),
        (np.full((4, 2), np.nan), np.zeros((4, 2)), "NaN"),
    ],
)
def test_fid_rejects_bad_features(a, b, message):
    with pytest.raises(ValueError, match=message):
        metrics.fid_from_features(a, b)


def test_frechet_distance_rejects_mismatched_statistics():
    with pytest.raises(ValueError, match="square covariance"):
        metrics.frechet_distance(np.zeros(3), np.eye(2), np.zeros(3), np.eye(3))
    with pytest.raises(ValueError, match="different dimensions"):
        metrics.frechet_distance(np.zeros(3), np.eye(3), np.zeros(2), np.eye(2))


# ----------------------------------------------------------------------------------------- KID


def _naive_mmd2(a, b):
    """Unbiased MMD^2 with k(x, y) = (x.y / d + 1)^3, one kernel evaluation per loop iteration."""
    d = a.shape[1]

    def k(x, y):
        return (np.dot(x, y) / d + 1.0) ** 3

    m, n = len(a), len(b)
    xx = sum(k(a[i], a[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    yy = sum(k(b[i], b[j]) for i in range(n) for j in range(n) if i != j) / (n * (n - 1))
    xy = sum(k(a[i], b[j]) for i in range(m) for j in range(n)) / (m * n)
    return xx + yy - 2.0 * xy


def test_mmd2_unbiased_matches_double_loop():
    rng = _rng(10)
    a, b = rng.normal(size=(12, 4)), rng.normal(size=(9, 4)) + 0.3
    np.testing.assert_allclose(kid_lib.mmd2_unbiased(a, b), _naive_mmd2(a, b), rtol=RTOL)


def test_kid_with_whole_sets_equals_single_mmd2():
    # subset_size is clipped to 15, so every subset is a permutation of the whole sets.
    rng = _rng(11)
    a, b = rng.normal(size=(15, 5)), rng.normal(size=(20, 5)) + 0.5
    b = b[:15]
    mean, std = metrics.kid_from_features(a, b, num_subsets=5, subset_size=1000)
    np.testing.assert_allclose(mean, _naive_mmd2(a, b), rtol=RTOL)
    assert std < 1e-9 * abs(mean)


def test_kid_is_deterministic_given_seed():
    rng = _rng(12)
    a, b = rng.normal(size=(40, 3)), rng.normal(size=(50, 3))
    first = metrics.kid_from_features(a, b, num_subsets=10, subset_size=10, seed=7)
    assert first == metrics.kid_from_features(a, b, num_subsets=10, subset_size=10, seed=7)
    assert first != metrics.kid_from_features(a, b, num_subsets=10, subset_size=10, seed=8)
    assert first.mean == first[0] and first.std == first[1]


def test_mmd2_estimator_is_unbiased():
    # Averaged over independent draws from one distribution, the estimate centres on 0, while the
    # biased (V-statistic) version, which keeps the i == j terms, does not.
    rng = _rng(13)
    unbiased, biased = [], []
    for _ in range(300):
        a, b = rng.normal(size=(10, 3)), rng.normal(size=(10, 3))
        unbiased.append(kid_lib.mmd2_unbiased(a, b))
        k = kid_lib.polynomial_kernel
        biased.append(k(a, a).mean() + k(b, b).mean() - 2 * k(a, b).mean())
    sem = np.std(unbiased) / np.sqrt(len(unbiased))
    assert abs(np.mean(unbiased)) < 4 * sem
    assert np.mean(biased) > 10 * sem


def test_kid_separates_shifted_distributions():
    rng = _rng(14)
    a = rng.normal(size=(200, 8))
    same = metrics.kid_from_features(a, rng.normal(size=(200, 8)), num_subsets=20, subset_size=100)
    shifted = metrics.kid_from_features(
        a, rng.normal(size=(200, 8)) + 1.0, num_subsets=20, subset_size=100
    )
    assert abs(same.mean) < 3 * same.std
    assert shifted.mean > 10 * shifted.std
    assert shifted.mean > 20 * abs(same.mean)


def test_kid_rejects_bad_arguments():
    a = np.zeros((10, 3))
    with pytest.raises(ValueError, match="subset_size"):
        metrics.kid_from_features(a, a, subset_size=1)
    with pytest.raises(ValueError, match="num_subsets"):
        metrics.kid_from_features(a, a, num_subsets=0)
    with pytest.raises(ValueError, match="same way"):
        metrics.kid_from_features(a, np.zeros((10, 2)))


# ----------------------------------------------------------------------------- Inception Score


def test_inception_score_of_identical_uniform_rows_is_one():
    mean, std = metrics.inception_score(np.full((40, 7), 1 / 7), splits=4)
    np.testing.assert_allclose(mean, 1.0, rtol=1e-12)
    assert std < 1e-12


def test_inception_score_of_evenly_covered_one_hot_rows_is_num_classes():
    num_classes, splits = 5, 4
    probs = np.eye(num_classes)[np.arange(num_classes * splits * 3) % num_classes]
    mean, std = metrics.inception_score(probs, splits=splits)
    np.testing.assert_allclose(mean, num_classes, rtol=1e-12)
    assert std < 1e-12


def test_inception_score_matches_scipy_kl():
    probs = _rng(20).dirichlet(np.full(6, 0.3), size=103)
    # np.array_split's sizes for 103 rows in 4 parts.
    sizes, scores, start = [26, 26, 26, 25], [], 0
    for size in sizes:
        part = probs[start : start + size]
        start += size
        marginal = part.mean(0)
        kls = [scipy.stats.entropy(row, marginal) for row in part]
        scores.append(np.exp(np.mean(kls)))
    mean, std = metrics.inception_score(probs, splits=4)
    np.testing.assert_allclose(mean, np.mean(scores), rtol=RTOL)
    np.testing.assert_allclose(std, np.std(scores), rtol=RTOL)


@pytest.mark.parametrize(
    "probs, splits, message",
    [
        (np.full((10, 4), 0.3), 2, "sum to 1"),
        (np.array([[1.5, -0.5]] * 4), 2, "non-negative"),
        (np.full((3, 2), 0.5), 10, "fewer than splits"),
        (np.full(10, 0.1), 1, "2-D"),
    ],
)
def test_inception_score_rejects_bad_probabilities(probs, splits, message):
    with pytest.raises(ValueError, match=message):
        metrics.inception_score(probs, splits=splits)


# -------------------------------------------------------------------------- manifold metrics


def _distances(x, y):
    return np.sqrt(np.sum((x[:, None, :] - y[None, :, :]) ** 2, axis=2))


def _radii(x, k):
    """k-th nearest neighbour distance, self excluded, by sorting full distance rows."""
    d = _distances(x, x)
    np.fill_diagonal(d, np.inf)
    return np.sort(d, axis=1)[:, k - 1]


def _brute_precision_recall(real, fake, k):
    d = _distances(real, fake)  # [N_real, N_fake]
    precision = np.mean([np.any(d[:, j] <= _radii(real, k)) for j in range(len(fake))])
    recall = np.mean([np.any(d[i, :] <= _radii(fake, k)) for i in range(len(real))])
    return precision, recall


def _brute_density_coverage(real, fake, k):
    radii = _radii(real, k)
    d = _distances(real, fake)
    pairs = itertools.product(range(len(real)), range(len(fake)))
    density = sum(d[i, j] <= radii[i] for i, j in pairs)
    coverage = np.mean([d[i].min() <= radii[i] for i in range(len(real))])
    return density / (k * len(fake)), coverage


@pytest.mark.parametrize("batch_size", [7, 512])
def test_precision_recall_matches_brute_force(batch_size):
    rng = _rng(30)
    real, fake = rng.normal(size=(40, 5)), rng.normal(size=(35, 5)) * 1.3 + 0.4
    got = metrics.precision_recall(real, fake, k=3, batch_size=batch_size)
    precision, recall = _brute_precision_recall(real, fake, 3)
    assert 0 < precision < 1 and 0 < recall < 1
    np.testing.assert_allclose([got["precision"], got["recall"]], [precision, recall], rtol=1e-12)


@pytest.mark.parametrize("batch_size", [6, 512])
def test_density_coverage_matches_brute_force(batch_size):
    rng = _rng(31)
    real, fake = rng.normal(size=(40, 5)), rng.normal(size=(33, 5)) * 0.8 + 0.3
    got = metrics.density_coverage(real, fake, k=5, batch_size=batch_size)
    density, coverage = _brute_density_coverage(real, fake, 5)
    assert 0 < coverage < 1
    np.testing.assert_allclose([got["density"], got["coverage"]], [density, coverage], rtol=1e-12)


def test_manifold_metrics_on_identical_and_disjoint_sets():
    rng = _rng(32)
    real = rng.normal(size=(30, 4))
    assert metrics.precision_recall(real, real) == {"precision": 1.0, "recall": 1.0}
    assert metrics.density_coverage(real, real)["coverage"] == 1.0
    far = rng.normal(size=(30, 4)) + 100.0
    assert metrics.precision_recall(real, far) == {"precision": 0.0, "recall": 0.0}
    assert metrics.density_coverage(real, far) == {"density": 0.0, "coverage": 0.0}


def test_manifold_metrics_reject_bad_k():
    x = np.zeros((4, 2))
    with pytest.raises(ValueError, match="smaller k"):
        metrics.precision_recall(x, x, k=4)
    with pytest.raises(ValueError, match="smaller k"):
        metrics.density_coverage(x, x, k=0)


# -------------------------------------------------------------------------------------- Parzen


def test_parzen_matches_scipy_mixture_of_gaussians():
    rng = _rng(40)
    samples, data, sigma = rng.normal(size=(15, 3)), rng.normal(size=(6, 3)), 0.7
    cov = sigma ** 2 * np.eye(3)
    mvn = scipy.stats.multivariate_normal
    expected = [
        scipy.special.logsumexp([mvn.logpdf(x, s, cov) for s in samples]) - np.log(len(samples))
        for x in data
    ]
    got = metrics.parzen_log_likelihood(samples, data, sigma, batch_size=4)
    np.testing.assert_allclose(got, expected, rtol=RTOL)


def test_parzen_stays_finite_far_from_every_sample():
    # exp(-d^2 / 2 sigma^2) underflows to 0 here; the shifted logsumexp must not.
    samples, data, sigma = np.zeros((3, 2)), np.array([[30.0, 40.0]]), 0.1
    expected = -(50.0 ** 2) / (2 * sigma ** 2) - np.log(2 * np.pi * sigma ** 2)
    got = metrics.parzen_log_likelihood(samples, data, sigma)
    np.testing.assert_allclose(got, [expected], rtol=RTOL)


def test_select_parzen_sigma_finds_the_noise_scale():
    # Validation points are the samples' exact centres plus N(0, 0.3^2) noise, so the mixture
    # with sigma = 0.3 is the true density; the grid point nearest 0.3 (0.278) must win.
    rng = _rng(41)
    centres = rng.normal(size=(5, 10)) * 20.0
    samples = centres[np.arange(50) % 5]
    validation = centres[rng.integers(0, 5, size=1000)] + 0.3 * rng.normal(size=(1000, 10))
    chosen = metrics.select_parzen_sigma(samples, validation)
    grid = np.logspace(-1, 0, 10)
    assert chosen == grid[np.argmin(np.abs(np.log(grid / 0.3)))]


def test_parzen_estimate_reports_mean_and_standard_error():
    rng = _rng(42)
    samples, validation, test = (rng.uniform(size=(n, 6)) for n in (80, 30, 40))
    result = metrics.parzen_estimate(samples, validation, test)
    assert result["sigma"] == metrics.select_parzen_sigma(samples, validation)
    log_p = metrics.parzen_log_likelihood(samples, test, result["sigma"])
    np.testing.assert_allclose(result["mean"], np.mean(log_p), rtol=1e-12)
    np.testing.assert_allclose(result["std_error"], np.std(log_p) / np.sqrt(40), rtol=1e-12)


def test_parzen_rejects_bad_input():
    x = np.zeros((5, 3))
    with pytest.raises(ValueError, match="sigma must be finite and > 0"):
        metrics.parzen_log_likelihood(x, x, 0.0)
    with pytest.raises(ValueError, match="same way"):
        metrics.parzen_log_likelihood(x, np.zeros((5, 4)), 0.5)
    with pytest.raises(ValueError, match="non-empty"):
        metrics.select_parzen_sigma(x, x, sigmas=[])
