"""Gradient penalties on the discriminator: WGAN-GP, R1, R2, DRAGAN.

Each penalty is `penalty(d_fn, real, fake, rng) -> scalar`, where `d_fn` maps a batch of inputs to
one logit per example. Input gradients come from `jax.grad` of the summed logits, which gives
per-example gradients because D treats examples independently (a BatchNorm or grouped D does not;
the config validation refuses that combination).
"""

from __future__ import annotations

from typing import Callable

import jax
import jax.numpy as jnp

from ganjax import registry

Array = jax.Array
DiscriminatorFn = Callable[[Array], Array]
Penalty = Callable[[DiscriminatorFn, Array, Array, Array], Array]


def input_gradient_norms(d_fn: DiscriminatorFn, x: Array) -> Array:
    """||dD(x_i)/dx_i||_2 for every example i, shape [batch]."""
    grads = jax.grad(lambda inputs: jnp.sum(d_fn(inputs)))(x)
    squared = jnp.sum(jnp.reshape(grads, (grads.shape[0], -1)) ** 2, axis=1)
    # The tiny epsilon keeps d sqrt / d x finite where the gradient vanishes.
    return jnp.sqrt(squared + 1e-12)


def _per_example(rng: Array, x: Array, minval: float = 0.0, maxval: float = 1.0) -> Array:
    """One uniform number per example, broadcastable against x."""
    shape = (x.shape[0],) + (1,) * (x.ndim - 1)
    return jax.random.uniform(rng, shape, x.dtype, minval, maxval)


def wgan_gp(d_fn: DiscriminatorFn, real: Array, fake: Array, rng: Array) -> Array:
    """E (||grad D(x_hat)|| - 1)^2 on random interpolates of real and fake (Gulrajani et al. 2017)."""
    eps = _per_example(rng, real)
    x_hat = eps * real + (1.0 - eps) * fake
    return jnp.mean((input_gradient_norms(d_fn, x_hat) - 1.0) ** 2)


def r1(d_fn: DiscriminatorFn, real: Array, fake: Array, rng: Array) -> Array:
    """1/2 E ||grad D(x)||^2 on real data (Mescheder et al. 2018); the weight is their gamma."""
    del fake, rng
    return 0.5 * jnp.mean(input_gradient_norms(d_fn, real) ** 2)


def r2(d_fn: DiscriminatorFn, real: Array, fake: Array, rng: Array) -> Array:
    """1/2 E ||grad D(x)||^2 on generated data (Mescheder et al. 2018)."""
    del real, rng
    return 0.5 * jnp.mean(input_gradient_norms(d_fn, fake) ** 2)


def dragan(d_fn: DiscriminatorFn, real: Array, fake: Array, rng: Array) -> Array:
    """E (||grad D(x + a*delta)|| - 1)^2 near the data (Kodali et al. 2017).

    delta ~ 0.5 * std(real) * U[0, 1) elementwise, a ~ U[0, 1) per example, as in the authors' code.
    """
    del fake
    noise_rng, alpha_rng = jax.random.split(rng)
    delta = 0.5 * jnp.std(real) * jax.random.uniform(noise_rng, real.shape, real.dtype)
    x_hat = real + _per_example(alpha_rng, real) * delta
    return jnp.mean((input_gradient_norms(d_fn, x_hat) - 1.0) ** 2)


def no_penalty(d_fn: DiscriminatorFn, real: Array, fake: Array, rng: Array) -> Array:
    """Zero, so that the step has one shape whatever the config."""
    del d_fn, fake, rng
    return jnp.zeros((), real.dtype)


def get_penalty(name: str) -> Penalty:
    """The penalty registered as `name` (`ganjax.registry`); ValueError listing the known ones."""
    try:
        return registry.resolve("penalty", name)
    except KeyError as e:
        raise ValueError(e.args[0]) from None
