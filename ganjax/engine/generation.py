"""Batches of a generator's samples from fixed noise, compiled once and reused across calls."""

from __future__ import annotations

from typing import Any, Callable, Sequence

import jax
import jax.numpy as jnp
import numpy as np

from ganjax.engine.gan import GAN
from ganjax.engine.rng import batch_key
from ganjax.parallel import to_host

SamplesFn = Callable[[Any, Any], np.ndarray]


def make_sampler(gan: GAN, key: jax.Array, num: int, batch_size: int,
                 labels: Sequence[int] | None = None,
                 codes: Sequence[int] | None = None) -> SamplesFn:
    """`(g_params, g_batch_stats) -> float32 [num, ...]` in the generator's output range.

    Batch i draws its latent from fold_in(key, i) (labels uniform for a conditional G), so the
    first samples of a larger `num` are those of a smaller one; one program is compiled for all
    batches and all parameters. `labels` fixes the classes: sample j gets labels[j % len]
    (`cycled`); `codes` fixes InfoGAN's first categorical code the same way.
    """
    fixed_labels = _cycled_array(labels, num, batch_size, gan.latent.num_classes, "labels")
    fixed_codes = _cycled_array(codes, num, batch_size,
                                (gan.latent.code_categories or (0,))[0], "codes")

    @jax.jit
    def generate(params, stats, i):
        latent = gan.sample_latent(batch_key(key, i), batch_size)
        rows = i * batch_size + jnp.arange(batch_size)
        if fixed_labels is not None:
            latent["y"] = fixed_labels[rows]
        if fixed_codes is not None:
            latent["c_cat"] = latent["c_cat"].at[:, 0].set(fixed_codes[rows])
        return gan.generate(params, stats, latent, train=False)[0]

    def sample(params: Any, stats: Any) -> np.ndarray:
        parts = [to_host(generate(params, stats, i)) for i in range(-(-num // batch_size))]
        return np.concatenate(parts)[:num].astype(np.float32)

    return sample


def cycled(values: Sequence[int], num: int) -> np.ndarray:
    """int32 [num]: values[j % len(values)] for j < num (what `ganjax sample --labels` gives)."""
    values = np.asarray(list(values), np.int32)
    return values[np.arange(num) % len(values)]


def _cycled_array(values: Sequence[int] | None, num: int, batch_size: int, size: int,
                  what: str) -> jax.Array | None:
    """`cycled(values)` padded to whole batches, checked against the latent's `size` values."""
    if values is None:
        return None
    if not size:
        raise ValueError(f"{what}: this generator takes no "
                         f"{'class labels' if what == 'labels' else 'categorical codes'}")
    values = list(values)
    if not values or min(values) < 0 or max(values) >= size:
        raise ValueError(f"{what} {values}: each must be in [0, {size - 1}]")
    return jnp.asarray(cycled(values, -(-num // batch_size) * batch_size))


def make_fixed_latent_sampler(gan: GAN, key: jax.Array, num: int) -> SamplesFn:
    """`(g_params, g_batch_stats) -> float32 [num, ...]` from the one latent
    `gan.sample_latent(key, num)`, generated in one call: exactly the samples of a training-time
    evaluation of `num` samples with that key (`ganjax.evaluation.evaluator`)."""

    @jax.jit
    def generate(params, stats):
        return gan.generate(params, stats, gan.sample_latent(key, num), train=False)[0]

    return lambda params, stats: np.asarray(to_host(generate(params, stats)), np.float32)
