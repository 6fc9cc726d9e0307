"""The thin host loop around the compiled step: log, evaluate, draw, summarise.

Steps run in compiled chunks of `train.scan_steps` (a lax.scan); the loop only touches the host at
chunk boundaries, which are aligned with the logging and evaluation intervals.
"""

from __future__ import annotations

import json
import math
import os
import time
from typing import Any, Callable

import jax
import ml_collections
import numpy as np

from ganjax import config as config_lib
from ganjax.data import make_source
from ganjax.data.toy import GaussianMixture
from ganjax.evaluation.evaluator import make_toy_evaluator
from ganjax.figures import plot_curves, plot_toy
from ganjax.gan import GAN, build_gan, init_state
from ganjax.state import GANState
from ganjax.step import make_sampled_train_n_steps, make_train_step
from ganjax.writers import MetricWriter, Progress


class DivergenceError(RuntimeError):
    """A loss or gradient became NaN or Inf."""


class WorkdirError(RuntimeError):
    """The workdir already holds a run that this one would mix with."""


def rngs(seed: int) -> tuple[jax.Array, jax.Array]:
    """(init key, data key): independent streams derived from the config's seed."""
    root = jax.random.PRNGKey(seed)
    return jax.random.fold_in(root, 0), jax.random.fold_in(root, 1)


def make_batch_sampler(source: GaussianMixture, config: ml_collections.ConfigDict,
                       data_rng: jax.Array) -> Callable[[jax.Array], dict[str, jax.Array]]:
    """step -> {"x": [d_steps, batch, dim]}: the batch of a step depends on nothing else."""
    k, batch = config.train.d_steps, config.train.batch_size

    def sample(step: jax.Array) -> dict[str, jax.Array]:
        x = source.sample(jax.random.fold_in(data_rng, step), k * batch)
        return {"x": x.reshape(k, batch, source.dim)}

    return sample


def setup(config: ml_collections.ConfigDict) -> tuple[GAN, GaussianMixture, GANState]:
    """Validates the config and builds the GAN, its data source and its initial state."""
    config_lib.validate(config)
    source = make_source(config.data)
    gan = build_gan(config, (source.dim,))
    init_rng, _ = rngs(config.seed)
    # One compiled program instead of dozens of eagerly compiled initialiser ops.
    return gan, source, jax.jit(lambda rng: init_state(gan, rng))(init_rng)


class Trainer:
    """Compiled chunk functions for one config, keyed by chunk length (at most a few)."""

    def __init__(self, config: ml_collections.ConfigDict, gan: GAN, source: GaussianMixture):
        self._step = make_train_step(gan)
        self._sample = make_batch_sampler(source, config, rngs(config.seed)[1])
        self._compiled: dict[int, Callable] = {}

    def run(self, state: GANState, num_steps: int) -> tuple[GANState, dict[str, jax.Array]]:
        """Advances `state` by `num_steps` steps; metrics are stacked per step."""
        if num_steps not in self._compiled:
            chunk = make_sampled_train_n_steps(self._step, self._sample, num_steps)
            self._compiled[num_steps] = jax.jit(chunk, donate_argnums=0)
        return self._compiled[num_steps](state)


def _next_boundary(step: int, config: ml_collections.ConfigDict) -> int:
    """The next step at which the host must log, evaluate or stop."""
    t = config.train
    candidates = [t.steps, step + t.scan_steps]
    for every in (t.log_every, t.eval_every):
        candidates.append((step // every + 1) * every)
    return min(candidates)


def _mean_metrics(chunks: list[dict[str, jax.Array]]) -> dict[str, float]:
    """Per-step metrics averaged over every step since the last log."""
    stacked = {k: np.concatenate([np.asarray(c[k]) for c in chunks]) for k in chunks[0]}
    return {f"train/{k}": float(v.mean()) for k, v in stacked.items()}


def _check_finite(step: int, metrics: dict[str, float]) -> None:
    bad = [k for k, v in metrics.items() if not math.isfinite(v)]
    if bad:
        raise DivergenceError(
            f"training diverged by step {step}: {', '.join(bad)} is NaN/Inf; lower "
            f"optim.g_lr/optim.d_lr, add a penalty (penalty.name=r1) or change loss.name")


def prepare_workdir(workdir: str) -> None:
    """Creates `workdir`; refuses one that already holds a run, so nothing is overwritten."""
    if os.path.exists(os.path.join(workdir, "metrics.jsonl")):
        raise WorkdirError(f"workdir {workdir} already holds a run (metrics.jsonl); "
                           f"choose a new --workdir (runs are never overwritten)")
    os.makedirs(os.path.join(workdir, "figures"), exist_ok=True)


def train(config: ml_collections.ConfigDict, workdir: str, name: str = "experiment",
          tensorboard: bool = True, verbose: bool = True) -> dict[str, Any]:
    """Trains `config` to completion, writing results into `workdir`; returns the summary."""
    gan, source, state = setup(config)
    prepare_workdir(workdir)
    with open(os.path.join(workdir, "config.json"), "w", encoding="utf-8") as f:
        f.write(config_lib.to_json(config))

    trainer = Trainer(config, gan, source)
    evaluate = make_toy_evaluator(gan, source, config)
    writer = MetricWriter(workdir, tensorboard=tensorboard)
    progress = Progress(config.train.steps)
    t = config.train
    start = time.perf_counter()
    first_step_time = None
    step, pending, rate = 0, [], float("nan")
    try:
        while step < t.steps:
            n = _next_boundary(step, config) - step
            state, metrics = trainer.run(state, n)
            pending.append(metrics)
            step += n
            if first_step_time is None:
                jax.block_until_ready(state)
                first_step_time = time.perf_counter() - start
            if step % t.log_every == 0 or step == t.steps:
                logged = _mean_metrics(pending)
                pending = []
                _check_finite(step, logged)
                writer.write(step, logged)
                if verbose:
                    rate = progress.update(step, {k: logged[k] for k in
                                                  ("train/d_loss", "train/g_loss")})
            if step % t.eval_every == 0 or step == t.steps:
                result = evaluate(state)
                writer.write(step, {f"eval/{k}": v for k, v in result.metrics.items()})
                plot_toy(result, source, os.path.join(workdir, "figures", f"step_{step:07d}.png"),
                         f"{name}, step {step}")
        wall = time.perf_counter() - start
    finally:
        writer.close()

    plot_curves(writer.records, os.path.join(workdir, "figures", "curves.png"))
    final_figure = os.path.join(workdir, "figures", "final.png")
    plot_toy(result, source, final_figure, f"{name}, step {step}")
    summary = {
        "step": step,
        **{f"eval/{k}": v for k, v in result.metrics.items()},
        "wall_time_s": wall,
        "time_to_first_chunk_s": first_step_time,
        "steps_per_s": step / wall,
        "figure": final_figure,
    }
    with open(os.path.join(workdir, "summary.json"), "w", encoding="utf-8") as f:
        json.dump({k: (v if not isinstance(v, float) or math.isfinite(v) else None)
                   for k, v in summary.items()}, f, indent=2)
    return summary
