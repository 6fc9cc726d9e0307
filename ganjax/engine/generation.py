"""Batches of a generator's samples from fixed noise, compiled once and reused across calls."""

from __future__ import annotations

from typing import Any, Callable

import jax
import numpy as np

from ganjax.engine.gan import GAN
from ganjax.engine.rng import batch_key
from ganjax.parallel import to_host

SamplesFn = Callable[[Any, Any], np.ndarray]


def make_sampler(gan: GAN, key: jax.Array, num: int, batch_size: int) -> SamplesFn:
    """`(g_params, g_batch_stats) -> float32 [num, ...]` in the generator's output range.

    Batch i draws its latent from fold_in(key, i) (labels uniform for a conditional G), so the
    first samples of a larger `num` are those of a smaller one; one program is compiled for all
    batches and all parameters.
    """

    @jax.jit
    def generate(params, stats, i):
        latent = gan.sample_latent(batch_key(key, i), batch_size)
        return gan.generate(params, stats, latent, train=False)[0]

    def sample(params: Any, stats: Any) -> np.ndarray:
        parts = [to_host(generate(params, stats, i)) for i in range(-(-num // batch_size))]
        return np.concatenate(parts)[:num].astype(np.float32)

    return sample


def make_fixed_latent_sampler(gan: GAN, key: jax.Array, num: int) -> SamplesFn:
    """`(g_params, g_batch_stats) -> float32 [num, ...]` from the one latent
    `gan.sample_latent(key, num)`, generated in one call: exactly the samples of a training-time
    evaluation of `num` samples with that key (`ganjax.evaluation.evaluator`)."""

    @jax.jit
    def generate(params, stats):
        return gan.generate(params, stats, gan.sample_latent(key, num), train=False)[0]

    return lambda params, stats: np.asarray(to_host(generate(params, stats)), np.float32)
