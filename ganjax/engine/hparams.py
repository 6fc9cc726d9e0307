"""Numeric hyperparameters as arrays in the state, keyed by the config key that sets them.

Structure (which terms exist, whether the EMA is on, which optimizer) is static and compiled
in; values (learning rates, Adam betas, the penalty weight, the EMA decay, the weight clip,
term weights) are float32 scalars in `TrainState.hparams`. So changing one between chunks, or
giving every replica of a vmapped sweep its own, recompiles nothing.
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping

import jax
import jax.numpy as jnp
import numpy as np

HParams = dict[str, jax.Array]


def read(config: Any, keys: Iterable[str]) -> dict[str, np.ndarray]:
    """{key: float32(config.<key>)} for dotted config keys such as "optim.g_lr"."""
    values = {}
    for key in keys:
        node = config
        for part in key.split("."):
            node = node[part]
        values[key] = np.float32(node)
    return values


def replace_hparams(state: Any, updates: Mapping[str, Any]) -> Any:
    """`state` with some hyperparameters changed; the rest, and every array, as they were.

    Values may be scalars, or [R] arrays for a state stacked over R replicas. Unknown keys raise
    KeyError naming the known ones (only keys the algorithm reads are in the state).
    """
    unknown = sorted(set(updates) - set(state.hparams))
    if unknown:
        raise KeyError(f"unknown hyperparameter(s) {', '.join(unknown)}; this state has "
                       f"{', '.join(sorted(state.hparams))}")
    hparams = dict(state.hparams)
    for key, value in updates.items():
        old = hparams[key]
        hparams[key] = jnp.broadcast_to(jnp.asarray(value, old.dtype), old.shape)
    return state.replace(hparams=hparams)


def read_values(values: Mapping[str, float]) -> HParams:
    """The state's hparams from {key: float}: float32 scalars, in key order."""
    return {key: jnp.asarray(np.float32(values[key])) for key in sorted(values)}
