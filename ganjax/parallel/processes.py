"""Starting a multi-process JAX program and keeping its processes in agreement.

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
  `EXIT_DISTRIBUTED`, a few seconds before JAX's own abort.
"""

from __future__ import annotations

import errno
import hashlib
import os
import socket
import sys
import threading
import time

import jax
import numpy as np
from jax.experimental import multihost_utils

from ganjax.errors import EXIT_DISTRIBUTED, DistributedError

# JAX's own initialization timeout is this much longer than ours, so that the watchdog,
# which explains the failure, fires before JAX aborts the process.
_JAX_TIMEOUT_MARGIN_S = 10



def initialize(coordinator_address: str | None, num_processes: int | None,
               process_id: int | None, timeout_s: int = 60) -> None:
    """Joins this process to a multi-process JAX program, or does nothing for a single process.

    All None: `jax.distributed.initialize()` with JAX's own detection when `detected_cluster()`
    finds a multi-process cluster (SLURM, Open MPI, multi-host TPU), otherwise a no-op. With a
    coordinator address ("host:port"), `num_processes` and `process_id` are required; process 0
    runs the coordinator service there. Must run before any JAX computation.

    Raises `DistributedError` for a bad argument, a coordinator port process 0 cannot bind, or a
    coordinator other processes cannot reach within `timeout_s`; exits the process with
    `EXIT_DISTRIBUTED` (and a one-line message) if the processes do not all connect in time.
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
        os._exit(EXIT_DISTRIBUTED)  # the main thread is blocked inside JAX's C++ client

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




def assert_same_config(config_json: str) -> None:
    """Raises DistributedError, on every process, unless all processes pass the same config.

    Each process contributes a SHA-256 digest of `config_json` (the full config, without
    per-process settings such as the process id); every process sees all digests, so all of
    them fail together instead of some hanging in a collective. No-op in a single process.
    """
    if jax.process_count() > 1:
        raise_if_differ(config_json.encode(), "config",
                         "run the same command, config file and overrides on every host")


def raise_if_differ(data: bytes, what: str, fix: str) -> None:
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
