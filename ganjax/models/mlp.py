"""MLP generator and discriminator for the toy experiments (1-D Gaussian, 2-D mixtures)."""

from __future__ import annotations

from typing import Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp

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
    """Maps noise [B, noise_dim] to samples [B, out_dim] with a linear output layer."""

    hidden: Sequence[int]
    out_dim: int
    activation: str = "relu"

    @nn.compact
    def __call__(self, z: jax.Array, train: bool = True) -> jax.Array:
        del train  # no BatchNorm or dropout; the flag keeps one signature for every model
        return nn.Dense(self.out_dim)(_mlp(z, self.hidden, self.activation))


def group_features(x: jax.Array, group: int, features: str) -> jax.Array:
    """Turns [B, dim] samples into [B / group, F] inputs for a D that judges groups.

    "concat": the group's samples side by side (PacGAN packing, Lin et al. 2018);
    "sorted": the group's samples sorted per coordinate (order-free view of the empirical law);
    "moments": the group's mean and std per coordinate (the seed's minibatch-statistics D).
    """
    x = x.reshape(x.shape[0] // group, group, -1)
    if features == "concat":
        return x.reshape(x.shape[0], -1)
    if features == "sorted":
        return jnp.sort(x, axis=1).reshape(x.shape[0], -1)
    if features == "moments":
        return jnp.concatenate([x.mean(axis=1), x.std(axis=1)], axis=-1)
    raise ValueError(f"unknown group features {features!r}; known: concat, sorted, moments")


class MLPDiscriminator(nn.Module):
    """Maps samples [B, dim] to logits [B / group]; group=1 is the ordinary per-sample D."""

    hidden: Sequence[int]
    activation: str = "relu"
    group: int = 1
    group_features: str = "concat"

    @nn.compact
    def __call__(self, x: jax.Array, train: bool = True) -> jax.Array:
        del train
        x = x.reshape(x.shape[0], -1)
        if self.group > 1:
            x = group_features(x, self.group, self.group_features)
        return nn.Dense(1)(_mlp(x, self.hidden, self.activation))[:, 0]
