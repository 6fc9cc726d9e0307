"""The pieces a config describes (networks, noise, loss, penalty, optimizers) and the first state."""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp
import ml_collections
import optax

from ganjax import config as config_lib
from ganjax.losses import GANLoss, get_loss
from ganjax.models import build_models
from ganjax.optim import make_optimizers
from ganjax.penalties import Penalty, get_penalty
from ganjax.state import GANState

PyTree = Any


@dataclasses.dataclass(frozen=True)
class GAN:
    """Static description of one GAN: pure functions and modules, no arrays."""

    generator: nn.Module
    discriminator: nn.Module
    loss: GANLoss
    penalty: Penalty
    penalty_weight: float
    g_tx: optax.GradientTransformation
    d_tx: optax.GradientTransformation
    noise: str
    noise_dim: int
    data_shape: tuple[int, ...]
    d_weight_clip: float
    ema_decay: float

    def sample_noise(self, rng: jax.Array, n: int) -> jax.Array:
        """z ~ N(0, I) or U[-1, 1]^noise_dim, shape [n, noise_dim]."""
        shape = (n, self.noise_dim)
        if self.noise == "uniform":
            return jax.random.uniform(rng, shape, jnp.float32, -1.0, 1.0)
        return jax.random.normal(rng, shape, jnp.float32)

    def generate(self, params: PyTree, batch_stats: PyTree, z: jax.Array,
                 train: bool) -> tuple[jax.Array, PyTree]:
        """G(z) and G's updated batch statistics."""
        return _apply(self.generator, params, batch_stats, z, train)

    def discriminate(self, params: PyTree, batch_stats: PyTree, x: jax.Array,
                     train: bool) -> tuple[jax.Array, PyTree]:
        """D's logits for x and D's updated batch statistics."""
        return _apply(self.discriminator, params, batch_stats, x, train)


def _apply(module: nn.Module, params: PyTree, batch_stats: PyTree, x: jax.Array,
           train: bool) -> tuple[jax.Array, PyTree]:
    """Applies a module; only models with BatchNorm carry (and update) batch statistics."""
    if not batch_stats:
        return module.apply({"params": params}, x, train=train), batch_stats
    variables = {"params": params, "batch_stats": batch_stats}
    if not train:
        return module.apply(variables, x, train=False), batch_stats
    out, updates = module.apply(variables, x, train=True, mutable=["batch_stats"])
    return out, updates["batch_stats"]


def build_gan(config: ml_collections.ConfigDict, data_shape: tuple[int, ...]) -> GAN:
    """The GAN that `config` describes, for data examples of shape `data_shape`."""
    config_lib.validate(config)
    generator, discriminator = build_models(config, data_dim=math.prod(data_shape))
    g_tx, d_tx = make_optimizers(config)
    return GAN(
        generator=generator,
        discriminator=discriminator,
        loss=get_loss(config.loss.name),
        penalty=get_penalty(config.penalty.name),
        penalty_weight=float(config.penalty.weight),
        g_tx=g_tx,
        d_tx=d_tx,
        noise=config.model.noise,
        noise_dim=config.model.noise_dim,
        data_shape=tuple(data_shape),
        d_weight_clip=float(config.optim.d_weight_clip),
        ema_decay=float(config.optim.ema_decay),
    )


def init_state(gan: GAN, rng: jax.Array, init_batch: int = 2) -> GANState:
    """Fresh parameters, optimizer states and a training key, all derived from `rng`."""
    g_rng, d_rng, train_rng = jax.random.split(rng, 3)
    z = jnp.zeros((init_batch, gan.noise_dim), jnp.float32)
    x = jnp.zeros((init_batch * _group(gan),) + gan.data_shape, jnp.float32)
    g_vars = gan.generator.init(g_rng, z, train=False)
    d_vars = gan.discriminator.init(d_rng, x, train=False)
    g_params, d_params = g_vars["params"], d_vars["params"]
    return GANState(
        step=jnp.zeros((), jnp.int32),
        rng=train_rng,
        g_params=g_params,
        d_params=d_params,
        g_batch_stats=g_vars.get("batch_stats", {}),
        d_batch_stats=d_vars.get("batch_stats", {}),
        g_opt_state=gan.g_tx.init(g_params),
        d_opt_state=gan.d_tx.init(d_params),
        g_ema_params=jax.tree.map(jnp.copy, g_params) if gan.ema_decay > 0 else None,
    )


def _group(gan: GAN) -> int:
    """How many samples D folds into one judgement (1 for a per-sample D)."""
    return getattr(gan.discriminator, "group", 1)
