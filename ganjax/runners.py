"""Compiled chunks of training steps, fed either on device (toys) or from the host (images).

A runner advances a GANState by n steps in one jitted `lax.scan`; the loop asks for chunks that
end at its logging and evaluation boundaries, so only a few chunk lengths are ever compiled.
"""

from __future__ import annotations

from typing import Callable, Iterator

import jax
import ml_collections
import numpy as np

from ganjax.data import BatchSampler, GaussianMixture, prefetch
from ganjax.state import GANState
from ganjax.step import StepFn, make_sampled_train_n_steps, make_train_n_steps

Metrics = dict[str, jax.Array]


def toy_batch_sampler(source: GaussianMixture, config: ml_collections.ConfigDict,
                      data_rng: jax.Array) -> Callable[[jax.Array], dict[str, jax.Array]]:
    """step -> {"x": [d_steps, batch, dim]}: the batch of a step depends on nothing else."""
    k, batch = config.train.d_steps, config.train.batch_size

    def sample(step: jax.Array) -> dict[str, jax.Array]:
        x = source.sample(jax.random.fold_in(data_rng, step), k * batch)
        return {"x": x.reshape(k, batch, source.dim)}

    return sample


class DeviceSampledRunner:
    """Toys: every batch is drawn inside the compiled loop from `fold_in(data_rng, step)`."""

    def __init__(self, step: StepFn, source: GaussianMixture, config: ml_collections.ConfigDict,
                 data_rng: jax.Array):
        self._step = step
        self._sample = toy_batch_sampler(source, config, data_rng)
        self._compiled: dict[int, Callable] = {}

    def run(self, state: GANState, num_steps: int) -> tuple[GANState, Metrics]:
        if num_steps not in self._compiled:
            chunk = make_sampled_train_n_steps(self._step, self._sample, num_steps)
            self._compiled[num_steps] = jax.jit(chunk, donate_argnums=0)
        return self._compiled[num_steps](state)

    def close(self) -> None:
        pass


class HostFedRunner:
    """Images: a background thread reads and decodes batches ahead; chunks are stacked on host."""

    def __init__(self, step: StepFn, sampler: BatchSampler, start_step: int = 0):
        self._train_n_steps = jax.jit(make_train_n_steps(step), donate_argnums=0)
        self._batches: Iterator = prefetch(sampler, start_step, depth=4)

    def run(self, state: GANState, num_steps: int) -> tuple[GANState, Metrics]:
        items = [next(self._batches)[1] for _ in range(num_steps)]
        stacked = {k: np.stack([b[k] for b in items]) for k in items[0]}
        return self._train_n_steps(state, stacked)

    def close(self) -> None:
        self._batches.close()
