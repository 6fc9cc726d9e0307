"""k-NN manifold metrics: precision/recall (Kynkäänniemi et al. 2019) and density/coverage
(Naeem et al. 2020).

Each sample set's manifold is the union of balls around its points, with radius the distance to
the point's k-th nearest neighbour in its own set (itself excluded). Precision asks how much of
the fake set lies on the real manifold, recall the reverse; density counts how many real balls
hold each fake sample, and coverage is the share of real balls holding at least one fake sample.

Distances are float64 numpy, computed `batch_size` rows at a time as
||x||^2 + ||y||^2 - 2 x.y (a BLAS matmul), so memory stays at O(batch_size * N) beyond the inputs:
with 10k x 10k sets of 2048-d features and the default 512 rows, a block is about 40 MB.
Comparisons are made on squared distances, so no square roots are taken.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from ganjax.metrics.frechet import as_feature_matrix, check_same_width

DEFAULT_BATCH_SIZE = 512


def _squared_distances(x: np.ndarray, y: np.ndarray, y_norms: np.ndarray) -> np.ndarray:
    """||x_i - y_j||^2 for every pair, [len(x), len(y)], clipped at 0 against cancellation."""
    d2 = np.sum(x * x, axis=1)[:, None] + y_norms[None, :] - 2.0 * (x @ y.T)
    return np.maximum(d2, 0.0, out=d2)


def _blocks(n: int, batch_size: int):
    """(start, stop) row ranges of at most batch_size rows covering range(n)."""
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}.")
    return ((lo, min(lo + batch_size, n)) for lo in range(0, n, batch_size))


def knn_squared_radii(x: np.ndarray, k: int, batch_size: int = DEFAULT_BATCH_SIZE) -> np.ndarray:
    """Squared distance from each row of x [N, D] to its k-th nearest other row, shape [N].

    The point itself is excluded by index, so an exact duplicate elsewhere in x is a neighbour.
    """
    if not 1 <= k < len(x):
        raise ValueError(
            f"k must be between 1 and the number of samples minus one ({len(x) - 1}), got k={k}; "
            "pass more samples or a smaller k."
        )
    norms = np.sum(x * x, axis=1)
    radii = np.empty(len(x), dtype=np.float64)
    for lo, hi in _blocks(len(x), batch_size):
        d2 = _squared_distances(x[lo:hi], x, norms)
        d2[np.arange(hi - lo), np.arange(lo, hi)] = np.inf
        radii[lo:hi] = np.partition(d2, k - 1, axis=1)[:, k - 1]
    return radii


def _prepare(real: ArrayLike, fake: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Validated float64 real and fake feature matrices with equal widths."""
    x = as_feature_matrix(real, "real")
    y = as_feature_matrix(fake, "fake")
    check_same_width(x, y, "real", "fake")
    return x, y


def precision_recall(
    real: ArrayLike, fake: ArrayLike, k: int = 3, batch_size: int = DEFAULT_BATCH_SIZE
) -> dict[str, float]:
    """Improved precision and recall of fake features [M, D] against real features [N, D].

    precision: share of fake samples inside some real sample's k-NN ball;
    recall: share of real samples inside some fake sample's k-NN ball. Returns
    {"precision": ..., "recall": ...}.
    """
    x, y = _prepare(real, fake)
    real_r2 = knn_squared_radii(x, k, batch_size)
    fake_r2 = knn_squared_radii(y, k, batch_size)
    fake_norms = np.sum(y * y, axis=1)
    fake_inside = np.zeros(len(y), dtype=bool)
    real_inside = np.zeros(len(x), dtype=bool)
    # One pass over real-fake distances serves both directions.
    for lo, hi in _blocks(len(x), batch_size):
        d2 = _squared_distances(x[lo:hi], y, fake_norms)
        fake_inside |= np.any(d2 <= real_r2[lo:hi, None], axis=0)
        real_inside[lo:hi] = np.any(d2 <= fake_r2[None, :], axis=1)
    return {"precision": float(fake_inside.mean()), "recall": float(real_inside.mean())}


def density_coverage(
    real: ArrayLike, fake: ArrayLike, k: int = 5, batch_size: int = DEFAULT_BATCH_SIZE
) -> dict[str, float]:
    """Density and coverage of fake features [M, D] against real features [N, D].

    density: mean over fake samples of (number of real k-NN balls containing it) / k, so it is
    about 1 when fake matches real and can exceed 1; coverage: share of real samples whose k-NN
    ball contains at least one fake sample. Only real balls are used, which makes both less
    sensitive to fake outliers than precision and recall. Returns {"density": ..., "coverage": ...}.
    """
    x, y = _prepare(real, fake)
    real_r2 = knn_squared_radii(x, k, batch_size)
    fake_norms = np.sum(y * y, axis=1)
    hits = 0
    covered = np.zeros(len(x), dtype=bool)
    for lo, hi in _blocks(len(x), batch_size):
        inside = _squared_distances(x[lo:hi], y, fake_norms) <= real_r2[lo:hi, None]
        hits += int(inside.sum())
        covered[lo:hi] = inside.any(axis=1)
    return {"density": hits / (k * len(y)), "coverage": float(covered.mean())}
