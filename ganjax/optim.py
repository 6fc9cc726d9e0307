"""Optimizers and learning-rate schedules for G and D, built from `config.optim`."""

from __future__ import annotations

import ml_collections
import optax


def make_schedule(name: str, lr: float, total_updates: int, warmup: int) -> optax.ScalarOrSchedule:
    """A constant lr stays a float, so it lives in the optimizer state and can differ per replica."""
    if name == "constant":
        return lr
    if name == "cosine":
        return optax.cosine_decay_schedule(lr, total_updates)
    if name == "linear":
        return optax.linear_schedule(lr, 0.0, total_updates)
    if name == "warmup_cosine":
        return optax.warmup_cosine_decay_schedule(0.0, lr, max(warmup, 1), total_updates)
    raise ValueError(f"unknown schedule {name!r}; known: constant, cosine, linear, warmup_cosine")


def make_optimizer(optim: ml_collections.ConfigDict, lr: float, schedule: str,
                   total_updates: int) -> optax.GradientTransformation:
    """`optim.name` with its hyperparameters injected into the state (visible, vmappable)."""
    learning_rate = make_schedule(schedule, lr, total_updates, optim.warmup_steps)
    if optim.name == "adam":
        return optax.inject_hyperparams(optax.adam)(learning_rate=learning_rate, b1=optim.b1,
                                                    b2=optim.b2)
    if optim.name == "sgd":
        return optax.inject_hyperparams(optax.sgd)(learning_rate=learning_rate,
                                                   momentum=optim.momentum or None)
    if optim.name == "rmsprop":
        return optax.inject_hyperparams(optax.rmsprop)(learning_rate=learning_rate)
    raise ValueError(f"unknown optimizer {optim.name!r}; known: adam, sgd, rmsprop")


def make_optimizers(config: ml_collections.ConfigDict) -> tuple[optax.GradientTransformation,
                                                                 optax.GradientTransformation]:
    """(G optimizer, D optimizer); D's schedule counts its d_steps updates per training step."""
    o, steps = config.optim, config.train.steps
    g_tx = make_optimizer(o, o.g_lr, o.g_schedule, steps)
    d_tx = make_optimizer(o, o.d_lr, o.d_schedule, steps * config.train.d_steps)
    return g_tx, d_tx
