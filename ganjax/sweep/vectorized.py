"""Many replicas of one GAN as one compiled program: stacked states, a vmapped scanned step.

Replicas of a group share the structure of their state and step (same model, loss, batch size,
d_steps: `ganjax.sweep.grouping`) and differ in their seed (initial parameters, training key,
data stream) and in numeric hyperparameters, which are arrays in the state (`TrainState.hparams`).
So one `jax.vmap` over a state stacked on a leading replica axis trains them all, and each
replica computes exactly what its lone run computes: the same keys, batches and updates, up to
the summation order that batching may change in XLA's kernels.

Devices: the replica axis is split over the "replica" axis of a ("replica", "data") mesh, and
each replica's batch over "data" (`vmap(..., spmd_axis_name="replica")`). With D devices and R
replicas the mesh has gcd(R, D) replica rows, so 8 GPUs train 8 replicas one per device, or 32
replicas four per device; 2 replicas on 8 devices get 2 rows of 4 data-parallel devices each.

Toy data is drawn inside the compiled loop from each replica's data key (as `ganjax train`
does), so a group's chunk is one program with no host round trip.
"""

from __future__ import annotations

import math
from typing import Any, Callable, Sequence

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from ganjax.data import GaussianMixture
from ganjax.engine.rng import data_key
from ganjax.engine.state import TrainState
from ganjax.parallel import DATA_AXIS, REPLICA_AXIS, data_mesh
from ganjax.run.runners import toy_batch_sampler
from ganjax.types import StepFn

Metrics = dict[str, jax.Array]
PyTree = Any


def stack(trees: Sequence[PyTree]) -> PyTree:
    """Trees of one structure stacked on a new leading (replica) axis, as host arrays."""
    return jax.tree.map(lambda *xs: np.stack([np.asarray(x) for x in xs]), *trees)


def unstack(tree: PyTree, index: int) -> PyTree:
    """Replica `index` of a stacked tree."""
    return jax.tree.map(lambda x: x[index], tree)


def replica_mesh(replicas: int, devices: Sequence[jax.Device] | None = None) -> Mesh:
    """The ("replica", "data") mesh for `replicas` stacked states: gcd(replicas, devices) rows."""
    devices = list(jax.devices() if devices is None else devices)
    return data_mesh(devices, replicas=math.gcd(replicas, len(devices)))


def replica_sharding(mesh: Mesh) -> NamedSharding:
    """Leading (replica) axis split over "replica", the rest whole on each row."""
    return NamedSharding(mesh, PartitionSpec(REPLICA_AXIS))


def shard_replicas(tree: PyTree, mesh: Mesh) -> PyTree:
    """A stacked (host) tree placed on `mesh`, replicas split over its "replica" axis."""
    return jax.device_put(tree, replica_sharding(mesh))


class VectorizedToyRunner:
    """Chunks of n steps for a stack of toy-data replicas, one compiled program per chunk length.

    `active` ([R] bools, on by default) freezes replicas: a frozen replica's state stays as it is
    (a diverged point of a sweep stops without stopping its group). Metrics come back as
    [n, R] arrays, the layout `Session` hooks read for stacked states.
    """

    def __init__(self, step: StepFn, source: GaussianMixture,
                 configs: Sequence[ml_collections.ConfigDict], mesh: Mesh):
        self._mesh = mesh
        self._config = configs[0]  # batch size and d_steps: shared by the group
        self._source, self._step = source, step
        self._data_keys = shard_replicas(stack([data_key(c.seed) for c in configs]), mesh)
        self._active = np.ones(len(configs), bool)
        self._compiled: dict[int, Callable] = {}

    def freeze(self, replica: int) -> None:
        """Replica `replica` no longer changes (its next chunks keep its state)."""
        self._active[replica] = False

    @property
    def active(self) -> np.ndarray:
        return self._active.copy()

    def _chunk(self, num_steps: int) -> Callable:
        step, split = self._step, NamedSharding(self._mesh, PartitionSpec(None, DATA_AXIS))

        def one_replica(state: TrainState, key: jax.Array, active: jax.Array):
            sample = toy_batch_sampler(self._source, self._config, key)

            def body(s: TrainState, _: Any) -> tuple[TrainState, Metrics]:
                batch = jax.tree.map(lambda x: jax.lax.with_sharding_constraint(x, split),
                                     sample(s.step))
                new, metrics = step(s, batch)
                return jax.tree.map(lambda n, o: jnp.where(active, n, o), new, s), metrics

            return jax.lax.scan(body, state, None, length=num_steps)

        def chunk(states: TrainState, keys: jax.Array, active: jax.Array):
            states, metrics = jax.vmap(one_replica, spmd_axis_name=REPLICA_AXIS)(
                states, keys, active)
            return states, jax.tree.map(lambda m: jnp.moveaxis(m, 0, 1), metrics)

        sharding = replica_sharding(self._mesh)
        return jax.jit(chunk, donate_argnums=0,
                       out_shardings=(sharding, NamedSharding(self._mesh, PartitionSpec())))

    def run(self, states: TrainState, num_steps: int) -> tuple[TrainState, Metrics]:
        if num_steps not in self._compiled:
            self._compiled[num_steps] = self._chunk(num_steps)
        active = shard_replicas(self._active, self._mesh)
        return self._compiled[num_steps](states, self._data_keys, active)

    def seek(self, step: int) -> None:
        """Nothing to do: every batch follows its replica's step."""
        del step

    def close(self) -> None:
        pass
