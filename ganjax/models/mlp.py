"""MLP generator and discriminator for the toy experiments (1-D Gaussian, 2-D mixtures)."""

from __future__ import annotations

from typing import Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from ganjax.config import is_toy, layer_widths, one_of, require
from ganjax.models import packing
from ganjax.types import DOut, Latent, Networks

# The fields of config.model this module owns (base_config(model="mlp") adds them); D may judge
# groups of samples (`ganjax.models.packing`: PacGAN packing, sorted groups or group moments).
CONFIG = {
    "g_hidden": (128, 128),
    "d_hidden": (128, 128),
    "g_activation": "relu",
    "d_activation": "relu",
    **packing.CONFIG,
}

ACTIVATIONS = {
    "relu": nn.relu,
    "leaky_relu": lambda x: nn.leaky_relu(x, 0.2),
    "tanh": jnp.tanh,
    "elu": nn.elu,
    "softplus": nn.softplus,
}


def _mlp(x: jax.Array, widths: Sequence[int], activation: str) -> jax.Array:
    """Dense layers with `activation` between them (none after the last)."""
    for width in widths:
        x = ACTIVATIONS[activation](nn.Dense(width)(x))
    return x


class MLPGenerator(nn.Module):
    """Maps the latent's noise {"z": [B, noise_dim]} to samples [B, out_dim], linear output."""

    hidden: Sequence[int]
    out_dim: int
    activation: str = "relu"

    @nn.compact
    def __call__(self, latent: Latent, train: bool = True) -> jax.Array:
        del train  # no BatchNorm or dropout; the flag keeps one signature for every model
        return nn.Dense(self.out_dim)(_mlp(latent["z"], self.hidden, self.activation))


class MLPDiscriminator(nn.Module):
    """Maps samples [B, dim] to DOut(logits [B / group], last hidden layer); group=1 is the
    ordinary per-sample D (unconditional: heads in `ganjax.models.heads` add labels)."""

    hidden: Sequence[int]
    activation: str = "relu"
    group: int = 1
    group_features: str = "concat"

    @nn.compact
    def __call__(self, x: jax.Array, y: jax.Array | None = None, train: bool = True) -> DOut:
        del y, train
        x = x.reshape(x.shape[0], -1)
        if self.group > 1:
            x = packing.group_features(x, self.group, self.group_features)
        logit = nn.Dense(1)  # created first: it is "Dense_0", as in the first ganjax engine
        features = _mlp(x, self.hidden, self.activation)
        return DOut(logit(features)[:, 0], features)


def check(c) -> None:
    """ConfigError for an MLP field (or a data source) this model cannot use."""
    require(is_toy(c), "model.name", "mlp is for the toy sources; image data needs dcgan or "
            "sngan", c)
    for key in ("g_hidden", "d_hidden"):
        require(layer_widths(c.model[key]), f"model.{key}",
                "must be a tuple of positive layer widths, e.g. (128, 128)", c)
    for key in ("g_activation", "d_activation"):
        require(c.model[key] in ACTIVATIONS, f"model.{key}", one_of(ACTIVATIONS), c)
    packing.check(c)
    require(c.model.g_conditioning != "batch_norm", "model.g_conditioning",
            "the MLP generator has no BatchNorm to condition; use concat", c)


def build(config, data_shape: tuple[int, ...]) -> Networks:
    """MLP G and D for samples of `data_shape` (flattened)."""
    m = config.model
    data_dim = int(np.prod(data_shape))
    return Networks(
        MLPGenerator(hidden=tuple(m.g_hidden), out_dim=data_dim, activation=m.g_activation),
        MLPDiscriminator(hidden=tuple(m.d_hidden), activation=m.d_activation, group=m.d_group,
                         group_features=m.d_group_features),
        d_group=m.d_group)
