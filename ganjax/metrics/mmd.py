"""Maximum mean discrepancy (Gretton et al. 2012) under a sum of Gaussian kernels, in jax.numpy.

What generative moment matching networks minimise (Li, Swersky & Zemel 2015): the MMD between a
generated batch and a real batch, with k(a, b) = sum_s exp(-|a - b|^2 / (2 s^2)) over several
bandwidths s so that one kernel covers several length scales. Examples of any shape are
flattened to vectors. Pairwise squared distances come from |a|^2 + |b|^2 - 2 a.b (one matmul,
no [n, m, d] intermediate) and are clamped at 0 against rounding. Pure and differentiable:
`mmd_term` makes it a generator's objective term, the GMMN's whole objective
(`ganjax.models.gmmn`) or one beside a GAN's loss (`loss.g_mmd_weight`, added by the engine);
unlike the float64 numpy statistics beside it, it runs in the inputs' dtype on device.
"""

from __future__ import annotations

from typing import Sequence

import jax
import jax.numpy as jnp

from ganjax.types import Term

Array = jax.Array

# sqrt(max(MMD^2, eps)): the gradient of sqrt at 0 is infinite, and the biased estimate of a
# batch against itself is exactly 0.
SQRT_EPS = 1e-8


def _flat(x: Array) -> Array:
    return jnp.reshape(x, (x.shape[0], -1))


def _checked(bandwidths: Sequence[float]) -> tuple[float, ...]:
    bandwidths = tuple(float(s) for s in bandwidths)
    if not bandwidths or min(bandwidths) <= 0:
        raise ValueError(f"bandwidths {bandwidths}: need at least one, all > 0")
    return bandwidths


def squared_distances(a: Array, b: Array) -> Array:
    """|a_i - b_j|^2 for every pair of rows of a [n, ...] and b [m, ...], shape [n, m], >= 0."""
    a, b = _flat(a), _flat(b)
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"examples of {a.shape[1]} and {b.shape[1]} values cannot be compared")
    a_sq = jnp.sum(a * a, axis=1)[:, None]
    b_sq = jnp.sum(b * b, axis=1)[None, :]
    # Full precision even where f32 matmuls default to TF32 (GPUs): the difference cancels.
    ab = jnp.matmul(a, b.T, precision=jax.lax.Precision.HIGHEST)
    return jnp.maximum(a_sq + b_sq - 2.0 * ab, 0.0)


def gaussian_kernel(a: Array, b: Array, bandwidths: Sequence[float]) -> Array:
    """[n, m] matrix of sum_s exp(-|a_i - b_j|^2 / (2 s^2)) over the bandwidths s."""
    d2 = squared_distances(a, b)
    return sum(jnp.exp(-d2 / (2.0 * float(s) ** 2)) for s in _checked(bandwidths))


def mmd2(x: Array, y: Array, bandwidths: Sequence[float]) -> Array:
    """Biased (V-statistic) MMD^2 of samples x [n, ...] and y [m, ...]: the means of the full
    kernel matrices, mean k(x, x') + mean k(y, y') - 2 mean k(x, y). >= 0, and 0 for x == y."""
    return (gaussian_kernel(x, x, bandwidths).mean() + gaussian_kernel(y, y, bandwidths).mean()
            - 2.0 * gaussian_kernel(x, y, bandwidths).mean())


def mmd2_unbiased(x: Array, y: Array, bandwidths: Sequence[float]) -> Array:
    """Unbiased (U-statistic) MMD^2 (n, m >= 2): within-sample means leave out the diagonal,
    so the estimate has expectation MMD^2 and may be slightly negative for equal laws."""
    n, m = x.shape[0], y.shape[0]
    if n < 2 or m < 2:
        raise ValueError(f"the unbiased MMD needs >= 2 examples per sample, got {n} and {m}")
    k_xx, k_yy = gaussian_kernel(x, x, bandwidths), gaussian_kernel(y, y, bandwidths)
    within_x = (k_xx.sum() - jnp.trace(k_xx)) / (n * (n - 1))
    within_y = (k_yy.sum() - jnp.trace(k_yy)) / (m * (m - 1))
    return within_x + within_y - 2.0 * gaussian_kernel(x, y, bandwidths).mean()


def mmd_loss(x: Array, y: Array, bandwidths: Sequence[float], eps: float = SQRT_EPS) -> Array:
    """sqrt(max(biased MMD^2, eps)): the objective Li et al. 2015 minimise (the MMD itself,
    whose gradient does not vanish as quickly as MMD^2's when the samples get close)."""
    return jnp.sqrt(jnp.maximum(mmd2(x, y, bandwidths), eps))


__all__ = ["gaussian_kernel", "mmd2", "mmd2_unbiased", "mmd_loss", "squared_distances"]


def mmd_term(bandwidths: Sequence[float], weight_key: str = "model.mmd_weight") -> Term:
    """A generator's objective term "mmd": `mmd_loss` between `GInputs.fake_x` and the batch's
    "x", weighted by the hyperparameter `weight_key` (the GMMN's whole objective, or an extra
    term beside a GAN's loss with `loss.g_mmd_weight`)."""
    bandwidths = tuple(float(s) for s in bandwidths)
    return Term("mmd", lambda i: mmd_loss(i.fake_x, i.batch["x"], bandwidths), weight_key)
