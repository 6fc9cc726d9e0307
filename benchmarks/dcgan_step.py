"""DCGAN step on 28x28x1 images: ganjax against the same model in PyTorch, side by side.

Model: G z(100) -> dense 7*7*128 -> BN, ReLU -> 4x4 stride-2 transposed conv 64 -> BN, ReLU ->
4x4 stride-2 transposed conv 1 -> tanh; D 4x4 stride-2 conv 64 -> LeakyReLU(0.2) -> 4x4 stride-2
conv 128 -> BN, LeakyReLU -> dense 1 (layers followed by BN have no bias). Batch 64, Adam(2e-4,
b1=0.5), non-saturating loss, one D update then one G update (on fresh noise) per step.

Timed in one process, in alternating rounds (medians over rounds, and the best round, the least
disturbed one on a shared machine): ganjax's jitted step with the hand-written conv gradients
and matmul-based BatchNorm sums of ganjax.models.layers (the default), the same in a lax.scan
of `chunk` steps, ganjax with flax's ConvTranspose in G (then also flax's Conv in D) and plain
autodiff, and PyTorch eager with its default thread count and with one thread (OpenMP's 2
threads suffer most when other processes share the 2 cores). Also measured in fresh
subprocesses: XLA:CPU's YNNPACK fusion on (XLA's default) against off (ganjax's default).

  pip install -e '.[bench]' && python benchmarks/dcgan_step.py

Prints a final JSON line {"ganjax_steps_per_s", "torch_steps_per_s", "ratio", "gflops_per_s",
...}; gflops_per_s is XLA's FLOP count of the compiled step over its median time.
"""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING

from _timing import alternating_rates, run_child, warn_if_busy  # benchmarks/ is on sys.path

if TYPE_CHECKING:
    from ganjax.engine.gan import GAN

BATCH, NOISE, RES, WIDTH, LR, BETA1 = 64, 100, 28, 64, 2e-4, 0.5


def make_gan(fast_transpose: bool, fast_conv: bool) -> GAN:
    """The benchmark's GAN: the DCGAN modules with a config's loss and Adam settings."""
    from ganjax.config import apply_overrides, base_config
    from ganjax.engine.build import gan_from_networks
    from ganjax.models.dcgan import DCGANDiscriminator, DCGANGenerator
    from ganjax.types import Networks

    config = apply_overrides(base_config(model="dcgan"), {
        "loss.name": "non_saturating", "optim.g_lr": str(LR), "optim.d_lr": str(LR),
        "optim.b1": str(BETA1), "model.noise_dim": str(NOISE)})
    networks = Networks(DCGANGenerator(RES, 1, WIDTH, fast_conv=fast_transpose),
                        DCGANDiscriminator(RES, WIDTH, fast_conv=fast_conv))
    return gan_from_networks(config, networks, (RES, RES, 1))


class GanjaxRunner:
    """Runs `chunk` steps per call: `chunk` jitted steps, or one lax.scan over `chunk` steps."""

    def __init__(self, chunk: int, fused: bool, fast_transpose: bool = True,
                 fast_conv: bool = True):
        import jax

        from ganjax.engine.adversarial import make_train_step
        from ganjax.engine.algorithm import init_state
        from ganjax.engine.steps import make_train_n_steps

        gan = make_gan(fast_transpose, fast_conv)
        self.jax, self.chunk, self.fused = jax, chunk, fused
        self.state = init_state(gan, jax.random.PRNGKey(0))
        step = make_train_step(gan)
        shape = (chunk, 1, BATCH, RES, RES, 1)
        self.batches = {"x": jax.random.uniform(jax.random.PRNGKey(1), shape, minval=-1.0)}
        if fused:
            self._fn = jax.jit(make_train_n_steps(step), donate_argnums=0)
            self._call = lambda state: self._fn(state, self.batches)[0]
        else:
            self._fn = jax.jit(step, donate_argnums=0)
            batches = [{"x": self.batches["x"][i]} for i in range(chunk)]

            def call(state):
                for batch in batches:
                    state = self._fn(state, batch)[0]
                return state

            self._call = call

    def flops_per_step(self) -> float:
        """XLA's FLOP count of the compiled program, per training step."""
        batch = self.batches if self.fused else {"x": self.batches["x"][0]}
        cost = self._fn.lower(self.state, batch).compile().cost_analysis()
        cost = cost[0] if isinstance(cost, list) else cost
        return float(cost["flops"]) / (self.chunk if self.fused else 1)

    def run(self) -> None:
        self.state = self._call(self.state)
        self.jax.block_until_ready(self.state)


class TorchRunner:
    """The same GAN step written the usual PyTorch way (eager, CPU, NCHW)."""

    def __init__(self, chunk: int, threads: int | None = None):
        import torch
        from torch import nn

        torch.manual_seed(0)
        self.torch, self.chunk, self.threads = torch, chunk, threads
        self.g = nn.Sequential(
            nn.Linear(NOISE, 7 * 7 * 2 * WIDTH, bias=False), nn.Unflatten(1, (2 * WIDTH, 7, 7)),
            nn.BatchNorm2d(2 * WIDTH), nn.ReLU(),
            nn.ConvTranspose2d(2 * WIDTH, WIDTH, 4, 2, 1, bias=False), nn.BatchNorm2d(WIDTH),
            nn.ReLU(), nn.ConvTranspose2d(WIDTH, 1, 4, 2, 1), nn.Tanh())
        self.d = nn.Sequential(
            nn.Conv2d(1, WIDTH, 4, 2, 1), nn.LeakyReLU(0.2),
            nn.Conv2d(WIDTH, 2 * WIDTH, 4, 2, 1, bias=False), nn.BatchNorm2d(2 * WIDTH),
            nn.LeakyReLU(0.2), nn.Flatten(), nn.Linear(7 * 7 * 2 * WIDTH, 1))
        self.g_opt = torch.optim.Adam(self.g.parameters(), lr=LR, betas=(BETA1, 0.999))
        self.d_opt = torch.optim.Adam(self.d.parameters(), lr=LR, betas=(BETA1, 0.999))
        self.real = torch.rand(chunk, BATCH, 1, RES, RES) * 2 - 1
        self.softplus = nn.functional.softplus

    def _step(self, real) -> None:
        torch, softplus = self.torch, self.softplus
        fake = self.g(torch.randn(BATCH, NOISE)).detach()
        d_loss = softplus(-self.d(real)).mean() + softplus(self.d(fake)).mean()
        self.d_opt.zero_grad(set_to_none=True)
        d_loss.backward()
        self.d_opt.step()
        g_loss = softplus(-self.d(self.g(torch.randn(BATCH, NOISE)))).mean()
        self.g_opt.zero_grad(set_to_none=True)
        g_loss.backward()
        self.g_opt.step()

    def run(self) -> None:
        default = self.torch.get_num_threads()
        self.torch.set_num_threads(self.threads or default)
        try:
            for real in self.real:
                self._step(real)
        finally:
            self.torch.set_num_threads(default)


def rates_child(ynn: bool, rounds: int, chunk: int) -> None:
    """ganjax median rates (per step and fused) under one XLA:CPU fusion setting."""
    from ganjax.run import runtime

    runtime.set_xla_cpu_fusion(ynn)
    rates = alternating_rates({"per_step": GanjaxRunner(chunk, fused=False),
                         "fused": GanjaxRunner(chunk, fused=True)}, rounds)
    print(json.dumps({name: r["median"] for name, r in rates.items()}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--chunk", type=int, default=10, help="steps per timed call")
    parser.add_argument("--skip_ynn", action="store_true", help="skip the YNN on/off children")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--ynn", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return rates_child(args.ynn, args.rounds, args.chunk)

    warn_if_busy()
    from ganjax.run import runtime

    runtime.set_xla_cpu_fusion(False)  # ganjax's default; set before JAX starts
    import torch

    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; batch {BATCH}, "
          f"chunks of {args.chunk} steps, {args.rounds} alternating rounds", flush=True)
    runners = {"ganjax": GanjaxRunner(args.chunk, fused=False),
               "ganjax_scan": GanjaxRunner(args.chunk, fused=True),
               # flax's ConvTranspose (G) with plain autodiff; then also flax's Conv (D): ~10x
               # slower, so fewer steps per call.
               "ganjax_plain_transpose": GanjaxRunner(max(1, args.chunk // 2), fused=False,
                                                      fast_transpose=False),
               "ganjax_plain_convs": GanjaxRunner(max(1, args.chunk // 5), fused=False,
                                                  fast_transpose=False, fast_conv=False),
               "torch": TorchRunner(args.chunk),
               "torch_1_thread": TorchRunner(args.chunk, threads=1)}
    rates = alternating_rates(runners, args.rounds)
    for name, rate in rates.items():
        print(f"{name}: median {rate['median']:.2f} steps/s ({1e3 / rate['median']:.1f} ms/step), "
              f"best round {rate['best']:.2f} steps/s", flush=True)
    median = {name: r["median"] for name, r in rates.items()}
    best = {name: r["best"] for name, r in rates.items()}
    flops = runners["ganjax"].flops_per_step()
    result = {
        "ganjax_steps_per_s": round(median["ganjax"], 2),
        "torch_steps_per_s": round(median["torch"], 2),
        "ratio": round(median["ganjax"] / median["torch"], 3),
        "gflops_per_s": round(flops * median["ganjax"] / 1e9, 1),
        "gflop_per_step": round(flops / 1e9, 3),
        "ratio_best_rounds": round(best["ganjax"] / best["torch"], 3),
        "ratio_vs_best_torch_setting": round(
            median["ganjax"] / max(median["torch"], median["torch_1_thread"]), 3),
        "torch_1_thread_steps_per_s": round(median["torch_1_thread"], 2),
        "scan_steps_per_s": round(median["ganjax_scan"], 2),
        "scan_ratio": round(median["ganjax_scan"] / median["torch"], 3),
        "plain_transpose_steps_per_s": round(median["ganjax_plain_transpose"], 2),
        "fast_over_plain_transpose": round(median["ganjax"] / median["ganjax_plain_transpose"],
                                           3),
        "plain_convs_steps_per_s": round(median["ganjax_plain_convs"], 2),
        "fast_over_plain_convs": round(median["ganjax"] / median["ganjax_plain_convs"], 3),
    }
    if not args.skip_ynn:
        child = ["--child", "--rounds", str(args.rounds), "--chunk", str(args.chunk)]
        off, on = run_child(__file__, child), run_child(__file__, child + ["--ynn"])
        print(f"fresh processes: YNN fusion off {off}, on {on} (steps/s)", flush=True)
        result["ynn_off_over_on"] = round(off["per_step"] / on["per_step"], 3)
        result["ynn_off_over_on_scan"] = round(off["fused"] / on["fused"], 3)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
