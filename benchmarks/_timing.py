"""Side-by-side timing shared by the benchmarks."""

from __future__ import annotations

import json
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


def run_child(script: str, args: list[str]) -> dict:
    """Runs `script` with `args` in a fresh Python process (fresh XLA flags, cold caches) and
    returns the JSON object on its last line of output."""
    result = subprocess.run([sys.executable, script, *args], capture_output=True, text=True)
    if result.returncode:  # show the child's own error, not only its exit status
        raise RuntimeError(f"{script} {' '.join(args)} exited with {result.returncode}:\n"
                           f"{result.stderr[-4000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])
