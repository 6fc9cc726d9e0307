"""A discriminator that judges groups of samples instead of single ones (PacGAN packing).

Lin, Khetan, Fanti & Oh 2018 (PacGAN) let D see m samples at once, all real or all generated:
a generator that drops modes makes groups whose members look alike, which a packed D can tell
from real groups even when every single sample is plausible. Any D takes packed input here the
same way: its first layer reads the group's samples side by side along the last axis (feature
axis of a vector, channel axis of an image: PacGAN's PacDCGAN concatenates along channels), so
an MLP's first dense layer and a DCGAN's first conv get `group` times their inputs and nothing
else changes. Two order-free views of a group are offered beside packing: the samples sorted per
coordinate, and the group's mean and std per coordinate (a minibatch-statistics D).

The fields below join an architecture's `CONFIG` when it supports packing (the toys' MLP, the
DCGAN); `check` holds what every packed D needs.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from ganjax.config import one_of, require

# The model.* fields of a D that can pack (added to the CONFIG of the models that do).
CONFIG = {
    # D judges groups of this many samples (1 = a per-sample D), seeing them as: PacGAN
    # packing ("concat"), the group sorted per coordinate ("sorted"), or the group's mean and
    # std per coordinate ("moments").
    "d_group": 1,
    "d_group_features": "concat",
}
GROUP_FEATURES = ("concat", "sorted", "moments")


def group_features(x: jax.Array, group: int, features: str) -> jax.Array:
    """Turns B samples [B, ..., C] into B / group inputs [B / group, ..., F] for a D that
    judges groups: the other axes (an image's height and width) are kept, and the last one holds

    "concat": the group's samples side by side, F = group * C (PacGAN packing);
    "sorted": the same after sorting the group per coordinate (order-free);
    "moments": the group's mean and std per coordinate, F = 2 * C.
    """
    if x.shape[0] % group:
        raise ValueError(f"a batch of {x.shape[0]} does not split into groups of {group}")
    grouped = x.reshape((x.shape[0] // group, group) + x.shape[1:])
    if features == "moments":
        return jnp.concatenate([grouped.mean(axis=1), grouped.std(axis=1)], axis=-1)
    if features == "sorted":
        grouped = jnp.sort(grouped, axis=1)
    elif features != "concat":
        raise ValueError(f"unknown group features {features!r}; known: "
                         f"{', '.join(GROUP_FEATURES)}")
    side_by_side = jnp.moveaxis(grouped, 1, -2)  # [B / group, ..., group, C]
    return side_by_side.reshape(side_by_side.shape[:-2] + (group * x.shape[-1],))


def check(c) -> None:
    """ConfigError for a packing field a config cannot use."""
    m = c.model
    require(isinstance(m.d_group, int) and m.d_group >= 1, "model.d_group",
            "must be an integer >= 1", c)
    require(m.d_group_features in GROUP_FEATURES, "model.d_group_features",
            one_of(GROUP_FEATURES), c)
    require(m.d_group == 1 or c.train.batch_size % m.d_group == 0, "model.d_group",
            f"must divide train.batch_size={c.train.batch_size}", c)
    require(m.d_group >= 2 or m.d_group_features == "concat",
            "model.d_group_features", "sorted/moments need model.d_group >= 2", c)
    require(c.penalty.name == "none" or m.d_group == 1, "penalty.name",
            "gradient penalties need a per-sample D (model.d_group=1)", c)
