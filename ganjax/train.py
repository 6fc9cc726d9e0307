"""The thin host loop around the compiled step: log, evaluate, draw, summarise.

Steps run in compiled chunks of `train.scan_steps` (a lax.scan); the loop only touches the host at
chunk boundaries, which are aligned with the logging and evaluation intervals.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import shutil
import time
from typing import Any, Callable

import jax
import ml_collections
import numpy as np

from ganjax import config as config_lib
from ganjax.data import make_image_sampler, make_source
from ganjax.evaluation.evaluator import EvalResult, make_image_evaluator, make_toy_evaluator
from ganjax.figures import plot_curves
from ganjax.gan import GAN, build_gan, init_state
from ganjax.runners import DeviceSampledRunner, HostFedRunner
from ganjax.state import GANState
from ganjax.step import make_train_step
from ganjax.writers import MetricWriter, Progress, jsonable


class DivergenceError(RuntimeError):
    """A loss or gradient became NaN or Inf."""


class DataError(RuntimeError):
    """The dataset of `data.source` cannot be read as configured."""


class WorkdirError(RuntimeError):
    """The workdir already holds a run that this one would mix with."""


def rngs(seed: int) -> tuple[jax.Array, jax.Array]:
    """(init key, data key): independent streams derived from the config's seed."""
    root = jax.random.PRNGKey(seed)
    return jax.random.fold_in(root, 0), jax.random.fold_in(root, 1)


@dataclasses.dataclass
class Experiment:
    """Everything one run needs, built from its config."""

    config: ml_collections.ConfigDict
    gan: GAN
    state: GANState
    runner: DeviceSampledRunner | HostFedRunner
    evaluate: Callable[[GANState], EvalResult]


def build_experiment(config: ml_collections.ConfigDict, start_step: int = 0) -> Experiment:
    """Validates `config` and builds its GAN, first state, step runner and evaluator."""
    config_lib.validate(config)
    init_rng, data_rng = rngs(config.seed)
    if config_lib.is_toy(config):
        source = make_source(config.data)
        gan = build_gan(config, (source.dim,))
        runner = DeviceSampledRunner(make_train_step(gan), source, config, data_rng)
        evaluate = make_toy_evaluator(gan, source, config)
    else:
        try:
            sampler = make_image_sampler(config)
        except (OSError, ValueError, ImportError) as e:
            raise DataError(f"data.source={config.data.source}: {e}") from e
        gan = build_gan(config, (config.data.resolution,) * 2 + (config.data.channels,))
        runner = HostFedRunner(make_train_step(gan), sampler, start_step)
        evaluate = make_image_evaluator(gan, sampler.batch(0)["x"][0], config)
    # One compiled program instead of dozens of eagerly compiled initialiser ops.
    state = jax.jit(lambda rng: init_state(gan, rng))(init_rng)
    return Experiment(config, gan, state, runner, evaluate)


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
    experiment = build_experiment(config)
    state = experiment.state
    prepare_workdir(workdir)
    with open(os.path.join(workdir, "config.json"), "w", encoding="utf-8") as f:
        f.write(config_lib.to_json(config))

    writer = MetricWriter(workdir, tensorboard=tensorboard)
    progress = Progress(config.train.steps)
    t = config.train
    start = time.perf_counter()
    first_step_time = None
    step, pending = 0, []
    try:
        while step < t.steps:
            n = _next_boundary(step, config) - step
            state, metrics = experiment.runner.run(state, n)
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
                    progress.update(step, {k: logged[k] for k in
                                           ("train/d_loss", "train/g_loss")})
            if step % t.eval_every == 0 or step == t.steps:
                result = experiment.evaluate(state)
                writer.write(step, {f"eval/{k}": v for k, v in result.metrics.items()})
                result.draw(os.path.join(workdir, "figures", f"step_{step:07d}.png"),
                            f"{name}, step {step}")
        wall = time.perf_counter() - start
    finally:
        writer.close()
        experiment.runner.close()

    plot_curves(writer.records, os.path.join(workdir, "figures", "curves.png"))
    final_figure = os.path.join(workdir, "figures", "final.png")
    shutil.copyfile(os.path.join(workdir, "figures", f"step_{step:07d}.png"), final_figure)
    summary = {
        "step": step,
        **{f"eval/{k}": v for k, v in result.metrics.items()},
        "wall_time_s": wall,
        "time_to_first_chunk_s": first_step_time,
        "steps_per_s": step / wall,
        "figure": final_figure,
    }
    with open(os.path.join(workdir, "summary.json"), "w", encoding="utf-8") as f:
        json.dump({k: jsonable(v) if isinstance(v, float) else v for k, v in summary.items()},
                  f, indent=2)
    return summary
