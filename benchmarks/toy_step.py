"""Ring-8 MLP GAN step: ganjax against the same model in PyTorch, side by side in one process.

Model: G 2-d noise -> 128 -> 128 -> 2, D 2 -> 128 -> 128 -> 1 (ReLU), batch 512, Adam(1e-3,
b1=0.5), non-saturating loss, one D and one G update per step, real data sampled every step.
Rounds alternate between the two frameworks; the figures are medians over rounds.

Also measured, each in fresh subprocesses: ganjax with XLA:CPU's YNNPACK fusion on (XLA's
default) against off (ganjax's default), one jit call per step against `train.scan_steps` fused
steps, and the time from process start to the first finished step, cold and with a warm
persistent compilation cache, next to PyTorch's.

  pip install -e '.[bench]' && python benchmarks/toy_step.py

Prints a final JSON line {"ganjax_steps_per_s", "torch_steps_per_s", "ratio", ...}.
"""

from __future__ import annotations

import time

_PROCESS_START = time.perf_counter()

import argparse  # noqa: E402
import json  # noqa: E402
import tempfile  # noqa: E402

from _timing import alternating_rates, run_child, warn_if_busy  # noqa: E402  (on sys.path)

BATCH, WIDTH, LR = 512, 128, 1e-3


def ganjax_config(scan_steps: int):
    from ganjax.config import base_config

    c = base_config()
    c.data.source, c.data.num_modes, c.data.radius, c.data.std = "ring", 8, 1.0, 0.01
    c.model.noise_dim = 2
    c.model.g_hidden = c.model.d_hidden = (WIDTH, WIDTH)
    c.optim.g_lr = c.optim.d_lr = LR
    c.train.batch_size = BATCH
    c.train.scan_steps = scan_steps
    return c


class GanjaxRunner:
    """Runs `chunk` steps per call: one lax.scan of `chunk` steps, or `chunk` jitted steps."""

    def __init__(self, chunk: int, fused: bool):
        import jax

        from ganjax.data import make_source
        from ganjax.engine.rng import data_key
        from ganjax.run.experiment import build_experiment
        from ganjax.run.runners import toy_batch_sampler

        config = ganjax_config(chunk)
        experiment = build_experiment(config)
        self.state, self.jax = experiment.state, jax
        if fused:
            runner = experiment.make_runner(0)
            self._call = lambda state: runner.run(state, chunk)[0]
        else:
            step = jax.jit(experiment.algorithm.step, donate_argnums=0)
            sample = jax.jit(toy_batch_sampler(make_source(config.data), config,
                                               data_key(config.seed)))

            def call(state):
                for _ in range(chunk):
                    state = step(state, sample(state.step))[0]
                return state

            self._call = call
        self.chunk = chunk

    def run(self) -> None:
        self.state = self._call(self.state)
        self.jax.block_until_ready(self.state)


class TorchRunner:
    """The same GAN step written the usual PyTorch way (eager, CPU)."""

    def __init__(self, chunk: int):
        import math

        import torch
        from torch import nn

        torch.manual_seed(0)
        self.torch, self.chunk = torch, chunk
        mlp = lambda i, o: nn.Sequential(nn.Linear(i, WIDTH), nn.ReLU(), nn.Linear(WIDTH, WIDTH),  # noqa: E731
                                         nn.ReLU(), nn.Linear(WIDTH, o))
        self.g, self.d = mlp(2, 2), mlp(2, 1)
        self.g_opt = torch.optim.Adam(self.g.parameters(), lr=LR, betas=(0.5, 0.999))
        self.d_opt = torch.optim.Adam(self.d.parameters(), lr=LR, betas=(0.5, 0.999))
        angles = torch.arange(8) * (2 * math.pi / 8)
        self.centers = torch.stack([angles.cos(), angles.sin()], 1)
        self.softplus = nn.functional.softplus

    def _step(self) -> None:
        torch = self.torch
        real = self.centers[torch.randint(0, 8, (BATCH,))] + 0.01 * torch.randn(BATCH, 2)
        fake = self.g(torch.randn(BATCH, 2)).detach()
        d_loss = self.softplus(-self.d(real)).mean() + self.softplus(self.d(fake)).mean()
        self.d_opt.zero_grad(set_to_none=True)
        d_loss.backward()
        self.d_opt.step()
        g_loss = self.softplus(-self.d(self.g(torch.randn(BATCH, 2)))).mean()
        self.g_opt.zero_grad(set_to_none=True)
        g_loss.backward()
        self.g_opt.step()

    def run(self) -> None:
        for _ in range(self.chunk):
            self._step()


def first_step_child(framework: str, cache_dir: str) -> None:
    """Time from process start to the end of the first training step (imports included)."""
    if framework == "torch":
        TorchRunner(1).run()
    else:
        from ganjax.run import runtime

        runtime.set_xla_cpu_fusion(False)
        runtime.enable_compilation_cache(cache_dir)
        GanjaxRunner(1, fused=False).run()
    print(json.dumps({"seconds": time.perf_counter() - _PROCESS_START}))


def rates_child(ynn: bool, rounds: int, chunk: int) -> None:
    """ganjax rates (fused and per-step) under one XLA:CPU fusion setting."""
    from ganjax.run import runtime

    runtime.set_xla_cpu_fusion(ynn)
    rates = alternating_rates({"fused": GanjaxRunner(chunk, fused=True),
                               "per_step": GanjaxRunner(chunk, fused=False)}, rounds)
    print(json.dumps({name: r["median"] for name, r in rates.items()}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--chunk", type=int, default=100, help="steps per timed call")
    parser.add_argument("--child", choices=["first_step", "rates"], help=argparse.SUPPRESS)
    parser.add_argument("--framework", default="ganjax", help=argparse.SUPPRESS)
    parser.add_argument("--cache_dir", default="", help=argparse.SUPPRESS)
    parser.add_argument("--ynn", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child == "first_step":
        return first_step_child(args.framework, args.cache_dir)
    if args.child == "rates":
        return rates_child(args.ynn, args.rounds, args.chunk)

    warn_if_busy()
    from ganjax.run import runtime

    runtime.set_xla_cpu_fusion(False)  # ganjax's default; set before JAX starts
    import torch

    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; batch {BATCH}, "
          f"chunks of {args.chunk} steps, {args.rounds} alternating rounds", flush=True)
    main_rates = {name: r["median"] for name, r in alternating_rates(
        {"ganjax": GanjaxRunner(args.chunk, fused=True), "torch": TorchRunner(args.chunk)},
        args.rounds).items()}
    print(f"side by side: ganjax {main_rates['ganjax']:.0f} steps/s, "
          f"torch {main_rates['torch']:.0f} steps/s", flush=True)

    settings = {}
    for ynn in (False, True):
        settings["ynn_on" if ynn else "ynn_off"] = run_child(
            __file__,
            ["--child", "rates", "--rounds", str(args.rounds), "--chunk", str(args.chunk)]
            + (["--ynn"] if ynn else []))
    for name, rates in settings.items():
        print(f"ganjax {name}: fused {rates['fused']:.0f} steps/s, "
              f"one call per step {rates['per_step']:.0f} steps/s", flush=True)

    with tempfile.TemporaryDirectory() as cache:
        first_step = lambda *extra: run_child(  # noqa: E731
            __file__, ["--child", "first_step", *extra])["seconds"]
        first = {"cold": first_step("--cache_dir", cache),
                 "warm_cache": first_step("--cache_dir", cache),
                 "torch": first_step("--framework", "torch")}
    print(f"time to first step: ganjax cold {first['cold']:.2f} s, warm cache "
          f"{first['warm_cache']:.2f} s; torch {first['torch']:.2f} s", flush=True)

    print(json.dumps({
        "ganjax_steps_per_s": round(main_rates["ganjax"], 1),
        "torch_steps_per_s": round(main_rates["torch"], 1),
        "ratio": round(main_rates["ganjax"] / main_rates["torch"], 3),
        "ynn_off_over_on_fused": round(settings["ynn_off"]["fused"] / settings["ynn_on"]["fused"], 3),
        "fused_over_per_step": round(settings["ynn_off"]["fused"] / settings["ynn_off"]["per_step"],
                                     3),
        "first_step_s": {k: round(v, 2) for k, v in first.items()},
    }))


if __name__ == "__main__":
    main()
