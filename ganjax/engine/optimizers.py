"""Optimizers and learning-rate schedules whose numbers are read from the state's hparams.

`Optimizer.update(grads, opt_state, params, hparams)` builds the optax transformation from the
current hyperparameters (so they can be traced arrays: per replica in a sweep, or changed
between chunks) and runs it through `optax.inject_hyperparams`, which keeps the inner state and
counter and records the values it last used inside `opt_state` (handy to inspect; the source
of truth is `TrainState.hparams`). A schedule scales its peak learning rate, which is the
hyperparameter.
"""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import optax

from ganjax.engine.hparams import HParams

from ganjax import registry

OPTIMIZERS = registry.names("optimizer")
SCHEDULES = registry.names("schedule")


def constant(lr: jax.Array | float, total_updates: int, warmup: int) -> optax.ScalarOrSchedule:
    """`lr` itself: a number, so that it is a hyperparameter read at every update."""
    del total_updates, warmup
    return lr


def cosine(lr: jax.Array | float, total_updates: int, warmup: int) -> optax.ScalarOrSchedule:
    """Cosine decay from `lr` to 0 over the run."""
    del warmup
    return optax.cosine_decay_schedule(lr, total_updates)


def linear(lr: jax.Array | float, total_updates: int, warmup: int) -> optax.ScalarOrSchedule:
    """Linear decay from `lr` to 0 over the run."""
    del warmup
    return optax.linear_schedule(lr, 0.0, total_updates)


def warmup_cosine(lr: jax.Array | float, total_updates: int,
                  warmup: int) -> optax.ScalarOrSchedule:
    """Linear warm-up from 0 to `lr` over `warmup` updates, then cosine decay to 0.

    Written as `lr` times the schedule of peak 1, because optax's version branches in Python
    on its peak value, which is a traced hyperparameter here.
    """
    shape = optax.warmup_cosine_decay_schedule(0.0, 1.0, max(warmup, 1), total_updates)
    return lambda count: lr * shape(count)


def make_schedule(name: str, lr: jax.Array | float, total_updates: int,
                  warmup: int) -> optax.ScalarOrSchedule:
    """The learning rate of the registered schedule `name`, peaking at `lr`."""
    try:
        schedule = registry.resolve("schedule", name)
    except KeyError as e:
        raise ValueError(e.args[0]) from None
    return schedule(lr, total_updates, warmup)


@dataclasses.dataclass(frozen=True)
class Optimizer:
    """One player's optimizer: static choices here, numbers in hparams under `lr_key` etc."""

    name: str  # adam | sgd | rmsprop
    lr_key: str  # e.g. "optim.g_lr"
    schedule: str = "constant"
    total_updates: int = 1
    warmup: int = 0
    use_momentum: bool = False  # sgd: with momentum (hparams["optim.momentum"]) or plain

    def __post_init__(self):
        if self.name not in OPTIMIZERS:
            raise ValueError(f"unknown optimizer {self.name!r}; known: {', '.join(OPTIMIZERS)}")

    @property
    def hparam_keys(self) -> tuple[str, ...]:
        """The hparams this optimizer reads."""
        extra = {"adam": ("optim.b1", "optim.b2"),
                 "sgd": ("optim.momentum",) if self.use_momentum else (), "rmsprop": ()}
        return (self.lr_key,) + extra[self.name]

    def _numeric(self, hparams: HParams) -> dict[str, jax.Array]:
        """optax's names for the numeric hyperparameters other than the learning rate."""
        if self.name == "adam":
            return {"b1": hparams["optim.b1"], "b2": hparams["optim.b2"]}
        if self.name == "sgd" and self.use_momentum:
            return {"momentum": hparams["optim.momentum"]}
        return {}

    def _transform(self, hparams: HParams) -> optax.GradientTransformation:
        lr = make_schedule(self.schedule, hparams[self.lr_key], self.total_updates, self.warmup)
        factory = registry.resolve("optimizer", self.name)
        static = {"momentum": None} if self.name == "sgd" and not self.use_momentum else {}
        return optax.inject_hyperparams(factory)(learning_rate=lr, **self._numeric(hparams),
                                                 **static)

    def init(self, params, hparams: HParams):
        """The optimizer state for `params` (holding copies of the hyperparameters, so that no
        buffer appears twice in a state and the state can be donated)."""
        return self._transform(jax.tree.map(jnp.copy, hparams)).init(params)

    @staticmethod
    def learning_rate(opt_state) -> jax.Array:
        """The learning rate the last update used (after the schedule), for the logs."""
        return opt_state.hyperparams["learning_rate"]

    def update(self, grads, opt_state, params, hparams: HParams):
        """(updates, new opt_state), with the hyperparameters of `hparams`."""
        numeric = self._numeric(hparams)
        if self.schedule == "constant":
            numeric["learning_rate"] = hparams[self.lr_key]
        inner = opt_state.hyperparams
        opt_state = opt_state._replace(hyperparams={
            **inner, **{k: v.astype(inner[k].dtype) for k, v in numeric.items()}})
        return self._transform(hparams).update(grads, opt_state, params)
