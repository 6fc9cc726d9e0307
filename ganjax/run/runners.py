"""Compiled chunks of training steps, fed either on device (toys) or from the host (images).

A runner advances a TrainState by n steps in one jitted `lax.scan`; the loop asks for chunks that
end at its logging and evaluation boundaries, so only a few chunk lengths are ever compiled.
Both run as one SPMD program over a device mesh: the state replicated, each batch split over the
"data" axis, so the step's means (losses, gradients, BatchNorm statistics) are global.
"""

from __future__ import annotations

from typing import Callable, Iterator

import jax
import ml_collections
import numpy as np

from jax.sharding import Mesh

from ganjax.data import BatchSampler, GaussianMixture, prefetch
from ganjax.parallel import batch_sharding, global_batch, replicated
from ganjax.engine.rng import batch_key
from ganjax.engine.state import TrainState
from ganjax.engine.steps import make_sampled_train_n_steps, make_train_n_steps
from ganjax.types import StepFn

Metrics = dict[str, jax.Array]


def toy_batch_sampler(source: GaussianMixture, config: ml_collections.ConfigDict,
                      data_rng: jax.Array) -> Callable[[jax.Array], dict[str, jax.Array]]:
    """step -> {"x": [d_steps, batch, dim], "y": [d_steps, batch]}: the batch of a step depends on
    nothing else. The labels are the mixture components (unused, and compiled away, by an
    unconditional GAN)."""
    k, batch = config.train.d_steps, config.train.batch_size

    def sample(step: jax.Array) -> dict[str, jax.Array]:
        x, y = source.sample_labeled(batch_key(data_rng, step), k * batch)
        return {"x": x.reshape(k, batch, source.dim), "y": y.reshape(k, batch)}

    return sample


class DeviceSampledRunner:
    """Toys: every batch is drawn inside the compiled loop from `fold_in(data_rng, step)`.

    Every process draws the same global batch; the sharding constraint splits the work.
    """

    def __init__(self, step: StepFn, source: GaussianMixture, config: ml_collections.ConfigDict,
                 data_rng: jax.Array, mesh: Mesh):
        self._step = step
        sample = toy_batch_sampler(source, config, data_rng)
        split = batch_sharding(mesh, batch_axis=1)
        self._sample = lambda step: jax.tree.map(
            lambda x: jax.lax.with_sharding_constraint(x, split), sample(step))
        self._replicated = replicated(mesh)
        self._compiled: dict[int, Callable] = {}

    def run(self, state: TrainState, num_steps: int) -> tuple[TrainState, Metrics]:
        if num_steps not in self._compiled:
            chunk = make_sampled_train_n_steps(self._step, self._sample, num_steps)
            self._compiled[num_steps] = jax.jit(chunk, donate_argnums=0,
                                                out_shardings=self._replicated)
        return self._compiled[num_steps](state)

    def seek(self, step: int) -> None:
        """Continue from `step`: nothing to do, the batches follow the state's step."""
        del step

    def close(self) -> None:
        pass


class HostFedRunner:
    """Images: a background thread reads and decodes batches ahead; chunks are stacked on host.

    Each process reads only its own rows of every batch ([n, d_steps, local, ...]); they are
    assembled into global arrays split over the mesh's "data" axis.
    """

    def __init__(self, step: StepFn, sampler: BatchSampler, mesh: Mesh, start_step: int = 0):
        self._mesh, self._sampler = mesh, sampler
        self._train_n_steps = jax.jit(make_train_n_steps(step), donate_argnums=0,
                                      out_shardings=replicated(mesh))
        self._batches: Iterator = prefetch(sampler, start_step, depth=4)

    def run(self, state: TrainState, num_steps: int) -> tuple[TrainState, Metrics]:
        items = [next(self._batches)[1] for _ in range(num_steps)]
        stacked = {k: np.stack([b[k] for b in items]) for k in items[0]}
        return self._train_n_steps(state, global_batch(stacked, self._mesh, batch_axis=2))

    def seek(self, step: int) -> None:
        """Continue from `step`: the reader restarts there (the compiled chunks are kept)."""
        self._batches.close()
        self._batches = prefetch(self._sampler, step, depth=4)

    def close(self) -> None:
        self._batches.close()
