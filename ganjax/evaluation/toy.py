"""Metrics for the toy distributions: moments of the 1-D Gaussian and mode coverage of mixtures."""

from __future__ import annotations

import numpy as np


def mode_coverage(samples: np.ndarray, centers: np.ndarray, std: float,
                  threshold: float = 3.0) -> dict[str, float]:
    """The VEEGAN / PacGAN protocol for mixtures of equal-weight Gaussians.

    A sample is high quality if it lies within `threshold` std of its nearest mode; a mode is
    captured if it is the nearest mode of at least one high-quality sample; `mode_kl` is
    KL(histogram of high-quality samples over modes || uniform), NaN when there are none.
    """
    samples = np.asarray(samples, np.float64).reshape(len(samples), -1)
    centers = np.asarray(centers, np.float64)
    distances = np.sqrt(((samples[:, None, :] - centers[None]) ** 2).sum(-1))
    nearest = distances.argmin(axis=1)
    high_quality = distances[np.arange(len(samples)), nearest] <= threshold * std
    counts = np.bincount(nearest[high_quality], minlength=len(centers))
    if counts.sum() == 0:
        kl = float("nan")
    else:
        p = counts / counts.sum()
        nonzero = p > 0
        kl = float(np.sum(p[nonzero] * np.log(p[nonzero] * len(centers))))
    return {
        "modes": int((counts > 0).sum()),
        "hq_fraction": float(high_quality.mean()),
        "mode_kl": kl,
    }


def sample_moments(samples: np.ndarray) -> dict[str, float]:
    """Mean and std (ddof=1) of 1-D samples, in float64."""
    samples = np.asarray(samples, np.float64).ravel()
    return {"mean": float(samples.mean()), "std": float(samples.std(ddof=1))}
