"""Vectorized sweeps against the same points trained one after another, side by side in one run.

In process (model-steps/s, compilation excluded): N = 8 and 32 replicas of ring8 and
gaussian_1d (their default configs, seeds 0..N-1) as one vmapped chunk of `--chunk` steps
(`ganjax.sweep.vectorized.VectorizedToyRunner`), against lone runners (`ganjax train`'s
`DeviceSampledRunner`) run one after another. Every seed costs the same, so the sequential
rate is measured on two lone runners (seeds 0 and 1) and stands for N of them. Rounds alternate
between the two ways so that both see the same machine.

End to end (wall time of whole commands, fresh processes, no persistent compilation cache):
`ganjax sweep --config ring8 --sweep seed=0:8` against 8 `ganjax train --config ring8
--config.seed=i` processes one after another, at `--steps` steps (default: the experiment's).

    python benchmarks/vectorized_sweep.py                 # ~20 min on 2 CPU cores
    python benchmarks/vectorized_sweep.py --steps 2000 --rounds 3 --skip_32

Final line: JSON with ring8_ratio_8, ring8_ratio_32, gaussian1d_ratio_8, gaussian1d_ratio_32
(vectorized over sequential model-steps/s) and end_to_end_ratio_8 (sequential over vectorized
wall time), plus the absolute rates and the device.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)

from ganjax.run import runtime  # noqa: E402

runtime.set_xla_cpu_fusion(False)  # ganjax's default (as `ganjax train` runs); before JAX starts

import jax  # noqa: E402

from benchmarks._timing import alternating_rates  # noqa: E402
from ganjax import config as config_lib  # noqa: E402
from ganjax.data import make_source  # noqa: E402
from ganjax.engine.algorithm import initial_state  # noqa: E402
from ganjax.engine.build import build  # noqa: E402
from ganjax.engine.rng import data_key  # noqa: E402
from ganjax.parallel import data_mesh, replicate  # noqa: E402
from ganjax.run.experiment import build_step  # noqa: E402
from ganjax.run.runners import DeviceSampledRunner  # noqa: E402
from ganjax.sweep.vectorized import VectorizedToyRunner, replica_mesh, shard_replicas, stack  # noqa: E402


class Vectorized:
    """N replicas advanced `chunk` steps per run() (counts N * chunk model-steps)."""

    def __init__(self, name: str, replicas: int, chunk: int):
        configs = [config_lib.validate(config_lib.apply_overrides(
            config_lib.load_config(name), {"seed": str(s)})) for s in range(replicas)]
        source = make_source(configs[0].data)
        algorithm = build(configs[0], (source.dim,))
        self.mesh = replica_mesh(replicas)
        self.runner = VectorizedToyRunner(build_step(algorithm, configs[0]), source, configs,
                                          self.mesh)
        self.states = shard_replicas(stack([initial_state(algorithm, c.seed) for c in configs]),
                                     self.mesh)
        self.steps, self.chunk = chunk, chunk * replicas

    def run(self) -> None:
        self.states, metrics = self.runner.run(self.states, self.steps)
        jax.block_until_ready(metrics)


class Sequential:
    """Lone runners of seeds 0 and 1 one after another (counts 2 * chunk model-steps)."""

    def __init__(self, name: str, chunk: int):
        mesh = data_mesh()
        self.lone = []
        for seed in (0, 1):
            c = config_lib.validate(config_lib.apply_overrides(config_lib.load_config(name),
                                                               {"seed": str(seed)}))
            source = make_source(c.data)
            algorithm = build(c, (source.dim,))
            runner = DeviceSampledRunner(build_step(algorithm, c), source, c, data_key(seed),
                                         mesh)
            self.lone.append([runner, replicate(initial_state(algorithm, seed), mesh)])
        self.steps, self.chunk = chunk, 2 * chunk

    def run(self) -> None:
        for item in self.lone:
            item[1], metrics = item[0].run(item[1], self.steps)
            jax.block_until_ready(metrics)


def in_process(name: str, replicas: int, chunk: int, rounds: int) -> dict[str, float]:
    rates = alternating_rates({"vectorized": Vectorized(name, replicas, chunk),
                               "sequential": Sequential(name, chunk)}, rounds)
    v, s = rates["vectorized"]["median"], rates["sequential"]["median"]
    print(f"{name:12s} N={replicas:3d}: vectorized {v:9.1f} model-steps/s, one after another "
          f"{s:9.1f}: {v / s:.2f}x", flush=True)
    return {"vectorized": v, "sequential": s, "ratio": v / s}


def _wall(cmd: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                   cwd=REPO)
    return time.perf_counter() - start


def end_to_end(seeds: int, steps: int | None) -> dict[str, float]:
    """Wall time of one vectorized sweep command against `seeds` train commands."""
    tmp = tempfile.mkdtemp(prefix="ganjax_sweep_bench_")
    base = [sys.executable, "-m", "ganjax.cli"]
    extra = ["--no_compilation_cache"] + ([f"--config.train.steps={steps}"] if steps else [])
    try:
        sweep = _wall(base + ["sweep", "--config", "ring8", "--sweep", f"seed=0:{seeds}",
                              "--workdir", os.path.join(tmp, "sweep"), *extra])
        print(f"end to end: ganjax sweep over {seeds} seeds of ring8: {sweep:.1f} s", flush=True)
        lone = 0.0
        for s in range(seeds):
            lone += _wall(base + ["train", "--config", "ring8", f"--config.seed={s}",
                                  "--workdir", os.path.join(tmp, f"lone{s}"), *extra])
        print(f"end to end: {seeds} ganjax train processes one after another: {lone:.1f} s "
              f"-> {lone / sweep:.2f}x", flush=True)
        return {"sweep_s": sweep, "separate_s": lone, "ratio": lone / sweep}
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


DOC = os.path.join(REPO, "docs", "vectorized_sweep.md")


def markdown(out: dict) -> str:
    """docs/vectorized_sweep.md from the benchmark's JSON."""
    rows = ["| what | N | vectorized | one after another | ratio |", "|---|---|---|---|---|"]
    for name, key in (("ring8", "ring8"), ("gaussian_1d", "gaussian1d")):
        for n in (8, 32):
            if f"{key}_ratio_{n}" in out:
                rows.append(f"| {name}, in process (model-steps/s) | {n} | "
                            f"{out[f'{key}_model_steps_per_s_{n}']:.0f} | "
                            f"{out[f'{key}_lone_steps_per_s_{n}']:.0f} | "
                            f"{out[f'{key}_ratio_{n}']:.2f}x |")
    if "end_to_end_ratio_8" in out:
        rows.append(f"| ring8, `ganjax sweep` vs 8 `ganjax train` ({out['end_to_end_steps']} "
                    f"steps each; wall s) | 8 | {out['end_to_end_sweep_s']:.0f} s | "
                    f"{out['end_to_end_separate_s']:.0f} s | {out['end_to_end_ratio_8']:.2f}x |")
    return "\n".join([
        "# Vectorized sweeps: measured", "",
        f"Written by `python benchmarks/vectorized_sweep.py --write_docs` on {out['device']} "
        f"({out.get('cpu_cores', '?')} CPU cores); chunks of {out['chunk']} steps, the median "
        f"of {out['rounds']} alternating rounds.", "", *rows, "",
        "In process: N replicas as one vmapped chunk against lone runs of the same configs one "
        "after another (compilation excluded). End to end: whole commands in fresh processes, "
        "compilation and evaluation included, no persistent compilation cache.", ""])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--chunk", type=int, default=200, help="steps per timed chunk")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--steps", type=int, default=None,
                        help="train.steps of the end-to-end runs (default: ring8's)")
    parser.add_argument("--skip_32", action="store_true", help="only N = 8 in process")
    parser.add_argument("--skip_end_to_end", action="store_true")
    parser.add_argument("--write_docs", action="store_true", help=f"write {DOC}")
    parser.add_argument("--from_json", default=None, metavar="FILE",
                        help="only render the docs from a saved final JSON line")
    args = parser.parse_args()
    if args.from_json:
        with open(args.from_json, encoding="utf-8") as f:
            out = json.loads(f.read().strip().splitlines()[-1])
        with open(DOC, "w", encoding="utf-8") as f:
            f.write(markdown(out))
        print(f"wrote {DOC}")
        return
    device = f"{jax.device_count()} x {jax.devices()[0].device_kind}"
    print(f"device: {device}; {os.cpu_count()} CPU cores", flush=True)
    out: dict[str, object] = {"device": device, "cpu_cores": os.cpu_count(),
                              "chunk": args.chunk, "rounds": args.rounds}
    for name, key in (("ring8", "ring8"), ("gaussian_1d", "gaussian1d")):
        for n in (8,) if args.skip_32 else (8, 32):
            r = in_process(name, n, args.chunk, args.rounds)
            out[f"{key}_ratio_{n}"] = round(r["ratio"], 3)
            out[f"{key}_model_steps_per_s_{n}"] = round(r["vectorized"], 1)
            out[f"{key}_lone_steps_per_s_{n}"] = round(r["sequential"], 1)
    if not args.skip_end_to_end:
        e = end_to_end(8, args.steps)
        out.update({"end_to_end_ratio_8": round(e["ratio"], 3),
                    "end_to_end_sweep_s": round(e["sweep_s"], 1),
                    "end_to_end_separate_s": round(e["separate_s"], 1),
                    "end_to_end_steps": args.steps or config_lib.load_config("ring8").train.steps})
    print(json.dumps(out))
    if args.write_docs:
        with open(DOC, "w", encoding="utf-8") as f:
            f.write(markdown(out))


if __name__ == "__main__":
    main()
