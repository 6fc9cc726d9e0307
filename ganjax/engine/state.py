"""TrainState: everything that changes during training, as one pytree.

Players are named ("g", "d"; a generator-only algorithm has just "g"), so one state type,
one checkpoint format and one sampler serve every algorithm. Numeric hyperparameters live in
`hparams` (arrays keyed by their config key, e.g. "optim.g_lr", "penalty.weight"), so stacking
states along a new leading axis and `jax.vmap`-ing the step sweeps seeds and hyperparameters in
one compiled program.
"""

from __future__ import annotations

from typing import Any

import flax.struct
import jax

PyTree = Any


@flax.struct.dataclass
class TrainState:
    """Immutable training state.

    `params`, `batch_stats` and `opt_state` map a player's name to its trees (`batch_stats[p]`
    is an empty dict for a model without BatchNorm or spectral norm); `ema_params` is the EMA
    of G's params, or None when the EMA is off; `rng` is a raw uint32 key, so that checkpoints
    stay plain arrays.
    """

    step: jax.Array
    rng: jax.Array
    params: dict[str, PyTree]
    batch_stats: dict[str, PyTree]
    opt_state: dict[str, PyTree]
    hparams: dict[str, jax.Array]
    ema_params: PyTree = None

    @property
    def players(self) -> tuple[str, ...]:
        """The names of the trained networks, e.g. ("d", "g")."""
        return tuple(sorted(self.params))

    def generator_params(self, use_ema: bool = True) -> PyTree:
        """G's EMA params when there are some and `use_ema`, else its raw params."""
        return self.ema_params if use_ema and self.ema_params is not None else self.params["g"]

    def uses_ema(self, use_ema: bool = True) -> bool:
        """Whether `generator_params(use_ema)` picks the EMA generator."""
        return use_ema and self.ema_params is not None


GANState = TrainState  # the name the first engine used
