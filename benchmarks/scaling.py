"""Data-parallel scaling of the training step over 1, 2, 4 and 8 devices.

Two steps: the ring8 toy MLP GAN (batch 512) and the DCGAN of `dcgan_digits:quick` (8x8x1,
batch 64). For each device count a fresh child process builds a ("data",) mesh with
ganjax.parallel, replicates the state, splits a fixed random batch [steps, d_steps, B, ...]
over the devices (same global batch for every count; --weak multiplies it by the count) and
times a jitted `make_train_n_steps(step)` of --steps steps: the median over --rounds calls
after one untimed warm-up call (compilation).

On a CPU-only host the devices are fake (XLA_FLAGS=--xla_force_host_platform_device_count=N)
and share this machine's cores, so the table shows the cost of splitting, not a speed-up. On a
GPU/TPU host the first N real devices are used, and it reports real scaling.

  python benchmarks/scaling.py [--steps 20] [--rounds 5] [--devices 1,2,4,8] [--weak]

Prints a table and a final JSON line {"platform", "cpu_cores", "results": {model: {devices:
{"steps_per_s", "examples_per_s", "global_batch"}}}}.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time

from _timing import run_child  # benchmarks/ is on sys.path

MODELS = {"ring8": "ring8", "dcgan_digits": "dcgan_digits:quick"}


def measure(spec: str, mesh, steps: int, rounds: int, batch_scale: int) -> dict[str, float]:
    """Steps/s and real examples/s of `spec`'s step on `mesh` (median over `rounds` calls)."""
    import jax
    import numpy as np

    from ganjax import config as config_lib
    from ganjax import parallel
    from ganjax.data import example_shape
    from ganjax.engine.steps import make_train_n_steps
    from ganjax.run.experiment import build_experiment

    config = config_lib.load_config(spec)
    config.train.batch_size *= batch_scale
    config_lib.validate(config)
    batch, k = config.train.batch_size, config.train.d_steps
    parallel.check_batch_divisible(batch, mesh)
    data_shape = example_shape(config)
    experiment = build_experiment(config)
    state = parallel.replicate(experiment.state, mesh)
    x = np.random.default_rng(0).uniform(-1, 1, (steps, k, batch, *data_shape))
    batches = parallel.global_batch({"x": x.astype(np.float32)}, mesh, batch_axis=2)
    run = jax.jit(make_train_n_steps(experiment.algorithm.step),
                  in_shardings=(parallel.replicated(mesh), parallel.batch_sharding(mesh, 2)),
                  out_shardings=parallel.replicated(mesh), donate_argnums=0)
    state = jax.block_until_ready(run(state, batches))[0]  # compile and warm up
    rates = []
    for _ in range(rounds):
        start = time.perf_counter()
        state = jax.block_until_ready(run(state, batches))[0]
        rates.append(steps / (time.perf_counter() - start))
    rate = statistics.median(rates)
    return {"steps_per_s": rate, "examples_per_s": rate * k * batch, "global_batch": batch}


def child(devices: int, steps: int, rounds: int, weak: bool) -> None:
    """One device count, in a fresh process (the XLA flag must be set before JAX starts)."""
    flags = os.environ.get("XLA_FLAGS", "")
    os.environ["XLA_FLAGS"] = f"{flags} --xla_force_host_platform_device_count={devices}"
    from ganjax.run import runtime

    runtime.set_xla_cpu_fusion(False)  # ganjax's default
    import jax

    from ganjax import parallel

    if jax.device_count() < devices:
        raise SystemExit(f"only {jax.device_count()} devices, asked for {devices}")
    mesh = parallel.data_mesh(jax.devices()[:devices])
    scale = devices if weak else 1
    results = {name: measure(spec, mesh, steps, rounds, scale) for name, spec in MODELS.items()}
    print(json.dumps({"platform": jax.devices()[0].platform, "devices": devices,
                      "results": results}))


def table(runs: list[dict]) -> list[str]:
    """Readable rows: model, devices, steps/s, examples/s, speed-up and efficiency vs 1 device."""
    lines = [f"{'model':<14}{'devices':>8}{'batch':>7}{'steps/s':>10}{'examples/s':>12}"
             f"{'speed-up':>10}{'efficiency':>12}"]
    for name in MODELS:
        base = runs[0]["results"][name]
        for run in runs:
            r = run["results"][name]
            # Examples/s relative to the first device count: under --weak the batch grows.
            speedup = r["examples_per_s"] / base["examples_per_s"]
            ideal = run["devices"] / runs[0]["devices"]
            lines.append(f"{name:<14}{run['devices']:>8}{r['global_batch']:>7}"
                         f"{r['steps_per_s']:>10.1f}{r['examples_per_s']:>12.0f}"
                         f"{speedup:>9.2f}x{speedup / ideal:>11.0%}")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=20, help="steps per timed call")
    parser.add_argument("--rounds", type=int, default=5, help="timed calls per device count")
    parser.add_argument("--devices", default="1,2,4,8", help="comma-separated device counts")
    parser.add_argument("--weak", action="store_true",
                        help="weak scaling: the global batch grows with the device count")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(args.child, args.steps, args.rounds, args.weak)

    counts = [int(n) for n in args.devices.split(",")]
    extra = ["--weak"] if args.weak else []
    runs = []
    for n in counts:
        print(f"measuring {n} device(s)...", file=sys.stderr, flush=True)
        runs.append(run_child(__file__, ["--child", str(n), "--steps", str(args.steps),
                                         "--rounds", str(args.rounds), *extra]))
    platform, cores = runs[0]["platform"], os.cpu_count()
    print(f"{'weak' if args.weak else 'strong'} scaling, {args.steps} steps per call, median of "
          f"{args.rounds} calls, platform {platform}")
    if platform == "cpu":
        print(f"note: CPU only: the N devices are fake and all share this machine's {cores} "
              f"cores, so this measures the cost of splitting the step, not a speed-up; run it "
              f"on a GPU/TPU host for real scaling")
    print("\n".join(table(runs)))
    print(json.dumps({
        "platform": platform, "cpu_cores": cores, "weak": args.weak, "steps": args.steps,
        "results": {name: {str(run["devices"]): {k: round(v, 2) for k, v in
                                                 run["results"][name].items()} for run in runs}
                    for name in MODELS}}))


if __name__ == "__main__":
    main()
