"""Fréchet distance between Gaussians fitted to two feature sets (FID, Heusel et al. 2017).

Everything runs in float64 numpy: FID subtracts traces of 2048x2048 covariances that are large
next to the answer, so float32 rounding would show in the reported digits. JAX arrays are accepted
and converted on the host; JAX's x64 mode is left untouched.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike


def as_feature_matrix(x: ArrayLike, name: str, min_rows: int = 2) -> np.ndarray:
    """`x` as a finite float64 [N, D] array, or a ValueError saying what is wrong and how to fix it.

    Shared by the feature-based metrics in this package, so they all reject bad input the same way.
    """
    arr = np.asarray(x, dtype=np.float64)
    if arr.ndim != 2:
        raise ValueError(
            f"{name} must be a 2-D array [num_samples, num_features], got shape {arr.shape}; "
            "flatten each sample's features (e.g. x.reshape(len(x), -1))."
        )
    if arr.shape[0] < min_rows:
        raise ValueError(
            f"{name} has {arr.shape[0]} sample(s) but at least {min_rows} are needed; "
            "pass more samples."
        )
    if arr.shape[1] < 1:
        raise ValueError(f"{name} has no feature columns (shape {arr.shape}).")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or infinite values; check the feature extractor.")
    return arr


def check_same_width(a: np.ndarray, b: np.ndarray, name_a: str, name_b: str) -> None:
    """Raise a ValueError unless two [N, D] feature matrices share D."""
    if a.shape[1] != b.shape[1]:
        raise ValueError(
            f"{name_a} has {a.shape[1]} features per sample but {name_b} has {b.shape[1]}; "
            "compute both the same way (same network layer, or same image size for raw pixels)."
        )


def gaussian_statistics(features: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Mean [D] and unbiased (N - 1) covariance [D, D] of features [N, D], in float64."""
    x = as_feature_matrix(features, "features")
    return x.mean(axis=0), np.cov(x, rowvar=False).reshape(x.shape[1], x.shape[1])


def _psd_sqrt(matrix: np.ndarray) -> np.ndarray:
    """Symmetric square root of a symmetric PSD matrix; rounding-level negative eigenvalues -> 0."""
    eigenvalues, eigenvectors = np.linalg.eigh(matrix)
    root = np.sqrt(np.clip(eigenvalues, 0.0, None))
    return (eigenvectors * root) @ eigenvectors.T


def _check_gaussian(mu: np.ndarray, sigma: np.ndarray, index: int) -> None:
    """Raise a ValueError unless mu is [D] and sigma is [D, D]."""
    if mu.ndim != 1:
        raise ValueError(f"mu{index} must be a 1-D mean vector, got shape {mu.shape}.")
    if sigma.shape != (mu.shape[0], mu.shape[0]):
        raise ValueError(
            f"sigma{index} must be a square covariance matching mu{index}, i.e. shape "
            f"{(mu.shape[0], mu.shape[0])}, got {sigma.shape}."
        )


def frechet_distance(mu1: ArrayLike, sigma1: ArrayLike, mu2: ArrayLike, sigma2: ArrayLike) -> float:
    """||mu1 - mu2||^2 + tr(S1) + tr(S2) - 2 tr((S1 S2)^(1/2)) between N(mu1, S1) and N(mu2, S2).

    The trace term is taken as the sum of sqrt-eigenvalues of sqrt(S1) S2 sqrt(S1), which has the
    same eigenvalues as S1 S2 but is symmetric PSD, so `eigh` applies and no complex parts appear
    (unlike a general matrix square root of S1 S2). A result that rounding pushes below 0 is
    returned as 0.
    """
    m1, m2 = (np.asarray(m, dtype=np.float64) for m in (mu1, mu2))
    s1, s2 = (np.asarray(s, dtype=np.float64) for s in (sigma1, sigma2))
    _check_gaussian(m1, s1, 1)
    _check_gaussian(m2, s2, 2)
    if m1.shape != m2.shape:
        raise ValueError(
            f"the two Gaussians live in different dimensions ({m1.shape[0]} vs {m2.shape[0]}); "
            "compute both statistics from the same feature layer."
        )
    root1 = _psd_sqrt(0.5 * (s1 + s1.T))
    middle = root1 @ s2 @ root1
    eigenvalues = np.linalg.eigvalsh(0.5 * (middle + middle.T))
    trace_sqrt = np.sum(np.sqrt(np.clip(eigenvalues, 0.0, None)))
    diff = m1 - m2
    value = diff @ diff + np.trace(s1) + np.trace(s2) - 2.0 * trace_sqrt
    return max(float(value), 0.0)


def fid_from_features(a: ArrayLike, b: ArrayLike) -> float:
    """FID of feature sets [N, D] and [M, D] (numpy or JAX): Fréchet distance of their Gaussians.

    The Gaussians are fitted by `gaussian_statistics`; both sets need N >= 2 and the same D.
    """
    x = as_feature_matrix(a, "a")
    y = as_feature_matrix(b, "b")
    check_same_width(x, y, "a", "b")
    return frechet_distance(*gaussian_statistics(x), *gaussian_statistics(y))
