"""Kernel Inception Distance (Bińkowski et al. 2018): unbiased MMD^2 with a cubic polynomial kernel.

Unlike FID, the estimator is unbiased, so small sample sets do not inflate it; averaging it over
random subsets keeps the kernel matrices small. All arithmetic is float64 numpy.
"""

from __future__ import annotations

from typing import Callable, NamedTuple

import numpy as np
from numpy.typing import ArrayLike

from ganjax.metrics.frechet import as_feature_matrix, check_same_width

Kernel = Callable[[np.ndarray, np.ndarray], np.ndarray]


class KIDResult(NamedTuple):
    """Mean and standard deviation (ddof=0) of the per-subset MMD^2 estimates; unpacks as a pair."""

    mean: float
    std: float


def polynomial_kernel(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """k(x, y) = (x.y / d + 1)^3 for every row pair, shape [len(x), len(y)]: the KID kernel."""
    return (x @ y.T / x.shape[1] + 1.0) ** 3


def mmd2_unbiased(a: ArrayLike, b: ArrayLike, kernel: Kernel = polynomial_kernel) -> float:
    """Unbiased MMD^2 between sample sets a [m, D] and b [n, D] (m, n >= 2).

    Within-set kernel means leave out the diagonal (i == j), which is what removes the bias; the
    estimate can therefore be slightly negative when both sets come from one distribution.
    """
    x = as_feature_matrix(a, "a")
    y = as_feature_matrix(b, "b")
    check_same_width(x, y, "a", "b")
    m, n = len(x), len(y)
    k_xx = kernel(x, x)
    k_yy = kernel(y, y)
    k_xy = kernel(x, y)
    within_x = (k_xx.sum() - np.trace(k_xx)) / (m * (m - 1))
    within_y = (k_yy.sum() - np.trace(k_yy)) / (n * (n - 1))
    return float(within_x + within_y - 2.0 * k_xy.mean())


def kid_from_features(
    a: ArrayLike,
    b: ArrayLike,
    num_subsets: int = 100,
    subset_size: int = 1000,
    seed: int = 0,
) -> KIDResult:
    """KID between feature sets a [N, D] and b [M, D]: unbiased MMD^2 averaged over random subsets.

    Each of `num_subsets` rounds draws `subset_size` rows from a and from b without replacement and
    evaluates `mmd2_unbiased` with the cubic kernel. `subset_size` is clipped to min(N, M), so small
    sets use every row in each round. Draws come from `np.random.default_rng(seed)`, so the result
    is deterministic given the seed. Returns KIDResult(mean, std), std over subsets with ddof=0.
    """
    x = as_feature_matrix(a, "a")
    y = as_feature_matrix(b, "b")
    check_same_width(x, y, "a", "b")
    if num_subsets < 1:
        raise ValueError(f"num_subsets must be at least 1, got {num_subsets}.")
    if subset_size < 2:
        raise ValueError(
            f"subset_size must be at least 2 (the unbiased estimator leaves out i == j pairs), "
            f"got {subset_size}."
        )
    size = min(subset_size, len(x), len(y))
    rng = np.random.default_rng(seed)
    estimates = np.empty(num_subsets, dtype=np.float64)
    for i in range(num_subsets):
        rows_x = rng.choice(len(x), size, replace=False)
        rows_y = rng.choice(len(y), size, replace=False)
        estimates[i] = mmd2_unbiased(x[rows_x], y[rows_y])
    return KIDResult(float(estimates.mean()), float(estimates.std()))
