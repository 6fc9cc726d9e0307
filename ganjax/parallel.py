"""Data parallelism: one SPMD program over a device mesh, in one process or in several.

The training step is pure, so data parallelism needs no change to it: the state is replicated on
every device of a 1-D mesh with axis "data", the batch is split along its batch axis over that
axis, and `jax.jit` inserts the gradient all-reduces (the sharded `jit` path; `jax.pmap` is in
maintenance mode). Several processes (hosts) run the same program after `initialize`; each
process feeds only its own rows of the global batch (`ganjax.data.BatchSampler` with
`process_index`/`process_count`), and `global_batch` assembles them into global arrays.

Layout contract (checked by `global_batch`): the mesh orders devices by process, so process p
owns the contiguous block of global rows [p * local, (p + 1) * local), the same rows that
`BatchSampler` gives it (`row_offset = process_index * local_batch_size`).

What jax 0.10.2 does when things go wrong in `jax.distributed.initialize` (why `initialize`
checks first): an unreachable coordinator, or peers that never connect, do not raise; the client
aborts the whole process (SIGABRT, "DEADLINE_EXCEEDED ... RegisterTask") once
`initialization_timeout` has passed. A coordinator port that is already in use crashes process 0
(SIGSEGV after "Failed to add port to server"). Neither can be caught in Python, so:

* process 0 first checks that it can bind the coordinator port (`DistributedError` if not);
* the other processes first probe the coordinator's TCP port until the deadline
  (`DistributedError` naming the address if it never answers);
* a watchdog thread covers what is left (the port answers but the other processes never
  connect): at the deadline it prints one line saying what is missing and exits with status
  `EXIT_INIT_TIMEOUT`, a few seconds before JAX's own abort.

Sweeps that vmap over stacked states can later use a 2-D mesh: `data_mesh(replicas=R)` has axes
("replica", "data"); `replicated` and `batch_sharding` are unchanged (the batch is split over
"data" only, the stacked replica axis of a state would get P("replica")).
"""

from __future__ import annotations

import errno
import hashlib
import os
import socket
import sys
import threading
import time
from typing import Any, Sequence

import jax
import numpy as np
from jax.experimental import multihost_utils
from jax.sharding import Mesh, NamedSharding, PartitionSpec

PyTree = Any
DATA_AXIS = "data"
REPLICA_AXIS = "replica"
# The exit status of a process whose distributed start timed out (see `initialize`).
EXIT_INIT_TIMEOUT = 6  # the same as the CLI's EXIT_DISTRIBUTED
# JAX's own initialization timeout is this much longer than ours, so that the watchdog,
# which explains the failure, fires before JAX aborts the process.
_JAX_TIMEOUT_MARGIN_S = 10


class DistributedError(RuntimeError):
    """Processes of a multi-process run cannot start together or do not agree."""


# ---------------------------------------------------------------------------------------------
# Starting a multi-process run


def initialize(coordinator_address: str | None, num_processes: int | None,
               process_id: int | None, timeout_s: int = 60) -> None:
    """Joins this process to a multi-process JAX program, or does nothing for a single process.

    All None: `jax.distributed.initialize()` with JAX's own detection when `detected_cluster()`
    finds a multi-process cluster (SLURM, Open MPI, multi-host TPU), otherwise a no-op. With a
    coordinator address ("host:port"), `num_processes` and `process_id` are required; process 0
    runs the coordinator service there. Must run before any JAX computation.

    Raises `DistributedError` for a bad argument, a coordinator port process 0 cannot bind, or a
    coordinator other processes cannot reach within `timeout_s`; exits the process with
    `EXIT_INIT_TIMEOUT` (and a one-line message) if the processes do not all connect in time.
    A second call, once joined, does nothing.
    """
    if jax.distributed.is_initialized():
        return
    if coordinator_address is None and num_processes is None and process_id is None:
        if detected_cluster() is not None:
            _use_gloo_on_cpu()
            _jax_initialize(None, None, None, timeout_s,
                            f"{timeout_s} s waiting for the processes of this cluster job")
        return
    if coordinator_address is None:
        if (num_processes or 1) == 1 and (process_id or 0) == 0:
            return
        raise DistributedError(f"num_processes={num_processes} needs a coordinator address; "
                               f"pass --coordinator_address host:port (process 0's host)")
    n, pid = _check_args(coordinator_address, num_processes, process_id)
    deadline = time.monotonic() + timeout_s
    if pid == 0:
        _check_port_free(coordinator_address)
    else:
        _wait_for_coordinator(coordinator_address, pid, n, deadline, timeout_s)
    _use_gloo_on_cpu()
    _jax_initialize(coordinator_address, n, pid, deadline - time.monotonic(),
                    f"{timeout_s} s waiting for all {n} processes to connect to "
                    f"{coordinator_address} (process {pid} of {n}); start every process "
                    f"--process_id 0..{n - 1} with the same --coordinator_address and "
                    f"--num_processes {n}")


def detected_cluster() -> str | None:
    """The multi-process cluster environment this process runs in, or None.

    Checks the environment variables that JAX's own auto-detection reads (without its network
    queries): a SLURM step with more than one task, an Open MPI job, a multi-host TPU slice
    (TPU_WORKER_HOSTNAMES / TPU_PROCESS_ADDRESSES list several hosts), or an explicit
    JAX_COORDINATOR_ADDRESS.
    """
    env = os.environ
    slurm = ("SLURM_JOB_ID", "SLURM_STEP_NODELIST", "SLURM_NTASKS", "SLURM_PROCID",
             "SLURM_LOCALID")
    if all(v in env for v in slurm) and env["SLURM_NTASKS"].isdigit() and int(
            env["SLURM_NTASKS"]) > 1:
        return "slurm"
    if "OMPI_MCA_orte_hnp_uri" in env:
        return "ompi"
    hosts = env.get("TPU_PROCESS_ADDRESSES") or env.get("TPU_WORKER_HOSTNAMES") or ""
    if "," in hosts:
        return "tpu"
    if env.get("JAX_COORDINATOR_ADDRESS"):
        return "jax_coordinator_address"
    return None


def _check_args(address: str, num_processes: int | None,
                process_id: int | None) -> tuple[int, int]:
    """(num_processes, process_id), validated, for an explicit coordinator address."""
    if num_processes is None or process_id is None:
        raise DistributedError(f"--coordinator_address {address} also needs --num_processes and "
                               f"--process_id (0 on the coordinator's host)")
    if num_processes < 1 or not 0 <= process_id < num_processes:
        raise DistributedError(f"process_id={process_id} is not in [0, num_processes="
                               f"{num_processes}); number the processes 0..num_processes-1")
    _split_address(address)
    return num_processes, process_id


def _split_address(address: str) -> tuple[str, int]:
    """("host", port) of "host:port" (IPv6 hosts in brackets: "[::1]:1234")."""
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit():
        raise DistributedError(f"coordinator address {address!r} is not host:port, e.g. "
                               f"10.0.0.1:1234")
    return host.strip("[]"), int(port)


def _check_port_free(address: str) -> None:
    """Process 0 binds the coordinator port; JAX crashes (SIGSEGV) when it is taken, so check.

    There is a short window between this check and JAX's bind; a port taken in it still crashes.
    """
    port = _split_address(address)[1]
    try:
        _bind_and_release(port)
    except OSError as e:
        raise DistributedError(f"process 0 cannot start the coordinator on port {port} of "
                               f"{address} ({e.strerror}); choose a free port for "
                               f"--coordinator_address") from e


def _bind_and_release(port: int) -> None:
    """Binds `port` on all interfaces, as JAX's coordinator will ("[::]:port"), and lets go."""
    if socket.has_ipv6:
        try:
            with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s:
                s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
                s.bind(("::", port))
                return
        except OSError as e:
            if e.errno not in (errno.EAFNOSUPPORT, errno.EADDRNOTAVAIL):  # IPv6 is there
                raise
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("0.0.0.0", port))


def _wait_for_coordinator(address: str, pid: int, n: int, deadline: float,
                          timeout_s: int) -> None:
    """Probes the coordinator's TCP port until it answers or `deadline` (time.monotonic) passes.

    JAX aborts the process when the coordinator cannot be reached, so a process other than 0
    checks first; it keeps trying because process 0 may simply start a little later.
    """
    host, port = _split_address(address)
    while True:
        try:
            with socket.create_connection((host, port), timeout=1.0):
                return
        except OSError as e:
            reason = e.strerror or type(e).__name__
        if time.monotonic() >= deadline:
            raise DistributedError(
                f"process {pid} of {n} cannot reach the coordinator at {address} within "
                f"{timeout_s} s ({reason}); start process 0 (--process_id 0) on that host with "
                f"the same --coordinator_address, and check the host name, port and firewall")
        time.sleep(0.2)


def _use_gloo_on_cpu() -> None:
    """Cross-process collectives on the CPU backend need an implementation: gloo.

    Set unless the user chose another one (mpi); it only affects the CPU backend.
    """
    if jax.config.jax_cpu_collectives_implementation in (None, "", "none"):
        jax.config.update("jax_cpu_collectives_implementation", "gloo")


def _jax_initialize(address: str | None, n: int | None, pid: int | None, seconds_left: float,
                    waiting_for: str) -> None:
    """`jax.distributed.initialize`, under a watchdog that explains a timeout before JAX aborts.

    `waiting_for` ends the watchdog's message "timed out after ...".
    """
    def give_up() -> None:
        print(f"ganjax: distributed error: timed out after {waiting_for}", file=sys.stderr,
              flush=True)
        os._exit(EXIT_INIT_TIMEOUT)  # the main thread is blocked inside JAX's C++ client

    watchdog = threading.Timer(max(seconds_left, 0.0), give_up)
    watchdog.daemon = True
    watchdog.start()
    try:
        jax.distributed.initialize(
            address, n, pid,
            initialization_timeout=max(1, round(seconds_left)) + _JAX_TIMEOUT_MARGIN_S)
    except (RuntimeError, ValueError, TypeError) as e:
        raise DistributedError(f"jax.distributed.initialize failed: {e}") from e
    finally:
        watchdog.cancel()


def is_main_process() -> bool:
    """Whether this is process 0, the only one that writes logs, figures and summaries."""
    return jax.process_index() == 0


# ---------------------------------------------------------------------------------------------
# Mesh and shardings


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
        _raise_if_differ(b"".join(x.tobytes() for x in leaves), "state to replicate",
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


# ---------------------------------------------------------------------------------------------
# Agreement between processes


def assert_same_config(config_json: str) -> None:
    """Raises DistributedError, on every process, unless all processes pass the same config.

    Each process contributes a SHA-256 digest of `config_json` (the full config, without
    per-process settings such as the process id); every process sees all digests, so all of
    them fail together instead of some hanging in a collective. No-op in a single process.
    """
    if jax.process_count() > 1:
        _raise_if_differ(config_json.encode(), "config",
                         "run the same command, config file and overrides on every host")


def _raise_if_differ(data: bytes, what: str, fix: str) -> None:
    """Gathers every process's SHA-256 of `data`; raises DistributedError if any differs from
    process 0's, naming those processes."""
    digest = np.frombuffer(hashlib.sha256(data).digest(), np.uint8)
    digests = np.asarray(multihost_utils.process_allgather(digest))  # [processes, 32]
    differ = [p for p in range(len(digests)) if not np.array_equal(digests[p], digests[0])]
    if differ:
        short = ", ".join(f"{p}: {bytes(d[:4]).hex()}" for p, d in enumerate(digests))
        raise DistributedError(
            f"process(es) {', '.join(map(str, differ))} have a different {what} from process 0 "
            f"(digests {short}); {fix}")


def sync_processes(name: str) -> None:
    """Waits until every process reaches the barrier `name`; no-op in a single process."""
    if jax.process_count() > 1:
        multihost_utils.sync_global_devices(name)


def describe_devices() -> str:
    """e.g. "8 cpu devices in 2 processes", for the start-of-run line."""
    n, p = jax.device_count(), jax.process_count()
    where = f" in {p} processes" if p > 1 else ""
    return f"{n} {jax.devices()[0].platform} device{'s' if n > 1 else ''}{where}"
