"""Data parallelism: one SPMD program over a device mesh, in one process or in several.

The training step is pure, so data parallelism needs no change to it: the state is replicated on
every device of a 1-D mesh with axis "data", the batch is split along its batch axis over that
axis, and `jax.jit` inserts the gradient all-reduces (the sharded `jit` path; `jax.pmap` is in
maintenance mode). Several processes (hosts) run the same program after
`ganjax.parallel.processes.initialize`; each process feeds only its own rows of the global batch
(`ganjax.data.BatchSampler` with `process_index`/`process_count`), and `global_batch` assembles
them into global arrays.

Layout contract (checked by `global_batch`): the mesh orders devices by process, so process p
owns the contiguous block of global rows [p * local, (p + 1) * local), the same rows that
`BatchSampler` gives it (`row_offset = process_index * local_batch_size`).

Sweeps that vmap over stacked states can use a 2-D mesh: `data_mesh(replicas=R)` has axes
("replica", "data"); `replicated` and `batch_sharding` are unchanged (the batch is split over
"data" only, the stacked replica axis of a state would get P("replica")).
"""

from __future__ import annotations

from typing import Any, Sequence

import jax
import numpy as np
from jax.experimental import multihost_utils
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from ganjax.errors import DistributedError
from ganjax.parallel.processes import raise_if_differ

PyTree = Any
DATA_AXIS = "data"
REPLICA_AXIS = "replica"



def data_mesh(devices: Sequence[jax.Device] | None = None, *,
              replicas: int | None = None) -> Mesh:
    """A 1-D mesh ("data",) over all global devices, ordered by process then device id.

    The order makes each process's devices a contiguous block, so its rows of a sharded batch
    are a contiguous block too (see the module docstring). `replicas=R` instead gives a 2-D
    ("replica", "data") mesh of R rows, for vmapped sweeps that also split over devices.
    """
    devices = list(jax.devices() if devices is None else devices)
    devices.sort(key=lambda d: (d.process_index, d.id))
    grid = np.array(devices, dtype=object)
    if replicas is None:
        return Mesh(grid, (DATA_AXIS,))
    if len(devices) % replicas:
        raise ValueError(f"{len(devices)} devices do not split into {replicas} replicas")
    return Mesh(grid.reshape(replicas, -1), (REPLICA_AXIS, DATA_AXIS))


def replicated(mesh: Mesh) -> NamedSharding:
    """Every device holds the whole array: the GANState and the step's metrics."""
    return NamedSharding(mesh, PartitionSpec())


def batch_sharding(mesh: Mesh, batch_axis: int = 1) -> NamedSharding:
    """Axis `batch_axis` split over "data", the others whole.

    batch_axis=1 for a step's batch [d_steps, B, ...]; 2 for stacked chunks [n, d_steps, B, ...].
    """
    if batch_axis < 0:
        raise ValueError(f"batch_axis must be non-negative, got {batch_axis}")
    return NamedSharding(mesh, PartitionSpec(*([None] * batch_axis), DATA_AXIS))


def check_batch_divisible(global_batch: int, mesh: Mesh) -> None:
    """Raises ValueError unless the global batch splits evenly over the "data" devices."""
    n = mesh.shape[DATA_AXIS]
    if global_batch % n == 0:
        return
    below, above = global_batch // n * n, (global_batch // n + 1) * n
    example = f"{below} or {above}" if below else f"{above}"
    raise ValueError(f"train.batch_size={global_batch} is not divisible by the {n} devices of "
                     f"the mesh; use a multiple of {n} (e.g. {example})")


# ---------------------------------------------------------------------------------------------
# Moving data on and off the mesh


def global_batch(local: dict[str, np.ndarray], mesh: Mesh,
                 batch_axis: int = 1) -> dict[str, jax.Array]:
    """Global arrays, split over "data" on `batch_axis`, from this process's rows of the batch.

    Process p gives rows [p * local, (p + 1) * local) of the global batch (BatchSampler's rows);
    the global batch size is local * process_count. In a single process local is global.
    """
    sharding = batch_sharding(mesh, batch_axis)
    out = {}
    for key, value in local.items():
        value = np.asarray(value)
        shape = list(value.shape)
        shape[batch_axis] *= jax.process_count()
        _check_process_rows(sharding, tuple(shape), batch_axis, value.shape[batch_axis])
        out[key] = jax.make_array_from_process_local_data(sharding, value, tuple(shape))
    return out


def _check_process_rows(sharding: NamedSharding, shape: tuple[int, ...], batch_axis: int,
                        local: int) -> None:
    """Checks that this process's devices hold rows [p * local, (p + 1) * local) of the batch."""
    p = jax.process_index()
    rows = [index[batch_axis].indices(shape[batch_axis])[:2]
            for index in sharding.addressable_devices_indices_map(shape).values()]
    span = (min(r[0] for r in rows), max(r[1] for r in rows))
    if span != (p * local, (p + 1) * local):
        raise DistributedError(
            f"process {p}'s devices hold global rows {span[0]}:{span[1]} of the batch, not "
            f"{p * local}:{(p + 1) * local}; build the mesh with ganjax.parallel.data_mesh, "
            f"which orders devices by process")


def replicate(tree: PyTree, mesh: Mesh, *, check_same: bool = True) -> PyTree:
    """`tree` (host arrays, or arrays on one device) replicated on every device of `mesh`.

    Works with several processes: each process builds the shards of its own devices from its
    own copy (`jax.make_array_from_callback`, no communication), so every process must hold the
    same value, as with a state initialised from the same seed or restored from one checkpoint.
    With several processes, `check_same` compares one digest of the whole tree across processes
    (one small collective) and raises DistributedError if they differ. (`jax.device_put` onto the
    replicated sharding also works across processes, but checks equality with one collective
    per leaf, and cannot take an array committed to one device there.)
    """
    sharding = replicated(mesh)
    host = jax.tree.map(_host_leaf, tree)
    if check_same and jax.process_count() > 1:
        leaves = jax.tree.leaves(host)
        raise_if_differ(b"".join(x.tobytes() for x in leaves), "state to replicate",
                         "initialise it from the same seed, or restore it from the same "
                         "checkpoint, on every process")

    def put(leaf: Any) -> Any:
        if isinstance(leaf, _Key):
            return jax.random.wrap_key_data(put(leaf.data), impl=leaf.impl)
        return jax.make_array_from_callback(leaf.shape, sharding, lambda index: leaf[index])

    return jax.tree.map(put, host, is_leaf=lambda x: isinstance(x, _Key))


class _Key:
    """A typed PRNG key array on the host: its raw data and its implementation."""

    def __init__(self, key: jax.Array):
        self.data, self.impl = _fetch(jax.random.key_data(key)), jax.random.key_impl(key)

    def tobytes(self) -> bytes:
        return self.data.tobytes()


def _host_leaf(leaf: Any) -> Any:
    """A leaf as numpy (typed PRNG keys as `_Key`, since numpy cannot hold them)."""
    if isinstance(leaf, jax.Array) and jax.dtypes.issubdtype(leaf.dtype, jax.dtypes.prng_key):
        return _Key(leaf)
    return _fetch(leaf)


def to_host(tree: PyTree) -> PyTree:
    """`tree` as numpy arrays, the same on every process (for metrics, evaluation, checkpoints).

    Replicated arrays are read from a local copy; arrays split across processes are gathered,
    which is a collective: then every process must call it, with the same tree.
    """
    return jax.tree.map(_fetch, tree)


def _fetch(leaf: Any) -> np.ndarray:
    """One leaf as a numpy array on this host."""
    if not isinstance(leaf, jax.Array):
        return np.asarray(leaf)
    if leaf.is_fully_addressable:
        return np.asarray(leaf)
    if leaf.sharding.is_fully_replicated:
        return np.asarray(leaf.addressable_data(0))
    return np.asarray(multihost_utils.process_allgather(leaf, tiled=True))


