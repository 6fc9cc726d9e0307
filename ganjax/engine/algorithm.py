"""The algorithm interface: `GANAlgorithm(init, step)`, and the registry of algorithms by name.

An algorithm turns a static `GAN` into two pure functions: `init(rng) -> TrainState` and
`step(state, batch) -> (state, metrics)`. Everything above the engine (runners, the session,
checkpoints, sampling, evaluation) sees only these and the `TrainState`, so a new training
scheme is one new file with a `make_<name>(gan) -> GANAlgorithm`, registered in
`ganjax.registry` under "algorithm".
"""

from __future__ import annotations

import dataclasses
from typing import Callable

import jax
import jax.numpy as jnp

from ganjax.engine.gan import GAN, init_variables
from ganjax.engine.hparams import read_values
from ganjax.engine.rng import init_key
from ganjax.engine.state import TrainState
from ganjax.types import Array, Batch, Metrics, StepFn


@dataclasses.dataclass(frozen=True)
class GANAlgorithm:
    """A training scheme for a GAN: its first state and its pure step.

    `probe(state, x, y=None) -> {name: [N] array}` gives per-example diagnostics that evaluation
    may show, e.g. {"d_prob": sigmoid(D(x, y))} for an adversarial algorithm (y: the labels of
    a conditional model's examples); {} when there are none.
    """

    name: str
    gan: GAN
    init: Callable[[Array], TrainState]
    step: StepFn
    probe: Callable[..., dict[str, Array]]


def no_probe(state: TrainState, x: Array, y: Array | None = None) -> dict[str, Array]:
    """Diagnostics of an algorithm without a critic: none."""
    del state, x, y
    return {}


def init_state(gan: GAN, rng: Array, init_batch: int = 2) -> TrainState:
    """Fresh networks, optimizer states, hyperparameters and a training key, all from `rng`.

    The key splits as (G init, D init, training); a generator-only GAN leaves the D key unused,
    so every algorithm draws the same G for the same seed.
    """
    g_rng, d_rng, train_rng = jax.random.split(rng, 3)
    variables = init_variables(gan, g_rng, d_rng, init_batch)
    hparams = read_values(gan.hparam_values)
    params = {p: v["params"] for p, v in variables.items()}
    optimizers = {"g": gan.g_optimizer, "d": gan.d_optimizer}
    return TrainState(
        step=jnp.zeros((), jnp.int32),
        rng=train_rng,
        params=params,
        batch_stats={p: v.get("batch_stats", {}) for p, v in variables.items()},
        opt_state={p: optimizers[p].init(params[p], hparams) for p in params},
        hparams=hparams,
        ema_params=jax.tree.map(jnp.copy, params["g"]) if gan.ema else None,
    )


def initial_state(algorithm: GANAlgorithm, seed: int) -> TrainState:
    """The first state of a run from its seed's init key (`ganjax.engine.rng.init_key`); also
    the target structure that checkpoints are restored into.

    One compiled program instead of dozens of eagerly compiled initialiser ops.
    """
    return jax.jit(algorithm.init)(init_key(seed))


def ema_update(state: TrainState, g_params) -> TrainState:
    """The EMA of G after an update: decay * ema + (1 - decay) * params, decay in hparams."""
    if state.ema_params is None:
        return state
    decay = state.hparams["optim.ema_decay"]
    ema = jax.tree.map(lambda old, new: (1.0 - decay) * new + decay * old, state.ema_params,
                       g_params)
    return state.replace(ema_params=ema)


def build_algorithm(gan: GAN) -> GANAlgorithm:
    """The algorithm `gan.algorithm` names, from the registry."""
    from ganjax import registry

    return registry.resolve("algorithm", gan.algorithm)(gan)


__all__ = ["Batch", "GANAlgorithm", "Metrics", "build_algorithm", "ema_update", "init_state",
           "initial_state", "no_probe"]
