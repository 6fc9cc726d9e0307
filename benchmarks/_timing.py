"""Side-by-side timing shared by the benchmarks."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time


def alternating_rates(runners: dict, rounds: int) -> dict[str, dict[str, float]]:
    """Steps/s of each runner (`.run()` advances `.chunk` steps), alternating for `rounds` rounds
    after one warm-up call each, so that all see the same machine conditions.

    Per runner: the median over rounds and the best round (the least disturbed by other processes).
    """
    rates = {name: [] for name in runners}
    for runner in runners.values():
        runner.run()  # compile / warm up
    for _ in range(rounds):
        for name, runner in runners.items():
            start = time.perf_counter()
            runner.run()
            rates[name].append(runner.chunk / (time.perf_counter() - start))
    return {name: {"median": statistics.median(r), "best": max(r)} for name, r in rates.items()}


def run_child(script: str, args: list[str], timeout_s: float = 3600,
              cwd: str | None = None) -> dict:
    """Runs `script` with `args` in a fresh Python process (fresh XLA flags, cold caches; in
    `cwd` if given) and returns the JSON object on its last line of output; a child still
    running after `timeout_s` seconds is killed, so that a hung child cannot hang the
    benchmark."""
    command = f"{script} {' '.join(args)}"
    try:
        result = subprocess.run([sys.executable, script, *args], capture_output=True, text=True,
                                timeout=timeout_s, cwd=cwd)
    except subprocess.TimeoutExpired:
        raise RuntimeError(f"{command} was still running after {timeout_s:.0f} s and was "
                           "killed; run it alone to see where it stops") from None
    if result.returncode:  # show the child's own error, not only its exit status
        raise RuntimeError(f"{command} exited with {result.returncode}:\n"
                           f"{result.stderr[-4000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def warn_if_busy(threshold: float = 0.5) -> None:
    """Prints a warning when the 1-minute load average is above `threshold` per core: another
    process sharing the cores slows every side of a comparison, and a threaded library (torch's
    OpenMP) far more than the others, so such ratios are not the machine's."""
    cores = os.cpu_count() or 1
    load = os.getloadavg()[0]
    if load > threshold * cores:
        print(f"warning: load average {load:.1f} on {cores} cores; other processes are running, "
              "so these rates and ratios are not an idle machine's", file=sys.stderr)
