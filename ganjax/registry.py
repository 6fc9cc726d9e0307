"""One registry of every named piece a config can choose, as import paths: no JAX needed.

`names(kind)` lists what `config.validate` allows for a field (the lists are derived from here,
never copied); `resolve(kind, name)` imports the piece only when it is built. Users and tests
add their own pieces with `register(kind, name, target)` where target is "module:attribute" or
the object itself, big_vision-style, without editing ganjax.

Kinds and what a piece is:
  model      a module with `build(config, data_shape) -> ganjax.types.Networks`, `CONFIG`
             (its `model.*` defaults) and `check(config)`
  loss       a `GANLoss` (pair of pure functions of D's logits)
  penalty    `penalty(d_fn, real, fake, rng) -> scalar`
  algorithm  `make(gan) -> GANAlgorithm`
  toy        `make(data_config) -> GaussianMixture` (sources sampled on device)
  optimizer  an optax optimizer factory taking learning_rate and its numeric hyperparameters
  schedule   `schedule(lr, total_updates, warmup) -> lr or optax schedule`
"""

from __future__ import annotations

import importlib
from typing import Any

_REGISTRY: dict[str, dict[str, Any]] = {
    "model": {
        "mlp": "ganjax.models.mlp",
        "dcgan": "ganjax.models.dcgan",
        "sngan": "ganjax.models.sngan",
        "gmmn": "ganjax.models.gmmn",
    },
    "loss": {
        "minimax": "ganjax.engine.losses:MINIMAX",
        "non_saturating": "ganjax.engine.losses:NON_SATURATING",
        "least_squares": "ganjax.engine.losses:LEAST_SQUARES",
        "wasserstein": "ganjax.engine.losses:WASSERSTEIN",
        "hinge": "ganjax.engine.losses:HINGE",
    },
    "penalty": {
        "none": "ganjax.engine.penalties:no_penalty",
        "wgan_gp": "ganjax.engine.penalties:wgan_gp",
        "r1": "ganjax.engine.penalties:r1",
        "r2": "ganjax.engine.penalties:r2",
        "dragan": "ganjax.engine.penalties:dragan",
    },
    "algorithm": {
        "adversarial": "ganjax.engine.adversarial:make_adversarial",
        "generator_only": "ganjax.engine.generator_only:make_generator_only",
        "code_matching": "ganjax.engine.code_matching:make_code_matching",
    },
    "toy": {
        "gaussian_1d": "ganjax.data.toy:gaussian_1d_from_config",
        "ring": "ganjax.data.toy:ring_from_config",
        "grid": "ganjax.data.toy:grid_from_config",
    },
    "optimizer": {"adam": "optax:adam", "sgd": "optax:sgd", "rmsprop": "optax:rmsprop"},
    "schedule": {name: f"ganjax.engine.optimizers:{name}"
                 for name in ("constant", "cosine", "linear", "warmup_cosine")},
}


def kinds() -> tuple[str, ...]:
    """The kinds of pieces, e.g. ("model", "loss", ...)."""
    return tuple(_REGISTRY)


def names(kind: str) -> tuple[str, ...]:
    """The registered names of `kind`, in registration order."""
    return tuple(_REGISTRY[kind])


def register(kind: str, name: str, target: Any) -> None:
    """Adds (or replaces) a piece: target is "module" / "module:attribute" or the object."""
    if kind not in _REGISTRY:
        raise KeyError(f"unknown kind {kind!r}; kinds: {', '.join(_REGISTRY)}")
    _REGISTRY[kind][name] = target


def unregister(kind: str, name: str) -> None:
    """Removes a piece added with `register` (tests clean up with this)."""
    _REGISTRY[kind].pop(name, None)


def resolve(kind: str, name: str) -> Any:
    """The piece itself, imported on first use; KeyError listing the known names."""
    if name not in _REGISTRY.get(kind, {}):
        raise KeyError(f"unknown {kind} {name!r}; known: {', '.join(names(kind))}")
    target = _REGISTRY[kind][name]
    if not isinstance(target, str):
        return target
    module, _, attribute = target.partition(":")
    loaded = importlib.import_module(module)
    return getattr(loaded, attribute) if attribute else loaded
