"""Runs N local processes of one multi-process JAX program, for tests.

    from multiprocess import launch, assert_all_ok
    results = launch(lambda pid, address: [sys.executable, "-m", "ganjax.cli", "train", ...,
                                           "--coordinator_address", address,
                                           "--num_processes", "2", "--process_id", str(pid)],
                     num_processes=2, devices_per_process=4, timeout_s=120)
    assert_all_ok(results)

Each process gets `devices_per_process` fake CPU devices (XLA_FLAGS, set before JAX starts) and
the repository on PYTHONPATH; outputs go to temporary files (not pipes, which could fill up and
stall one process while the others wait for it in a collective).
"""

from __future__ import annotations

import os
import pathlib
import signal
import socket
import subprocess
import tempfile
import time
from typing import Callable, Sequence

REPO = pathlib.Path(__file__).resolve().parent.parent
_DEVICE_FLAG = "--xla_force_host_platform_device_count"


class LaunchTimeout(TimeoutError):
    """The processes did not all finish by the deadline; `results` holds what they printed."""

    def __init__(self, message: str, results: list[subprocess.CompletedProcess]):
        super().__init__(message)
        self.results = results


def free_port() -> int:
    """A TCP port that nothing listens on right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def child_env(devices_per_process: int, env: dict[str, str] | None = None) -> dict[str, str]:
    """os.environ plus CPU-only JAX with `devices_per_process` fake devices and the repo on
    PYTHONPATH; `env` entries win."""
    flags = [f for f in os.environ.get("XLA_FLAGS", "").split() if not f.startswith(_DEVICE_FLAG)]
    path = os.environ.get("PYTHONPATH", "")
    out = {**os.environ,
           "XLA_FLAGS": " ".join(flags + [f"{_DEVICE_FLAG}={devices_per_process}"]),
           "JAX_PLATFORMS": "cpu",
           "PYTHONPATH": f"{REPO}{os.pathsep}{path}" if path else str(REPO)}
    return {**out, **(env or {})}


def launch(argv_for_process: Callable[[int, str], Sequence[str]], num_processes: int,
           devices_per_process: int = 1, timeout_s: float = 120.0, *,
           env: dict[str, str] | None = None, grace_s: float = 10.0,
           coordinator_address: str | None = None) -> list[subprocess.CompletedProcess]:
    """Starts process i with `argv_for_process(i, coordinator_address)` and waits for all.

    The coordinator defaults to 127.0.0.1 on a free port. Once one process fails, the others
    get `grace_s` more seconds (they may be stuck waiting for it); at `timeout_s` all that are
    left are killed (with their process groups) and `LaunchTimeout` is raised. Returns one
    CompletedProcess (returncode, stdout, stderr) per process, in process order.
    """
    address = coordinator_address or f"127.0.0.1:{free_port()}"
    child = child_env(devices_per_process, env)
    with tempfile.TemporaryDirectory() as tmp:
        logs, procs = [], []
        try:
            for i in range(num_processes):
                out = open(os.path.join(tmp, f"{i}.out"), "w+", encoding="utf-8")
                err = open(os.path.join(tmp, f"{i}.err"), "w+", encoding="utf-8")
                logs.append((out, err))
                argv = list(argv_for_process(i, address))
                procs.append((argv, subprocess.Popen(argv, stdout=out, stderr=err, env=child,
                                                     cwd=REPO, start_new_session=True)))
            timed_out = _wait(procs, time.monotonic() + timeout_s, grace_s)
        finally:
            for _, proc in procs:
                _kill(proc)
        results = [_collect(argv, proc, out, err) for (argv, proc), (out, err) in zip(procs, logs)]
        for out, err in logs:
            out.close()
            err.close()
    if timed_out:
        raise LaunchTimeout(f"{num_processes} processes did not finish within {timeout_s} s "
                            f"(killed)\n{describe(results)}", results)
    return results


def _wait(procs: list, deadline: float, grace_s: float) -> bool:
    """Polls until every process exits (False) or the deadline passes (True)."""
    while True:
        codes = [proc.poll() for _, proc in procs]
        if all(c is not None for c in codes):
            return False
        if any(c not in (None, 0) for c in codes):
            deadline = min(deadline, time.monotonic() + grace_s)
            grace_s = float("inf")  # set the failure deadline once
        if time.monotonic() >= deadline:
            return True
        time.sleep(0.05)


def _kill(proc: subprocess.Popen) -> None:
    """Kills a child that is still running, with the processes it started (its session)."""
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    proc.wait()


def _collect(argv: list[str], proc: subprocess.Popen, out, err) -> subprocess.CompletedProcess:
    out.seek(0)
    err.seek(0)
    return subprocess.CompletedProcess(argv, proc.returncode, out.read(), err.read())


def describe(results: Sequence[subprocess.CompletedProcess], tail: int = 2000) -> str:
    """Each process's exit status and the tails of its output, for assertion messages."""
    parts = []
    for i, r in enumerate(results):
        parts.append(f"--- process {i}: exit status {r.returncode}\nstdout: ...{r.stdout[-tail:]}"
                     f"\nstderr: ...{r.stderr[-tail:]}")
    return "\n".join(parts)


def assert_all_ok(results: Sequence[subprocess.CompletedProcess]) -> None:
    """Fails with every process's output unless all exited with status 0."""
    assert all(r.returncode == 0 for r in results), describe(results)
