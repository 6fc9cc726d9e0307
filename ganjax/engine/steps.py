"""Steps composed over time: many steps in one `lax.scan`, and a guard against NaN/Inf updates.

These wrap any algorithm's `step(state, batch)`, so every algorithm gets scanning, on-device
batch sampling and `nan_policy=skip` for free.
"""

from __future__ import annotations

from typing import Any, Callable

import jax
import jax.numpy as jnp

from ganjax.engine.state import TrainState
from ganjax.types import Batch, Metrics, StepFn


def skip_nonfinite(step: StepFn) -> StepFn:
    """`step` that keeps the old parameters when a metric or a new parameter is NaN/Inf.

    The step counter and key still advance, so the next step sees a new batch; `metrics["skipped"]`
    is 1 for a skipped step (its other metrics show the non-finite values that caused it).
    """

    def guarded(state: TrainState, batch: Batch) -> tuple[TrainState, Metrics]:
        new, metrics = step(state, batch)
        leaves = jax.tree.leaves((metrics, new.params))
        finite = jnp.all(jnp.stack([jnp.all(jnp.isfinite(x)) for x in leaves]))
        kept = jax.tree.map(lambda n, o: jnp.where(finite, n, o), new, state)
        kept = kept.replace(step=new.step, rng=new.rng)
        return kept, {**metrics, "skipped": 1.0 - finite.astype(jnp.float32)}

    return guarded


def make_train_n_steps(step: StepFn) -> Callable[[TrainState, Batch], tuple[TrainState, Metrics]]:
    """Runs `step` over batches stacked on a leading axis [n, k, B, ...] in one lax.scan."""

    def train_n_steps(state: TrainState, batches: Batch) -> tuple[TrainState, Metrics]:
        return jax.lax.scan(step, state, batches)

    return train_n_steps


def make_sampled_train_n_steps(step: StepFn, sample_batch: Callable[[jax.Array], Batch],
                               num_steps: int) -> Callable[[TrainState], tuple[TrainState,
                                                                               Metrics]]:
    """`num_steps` steps whose batches are drawn on device by `sample_batch(state.step)`.

    For sources that sample from a key (the toy distributions) this fuses data and update into
    one compiled loop with no host round trip; batch i depends only on i, so resuming is exact.
    """

    def body(state: TrainState, _: Any) -> tuple[TrainState, Metrics]:
        return step(state, sample_batch(state.step))

    def train_n_steps(state: TrainState) -> tuple[TrainState, Metrics]:
        return jax.lax.scan(body, state, None, length=num_steps)

    return train_n_steps
