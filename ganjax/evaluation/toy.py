"""Metrics for the toy distributions: moments of the 1-D Gaussian, mode coverage of mixtures, and
two fidelity checks the coverage numbers miss.

The VEEGAN / PacGAN high-quality (HQ) fraction counts samples within 3 std of a mode, so a
generator that shrinks every mode onto its center scores better than the data itself. Two
statistics expose that: `mode_spread` (how wide the HQ samples of each mode are, in units of
the data's std) and `mixture_mmd` (a kernel distance to a draw of the true mixture). Each comes
with the value a perfect sampler gets, `perfect_spread_ratio` and `perfect_mixture_mmd`, since
neither is exactly 1 or 0.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from scipy.special import gammainc

from ganjax.data.toy import GaussianMixture
from ganjax.metrics import mmd

# A sample is high quality within this many std of its nearest mode (VEEGAN, PacGAN).
HQ_STDS = 3.0
# The bandwidths of `mixture_mmd`, in units of the modes' std: the kernels resolve the shape of
# one mode (1 std) up to its close surroundings (4 std), and modes further apart than that see
# each other as distinct, so a dropped or unbalanced mode counts as fully as a misshapen one.
MMD_BANDWIDTHS = (1.0, 2.0, 4.0)
# `perfect_mixture_mmd` draws its second true sample from the reference draw's key folded with
# this: independent of the reference, and the same at every evaluation of a run.
PERFECT_DRAW_FOLD = 2_147_483_647

_SPREAD_PROTOCOL = (f"spread_ratio: median over modes with >= 2 HQ samples of "
                    f"sqrt(mean |x - center|^2 / dim) / std of their HQ samples; a perfect "
                    f"sampler gets perfect_spread_ratio(dim, {HQ_STDS:g}) (< 1: the HQ cut)")
_MMD_PROTOCOL = (f"mixture_mmd: sqrt of the biased (V-statistic) MMD^2 of the samples and the "
                 f"reference draw, Gaussian kernels summed over bandwidths std x "
                 f"{MMD_BANDWIDTHS}, float64; mixture_mmd_perfect: the same of a second true "
                 f"draw of as many points (reference key folded with {PERFECT_DRAW_FOLD})")
# One line per `mixture_fidelity` metric, for the protocol record of the evaluations using it.
FIDELITY_PROTOCOL = {"spread_ratio": _SPREAD_PROTOCOL, "mixture_mmd": _MMD_PROTOCOL}


def _nearest_modes(samples: np.ndarray, centers: np.ndarray, std: float, threshold: float
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(nearest mode [N], distance to it [N], high quality [N] bool) of samples [N, dim], in
    float64: the assignment that `mode_coverage` and `mode_spread` share."""
    samples = np.asarray(samples, np.float64).reshape(len(samples), -1)
    centers = np.asarray(centers, np.float64)
    distances = np.sqrt(((samples[:, None, :] - centers[None]) ** 2).sum(-1))
    nearest = distances.argmin(axis=1)
    to_nearest = distances[np.arange(len(samples)), nearest]
    return nearest, to_nearest, to_nearest <= threshold * std


def mode_coverage(samples: np.ndarray, centers: np.ndarray, std: float,
                  threshold: float = HQ_STDS) -> dict[str, float]:
    """The VEEGAN / PacGAN protocol for mixtures of equal-weight Gaussians.

    A sample is high quality if it lies within `threshold` std of its nearest mode; a mode is
    captured if it is the nearest mode of at least one high-quality sample; `mode_kl` is
    KL(histogram of high-quality samples over modes || uniform), NaN when there are none.
    """
    nearest, _, high_quality = _nearest_modes(samples, centers, std, threshold)
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


def mode_spread(samples: np.ndarray, centers: np.ndarray, std: float,
                threshold: float = HQ_STDS) -> float:
    """The spread ratio: how wide the modes are drawn, relative to the data.

    For each mode with at least 2 high-quality samples (as in `mode_coverage`), the RMS
    per-coordinate distance of those samples to its center, sqrt(mean |x - c|^2 / dim),
    divided by `std`; the median over those modes, NaN when no mode has 2. A generator that
    shrinks its modes scores below `perfect_spread_ratio(dim, threshold)`, one that blurs them
    above it (at most threshold / sqrt(dim), every HQ sample on the cut's boundary).
    """
    dim = np.asarray(centers).shape[1]
    nearest, to_nearest, high_quality = _nearest_modes(samples, centers, std, threshold)
    modes, hq = nearest[high_quality], to_nearest[high_quality]
    counts = np.bincount(modes, minlength=len(centers))
    sums = np.bincount(modes, weights=hq ** 2, minlength=len(centers))
    kept = counts >= 2
    if not kept.any():
        return float("nan")
    return float(np.median(np.sqrt(sums[kept] / (counts[kept] * dim)) / std))


def perfect_spread_ratio(dim: int, threshold: float = HQ_STDS) -> float:
    """`mode_spread` of exact samples of an isotropic Gaussian mixture, in the large-sample
    limit: sqrt(E[r^2 | r <= threshold] / dim) with r ~ chi(dim), the distance to the mode in
    units of std.

    The HQ cut keeps only r <= threshold, which trims the tails and so the spread: with
    F_k the chi-square CDF of k degrees of freedom, E[r^2 1{r^2 <= c}] = dim F_{dim+2}(c), so
    the ratio is sqrt(F_{dim+2}(t^2) / F_dim(t^2)), and F_k(c) = gammainc(k / 2, c / 2).
    About 0.974 for dim 2 and threshold 3; 1 as the threshold grows.
    """
    if dim < 1 or threshold <= 0:
        raise ValueError(f"dim={dim}, threshold={threshold}: need dim >= 1 and threshold > 0")
    half_c = threshold ** 2 / 2
    return float(np.sqrt(gammainc(dim / 2 + 1, half_c) / gammainc(dim / 2, half_c)))


# Compiled once per bandwidth set: about 3x faster than op by op at 2,500 x 2,500 on a CPU.
_mmd2 = jax.jit(mmd.mmd2, static_argnums=2)


def _host_device() -> jax.Device | None:
    """This process' first CPU device, or None (the default device) where JAX has no CPU
    backend (JAX_PLATFORMS without cpu)."""
    try:
        return jax.local_devices(backend="cpu")[0]
    except RuntimeError:
        return None


def mixture_mmd(samples: np.ndarray, reference: np.ndarray, std: float) -> float:
    """sqrt of the biased MMD^2 (`ganjax.metrics.mmd.mmd2`) of samples [N, dim] and a draw of
    the true mixture [M, dim], with Gaussian kernels of bandwidths std x MMD_BANDWIDTHS.

    Unlike the HQ fraction, this is small only when the samples have the data's law: shrunk,
    blurred, dropped or unbalanced modes all raise it. The biased estimate is a squared norm,
    so the value is >= 0 and a perfect sampler lands on a positive floor of order 1/sqrt(N)
    (`perfect_mixture_mmd`), which a log axis shows. Computed in float64 on the host CPU
    (x64 scoped to this call, so the process' JAX dtype setting is left alone), since the
    statistic is a small difference of kernel means each about 100 times larger.
    """
    bandwidths = tuple(float(std) * s for s in MMD_BANDWIDTHS)
    samples = np.asarray(samples, np.float64).reshape(len(samples), -1)
    reference = np.asarray(reference, np.float64).reshape(len(reference), -1)
    with jax.enable_x64(True), jax.default_device(_host_device()):
        value = float(_mmd2(jnp.asarray(samples), jnp.asarray(reference), bandwidths))
    return float(np.sqrt(max(value, 0.0)))  # rounding can leave -1e-17


def perfect_mixture_mmd(source: GaussianMixture, reference: np.ndarray, key: jax.Array,
                        num_samples: int) -> float:
    """`mixture_mmd` of a perfect sampler of `num_samples` points against `reference`: a second
    draw of the true mixture, `source.sample(fold_in(key, PERFECT_DRAW_FOLD), num_samples)`,
    where `key` drew `reference`. Deterministic, so curves of one run compare across evals."""
    second = source.sample(jax.random.fold_in(key, PERFECT_DRAW_FOLD), num_samples)
    return mixture_mmd(np.asarray(second, np.float64), reference, source.std)


def mixture_fidelity(samples: np.ndarray, source: GaussianMixture, reference: np.ndarray,
                     key: jax.Array, mmd_perfect: float | None = None) -> dict[str, float]:
    """What the HQ fraction misses, for one evaluation of a mixture: `spread_ratio`
    (`mode_spread`), `mixture_mmd` against the reference draw of the true mixture made with
    `key`, and `mixture_mmd_perfect` (`perfect_mixture_mmd` with as many points as samples).

    `mmd_perfect`: that last value when already known; it depends only on the reference, the
    key and the sample count, so an evaluator with a fixed reference computes it once.
    """
    samples = np.asarray(samples, np.float64).reshape(len(samples), -1)
    if mmd_perfect is None:
        mmd_perfect = perfect_mixture_mmd(source, reference, key, len(samples))
    return {"spread_ratio": mode_spread(samples, source.centers, source.std),
            "mixture_mmd": mixture_mmd(samples, reference, source.std),
            "mixture_mmd_perfect": float(mmd_perfect)}


def sample_moments(samples: np.ndarray) -> dict[str, float]:
    """Mean and std (ddof=1) of 1-D samples, in float64."""
    samples = np.asarray(samples, np.float64).ravel()
    return {"mean": float(samples.mean()), "std": float(samples.std(ddof=1))}
