"""GAN objectives written on D's logits (pre-sigmoid outputs), numerically stable.

Each loss is a pair of pure functions: `discriminator(real_logits, fake_logits)` and
`generator(fake_logits)`, both scalars to minimise. With D(x) = sigmoid(logit):
log D = -softplus(-logit) and log(1 - D) = -softplus(logit), which never overflow.
"""

from __future__ import annotations

from typing import Callable, NamedTuple

import jax
import jax.numpy as jnp

from ganjax import registry

Array = jax.Array


class GANLoss(NamedTuple):
    """The two halves of a GAN objective."""

    discriminator: Callable[[Array, Array], Array]
    generator: Callable[[Array], Array]


def _d_cross_entropy(real_logits: Array, fake_logits: Array) -> Array:
    """-E log D(x) - E log(1 - D(G(z))): the discriminator side of Goodfellow et al. 2014."""
    return jnp.mean(jax.nn.softplus(-real_logits)) + jnp.mean(jax.nn.softplus(fake_logits))


def _g_minimax(fake_logits: Array) -> Array:
    """E log(1 - D(G(z))): the saturating objective of the minimax game."""
    return -jnp.mean(jax.nn.softplus(fake_logits))


def _g_non_saturating(fake_logits: Array) -> Array:
    """-E log D(G(z)): same fixed point, strong gradients early (Goodfellow et al. 2014, Sec. 3)."""
    return jnp.mean(jax.nn.softplus(-fake_logits))


def _d_least_squares(real_logits: Array, fake_logits: Array) -> Array:
    """LSGAN (Mao et al. 2017) with targets a=0 (fake), b=1 (real)."""
    return 0.5 * (jnp.mean((real_logits - 1.0) ** 2) + jnp.mean(fake_logits ** 2))


def _g_least_squares(fake_logits: Array) -> Array:
    """LSGAN generator with target c=1."""
    return 0.5 * jnp.mean((fake_logits - 1.0) ** 2)


def _d_wasserstein(real_logits: Array, fake_logits: Array) -> Array:
    """The critic's estimate of -W1 (Arjovsky et al. 2017); needs a Lipschitz constraint."""
    return jnp.mean(fake_logits) - jnp.mean(real_logits)


def _g_critic_mean(fake_logits: Array) -> Array:
    """-E critic(G(z)), shared by the Wasserstein and hinge generators."""
    return -jnp.mean(fake_logits)


def _d_hinge(real_logits: Array, fake_logits: Array) -> Array:
    """Hinge loss of Lim & Ye 2017 / Miyato et al. 2018."""
    return jnp.mean(jax.nn.relu(1.0 - real_logits)) + jnp.mean(jax.nn.relu(1.0 + fake_logits))


MINIMAX = GANLoss(_d_cross_entropy, _g_minimax)
NON_SATURATING = GANLoss(_d_cross_entropy, _g_non_saturating)
LEAST_SQUARES = GANLoss(_d_least_squares, _g_least_squares)
WASSERSTEIN = GANLoss(_d_wasserstein, _g_critic_mean)
HINGE = GANLoss(_d_hinge, _g_critic_mean)


def get_loss(name: str) -> GANLoss:
    """The loss registered as `name` (`ganjax.registry`); ValueError listing the known ones."""
    try:
        return registry.resolve("loss", name)
    except KeyError as e:
        raise ValueError(e.args[0]) from None
