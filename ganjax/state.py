"""GANState: everything that changes during training, as one pytree."""

from __future__ import annotations

from typing import Any

import flax.struct
import jax

PyTree = Any


@flax.struct.dataclass
class GANState:
    """Immutable training state. Stack many along a new leading axis to vmap over replicas.

    `g_ema_params` is None when the EMA generator is off; `*_batch_stats` are empty dicts for
    models without BatchNorm; `rng` is a raw uint32 key so that checkpoints stay plain arrays.
    """

    step: jax.Array
    rng: jax.Array
    g_params: PyTree
    d_params: PyTree
    g_batch_stats: PyTree
    d_batch_stats: PyTree
    g_opt_state: PyTree
    d_opt_state: PyTree
    g_ema_params: PyTree = None
