"""Running a sweep's groups elsewhere: parallel local processes, SLURM through submitit, or
command lines for any other scheduler. Not a scheduler of our own.

Every launcher runs the same job: `ganjax sweep --workdir W --group G` (`group_command`), which
reopens W/sweep.json and trains group G with the code path of a local sweep, so results land
in the same point folders whatever ran them, and a job that is killed and started again
resumes. `ganjax sweep --collect W` tabulates whatever has finished, at any time.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import time
from typing import Any, Callable, Sequence

from ganjax.errors import ConfigError

SLURM_DIR = "slurm"  # submitit's logs and pickles, inside the sweep folder


def group_command(workdir: str, group: int, python: str | None = None) -> list[str]:
    """The command line that trains one group of the sweep in `workdir`."""
    return [python or sys.executable, "-m", "ganjax.cli", "sweep", "--workdir",
            os.path.abspath(workdir), "--group", str(group), "--no_collect"]


def emit_jobs(workdir: str, groups: Sequence[int], path: str | None = None) -> str:
    """Writes one command line per group to `path` (default W/jobs.sh); returns the path."""
    path = path or os.path.join(workdir, "jobs.sh")
    lines = ["#!/bin/sh", "# One line per group of this sweep: run them anywhere, in any order",
             "# or in parallel, then: ganjax sweep --collect " + shlex.quote(
                 os.path.abspath(workdir))]
    lines += [shlex.join(group_command(workdir, g)) for g in groups]
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    os.chmod(path, 0o755)
    return path


def visible_gpus() -> int:
    """How many GPUs this machine shows (0 without one)."""
    try:
        import jax

        return len([d for d in jax.devices() if d.platform == "gpu"])
    except RuntimeError:
        return 0


def run_local(workdir: str, groups: Sequence[int], processes: int,
              log: Callable[[str], None] = print, gpus: int | None = None) -> list[int]:
    """Runs the groups in at most `processes` parallel processes on this machine (with GPUs,
    process i sees GPU i % gpus only); logs go to W/logs/group_<g>.log. Returns the exit codes."""
    gpus = visible_gpus() if gpus is None else gpus
    os.makedirs(os.path.join(workdir, "logs"), exist_ok=True)
    queue, running, codes = list(groups), [], {}
    slot = 0
    while queue or running:
        while queue and len(running) < max(processes, 1):
            g = queue.pop(0)
            env = dict(os.environ)
            if gpus:
                env["CUDA_VISIBLE_DEVICES"] = str(slot % gpus)
            slot += 1
            out = open(os.path.join(workdir, "logs", f"group_{g}.log"), "w", encoding="utf-8")
            running.append((g, subprocess.Popen(group_command(workdir, g), env=env, stdout=out,
                                                stderr=subprocess.STDOUT), out))
            log(f"ganjax: sweep: group {g} started (log: {out.name})")
        for item in list(running):
            g, proc, out = item
            if proc.poll() is not None:
                out.close()
                running.remove(item)
                codes[g] = proc.returncode
                log(f"ganjax: sweep: group {g} ended with exit code {proc.returncode}")
        time.sleep(0.2)
    return [codes[g] for g in groups]


def run_group_job(workdir: str, group: int) -> int:
    """What a SLURM job runs (through submitit): the group, in this process, exactly as
    `ganjax sweep --workdir W --group G` does."""
    from ganjax.sweep import driver

    driver.run_groups(driver.open_plan(workdir), [group])
    return 0


def slurm_parameters(partition: str, gpus: int, cpus: int, time_min: int, mem_gb: float,
                     extra: Sequence[str] = ()) -> dict[str, Any]:
    """submitit's `update_parameters` arguments from the sweep command's flags."""
    params: dict[str, Any] = {"timeout_min": time_min, "cpus_per_task": cpus,
                              "tasks_per_node": 1, "nodes": 1, "name": "ganjax-sweep"}
    if gpus:
        params["gpus_per_node"] = gpus
    if mem_gb:
        params["mem_gb"] = mem_gb
    if partition:
        params["slurm_partition"] = partition
    for item in extra:  # --slurm KEY=VALUE: any other submitit/SLURM parameter
        key, sep, value = item.partition("=")
        if not sep:
            raise ConfigError(f"--slurm {item!r}: expected KEY=VALUE, e.g. "
                              f"--slurm slurm_account=myproject")
        params[key if key.startswith("slurm_") or key in params else f"slurm_{key}"] = value
    return params


def submit(workdir: str, groups: Sequence[int], params: dict[str, Any],
           cluster: str = "slurm") -> list[Any]:
    """Submits one job per group through submitit (`cluster`: "slurm", or "local"/"debug" for
    tests without SLURM); returns submitit's Job objects."""
    import submitit

    executor = submitit.AutoExecutor(folder=os.path.join(workdir, SLURM_DIR, "%j"),
                                     cluster=None if cluster == "auto" else cluster)
    if cluster != "slurm":  # local and debug executors take only the generic parameters
        params = {k: v for k, v in params.items() if not k.startswith("slurm_")}
        params.pop("mem_gb", None)
    executor.update_parameters(**params)
    workdir = os.path.abspath(workdir)
    with executor.batch():
        jobs = [executor.submit(run_group_job, workdir, g) for g in groups]
    return jobs
