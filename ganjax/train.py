"""The thin host loop around the compiled step: log, evaluate, draw, summarise.

Steps run in compiled chunks of `train.scan_steps` (a lax.scan); the loop only touches the host at
chunk boundaries, which are aligned with the logging, evaluation and checkpoint intervals. Chunk
boundaries depend on the step alone, so a resumed run replays exactly the chunks of an
uninterrupted one and ends with bit-identical parameters.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import shutil
import signal
import threading
import time
from typing import Any, Callable

import jax
import ml_collections
import numpy as np
from jax.sharding import Mesh

from ganjax import config as config_lib
from ganjax.checkpoint import Checkpointer, all_finite, latest_step_on_disk
from ganjax.data import example_shape, make_image_sampler, make_source
from ganjax.evaluation.evaluator import EvalResult, make_image_evaluator, make_toy_evaluator
from ganjax.figures import plot_curves
from ganjax.gan import GAN, build_gan, init_state
from ganjax.parallel import (assert_same_config, check_batch_divisible, data_mesh,
                             is_main_process, replicate, sync_processes, to_host)
from ganjax.runners import DeviceSampledRunner, HostFedRunner
from ganjax.state import GANState
from ganjax.step import StepFn, make_train_step, skip_nonfinite
from ganjax.writers import MetricWriter, Progress, jsonable, write_text_atomically


class DivergenceError(RuntimeError):
    """A loss or a parameter became NaN or Inf."""


class DataError(RuntimeError):
    """The dataset of `data.source` cannot be read as configured."""


class WorkdirError(RuntimeError):
    """The workdir already holds a run that this one would mix with."""


class Interrupted(RuntimeError):
    """Training stopped early on request (a signal or `stop_at`) after saving a checkpoint."""

    def __init__(self, message: str, step: int):
        super().__init__(message)
        self.step = step


def rngs(seed: int) -> tuple[jax.Array, jax.Array]:
    """(init key, data key): independent streams derived from the config's seed."""
    root = jax.random.PRNGKey(seed)
    return jax.random.fold_in(root, 0), jax.random.fold_in(root, 1)


Runner = DeviceSampledRunner | HostFedRunner


def initial_state(gan: GAN, seed: int) -> GANState:
    """The first state of a run from its seed's init key (also the target shape of restores).

    One compiled program instead of dozens of eagerly compiled initialiser ops.
    """
    return jax.jit(lambda rng: init_state(gan, rng))(rngs(seed)[0])


@dataclasses.dataclass
class Experiment:
    """Everything one run needs, built from its config."""

    config: ml_collections.ConfigDict
    gan: GAN
    state: GANState
    make_runner: Callable[[int], Runner]  # start step -> runner fed from that step on
    evaluate: Callable[[GANState], EvalResult]


def build_step(gan: GAN, config: ml_collections.ConfigDict) -> StepFn:
    """The train step, guarded against non-finite updates when `train.nan_policy=skip`."""
    step = make_train_step(gan)
    return skip_nonfinite(step) if config.train.nan_policy == "skip" else step


def build_experiment(config: ml_collections.ConfigDict, mesh: Mesh | None = None) -> Experiment:
    """Validates `config` and builds its GAN, first state, step runner and evaluator.

    The runner is data-parallel over `mesh` (default: every device of every process); this
    process reads only its own rows of each image batch.
    """
    mesh = mesh or data_mesh()
    config_lib.validate(config)
    data_rng = rngs(config.seed)[1]
    if config_lib.is_toy(config):
        source = make_source(config.data)
        gan = build_gan(config, (source.dim,))
        step = build_step(gan, config)
        make_runner = lambda start: DeviceSampledRunner(  # noqa: E731
            step, source, config, data_rng, mesh)
        evaluate = make_toy_evaluator(gan, source, config)
    else:
        try:
            sampler = make_image_sampler(config, jax.process_index(), jax.process_count())
        except (OSError, ValueError, ImportError) as e:
            raise DataError(f"data.source={config.data.source}: {e}") from e
        gan = build_gan(config, example_shape(config))
        step = build_step(gan, config)
        make_runner = lambda start: HostFedRunner(step, sampler, mesh, start)  # noqa: E731
        evaluate = make_image_evaluator(gan, sampler.global_view().batch(0)["x"][0], config)
    state = initial_state(gan, config.seed)
    return Experiment(config, gan, state, make_runner, evaluate)


def _next_boundary(step: int, config: ml_collections.ConfigDict, stop_at: int | None) -> int:
    """The next step at which the host must log, evaluate, checkpoint or stop."""
    t = config.train
    candidates = [t.steps, step + t.scan_steps]
    for every in (t.log_every, t.eval_every, t.checkpoint_every):
        if every:
            candidates.append((step // every + 1) * every)
    if stop_at is not None and stop_at > step:
        candidates.append(stop_at)
    return min(candidates)


def _stack(chunks: list[dict[str, jax.Array]]) -> dict[str, np.ndarray]:
    """Per-step metrics of several chunks as one [steps] array per name."""
    chunks = to_host(chunks)
    return {k: np.concatenate([c[k] for c in chunks]) for k in chunks[0]}


def _window_means(stacked: dict[str, np.ndarray]) -> dict[str, float]:
    """Metrics averaged over the steps since the last log; skipped steps are counted, not mixed in."""
    skipped = stacked.get("skipped")
    used = skipped == 0 if skipped is not None else np.ones(len(next(iter(stacked.values()))),
                                                             bool)
    means = {f"train/{k}": float(v[used].mean()) if used.any() else math.nan
             for k, v in stacked.items() if k != "skipped"}
    if skipped is not None:
        means["train/skipped"] = float(skipped.sum())
    return means


def check_finite(stacked: dict[str, np.ndarray], last_step: int, policy: str) -> None:
    """Raises DivergenceError naming the first step and term that went NaN/Inf.

    Under `nan_policy=skip` a non-finite step was already undone; only a window in which every
    step was skipped stops the run.
    """
    steps = len(next(iter(stacked.values())))
    first = last_step - steps + 1
    skipped = stacked.get("skipped")
    if policy == "skip" and skipped is not None:
        if skipped.all():
            raise DivergenceError(f"every step from {first} to {last_step} was skipped as "
                                  f"non-finite; lower optim.g_lr/optim.d_lr or add a penalty")
        return
    for i in range(steps):
        bad = [k for k, v in stacked.items() if not np.isfinite(v[i])]
        if bad:
            raise DivergenceError(
                f"training diverged at step {first + i}: {', '.join(bad)} is NaN/Inf; lower "
                f"optim.g_lr/optim.d_lr, add a penalty (penalty.name=r1), change loss.name, or "
                f"set train.nan_policy=skip")


class StopSignals:
    """SIGTERM/SIGINT ask the loop to stop at the next chunk boundary; a second one stops now."""

    SIGNALS = (signal.SIGTERM, signal.SIGINT)

    def __init__(self, log: Callable[[str], None]):
        self.received: str | None = None
        self._log = log
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> "StopSignals":
        if threading.current_thread() is threading.main_thread():
            for sig in self.SIGNALS:
                self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def _handle(self, signum: int, frame: Any) -> None:
        name = signal.Signals(signum).name
        if self.received is not None:  # asked twice: the user means it
            self.__exit__()
            signal.raise_signal(signum)
            return
        self.received = name
        self._log(f"ganjax: got {name}; saving a checkpoint after the current chunk of steps "
                  f"(send {name} again to stop at once without one)")

    def __exit__(self, *exc: Any) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)
        self._previous = {}


def plan_workdir(workdir: str, config: ml_collections.ConfigDict, overwrite: bool,
                 log: Callable[[str], None]) -> tuple[bool, str | None]:
    """(resume?, where to move the old run or None), decided from the files alone.

    A workdir with checkpoints is resumed when `train.resume` (the default) and the config differs
    only in the fields that may change. Any other non-empty workdir is refused, or with
    `overwrite` renamed to `<workdir>.replaced-<time>`: nothing a user wrote is deleted. Reads
    only, so that every process of a multi-process run reaches the same decision.
    """
    if not (os.path.isdir(workdir) and os.listdir(workdir)):
        return False, None
    has_checkpoints = latest_step_on_disk(workdir) is not None
    if has_checkpoints and config.train.resume and not overwrite:
        saved_path = os.path.join(workdir, "config.json")
        if os.path.exists(saved_path):
            with open(saved_path, encoding="utf-8") as f:
                changes = config_lib.check_resumable(json.load(f), config)
            for key, old, new in changes:
                log(f"ganjax: resuming with {key} changed from {old!r} to {new!r}")
        return True, None
    if not overwrite:
        what = ("checkpoints, and train.resume=false" if has_checkpoints
                else "files but no checkpoint to resume from")
        raise WorkdirError(f"workdir {workdir} already holds {what}; pass --overwrite to move "
                           f"the old run to {workdir.rstrip('/')}.replaced-<time>, or choose a "
                           f"new --workdir")
    return False, f"{workdir.rstrip('/')}.replaced-{time.strftime('%Y%m%d-%H%M%S')}"


def prepare_workdir(workdir: str, config: ml_collections.ConfigDict, overwrite: bool,
                    log: Callable[[str], None]) -> bool:
    """Plans (every process), then moves and creates folders (process 0); True to resume."""
    # Every process reads the folder before process 0 changes it, and sees the result after.
    sync_processes("ganjax: before planning the workdir")
    resume, move_to = plan_workdir(workdir, config, overwrite, log)
    sync_processes("ganjax: workdir planned")
    if is_main_process():
        if move_to:
            os.rename(workdir, move_to)
            log(f"ganjax: --overwrite: moved the previous run to {move_to}")
        os.makedirs(os.path.join(workdir, "figures"), exist_ok=True)
    sync_processes("ganjax: workdir ready")
    return resume


def _quiet(message: str) -> None:
    del message


def _resume(checkpointer: Checkpointer, state: GANState, steps: int,
            log: Callable[[str], None]) -> tuple[GANState, int, list[dict[str, np.ndarray]]]:
    """(state, its step, the unlogged per-step metrics) of the newest good checkpoint."""
    restored = checkpointer.restore_latest(state)
    if restored is None:
        return state, 0, []
    window = restored.meta.get("log_window") or {}
    pending = [{k: np.asarray(v, np.float32) for k, v in window.items()}] if window else []
    log(f"ganjax: resuming from the checkpoint of step {restored.step} in "
        f"{checkpointer.directory}")
    if restored.step >= steps:
        log(f"ganjax: the run is already complete ({restored.step} steps); evaluating it again "
            f"(raise train.steps to train longer)")
    return restored.state, restored.step, pending


def _save_checkpoint(checkpointer: Checkpointer, state: GANState, step: int,
                     pending: list[dict[str, Any]], meta: dict[str, Any],
                     saved_step: int | None) -> None:
    """Starts saving `state` with the unlogged metrics; never saves a non-finite state."""
    if not all_finite(state):
        raise DivergenceError(f"parameters are NaN/Inf at step {step}; not saving them (the last "
                              f"good checkpoint, step {saved_step}, stays as it was)")
    window = {k: v.tolist() for k, v in _stack(pending).items()} if pending else {}
    checkpointer.save(state, {**meta, "log_window": window})


def train(config: ml_collections.ConfigDict, workdir: str, name: str = "experiment",
          tensorboard: bool = True, verbose: bool = True, overwrite: bool = False,
          stop_at: int | None = None) -> dict[str, Any]:
    """Trains `config` to `train.steps` in `workdir`, resuming its checkpoints; returns the summary.

    `stop_at` saves a checkpoint at that step and raises Interrupted, as SIGTERM does, so that
    long runs can be cut into slices (and tests can interrupt a run at an exact step).
    """
    config_lib.validate(config)
    main = is_main_process()
    log = print if verbose and main else _quiet
    mesh = data_mesh()
    try:
        check_batch_divisible(config.train.batch_size, mesh)
    except ValueError as e:
        raise config_lib.ConfigError(str(e)) from None
    assert_same_config(config_lib.to_json(config))
    resume = prepare_workdir(workdir, config, overwrite, log)
    experiment = build_experiment(config, mesh)
    t = config.train
    checkpointer = Checkpointer(workdir, keep=t.keep_checkpoints,
                                keep_every=t.keep_checkpoint_every, log=log)
    state, start_step, pending = replicate(experiment.state, mesh), 0, []
    if resume:
        state, start_step, pending = _resume(checkpointer, state, t.steps, log)
    if main:
        with open(os.path.join(workdir, "config.json"), "w", encoding="utf-8") as f:
            f.write(config_lib.to_json(config))

    runner = experiment.make_runner(start_step)
    writer = MetricWriter(workdir, tensorboard=tensorboard, resume_step=start_step, enabled=main)
    progress = Progress(t.steps, start_step)
    # log_window: per-step metrics since the last log, so a resumed run logs the same means.
    meta = {"experiment": name, "config": config.to_dict(),
            "data_position": "the batches of step s are a pure function of (seed, s)"}
    start = time.perf_counter()
    first_step_time, result = None, None
    step, unchecked = start_step, []
    saved_step = start_step if resume else None
    try:
        with StopSignals(log) as signals:
            while step < t.steps:
                n = _next_boundary(step, config, stop_at) - step
                state, metrics = runner.run(state, n)
                pending.append(metrics)
                unchecked.append(metrics)
                step += n
                if first_step_time is None:
                    jax.block_until_ready(state)
                    first_step_time = time.perf_counter() - start
                if step % t.log_every == 0 or step == t.steps:
                    stacked = _stack(pending)
                    check_finite(stacked, step, t.nan_policy)
                    pending, unchecked = [], []
                    logged = _window_means(stacked)
                    writer.write(step, logged)
                    if verbose and main:
                        progress.update(step, {k: logged[k] for k in
                                               ("train/d_loss", "train/g_loss")})
                if step % t.eval_every == 0 or step == t.steps:
                    result = experiment.evaluate(state)
                    writer.write(step, {f"eval/{k}": v for k, v in result.metrics.items()})
                    if main:
                        result.draw(os.path.join(workdir, "figures", f"step_{step:07d}.png"),
                                    f"{name}, step {step}")
                stopping = signals.received or (stop_at is not None and step >= stop_at)
                at_interval = bool(t.checkpoint_every) and step % t.checkpoint_every == 0
                if at_interval or step == t.steps or stopping:
                    if unchecked:
                        check_finite(_stack(unchecked), step, t.nan_policy)
                        unchecked = []
                    _save_checkpoint(checkpointer, state, step, pending, meta, saved_step)
                    saved_step = step
                if stopping and step < t.steps:
                    checkpointer.wait()
                    why = signals.received or f"stop_at={stop_at}"
                    raise Interrupted(
                        f"stopped by {why} at step {step}/{t.steps}; checkpoint saved in "
                        f"{checkpointer.directory}/{step}; run the same command to continue",
                        step)
        wall = time.perf_counter() - start
    except DivergenceError as e:
        if saved_step is not None:
            raise DivergenceError(f"{e} (last good checkpoint: step {saved_step} in "
                                  f"{checkpointer.directory}, kept intact)") from None
        raise
    finally:
        writer.close()
        runner.close()
        checkpointer.close()

    if result is None:  # resumed a finished run: nothing trained, evaluate it again
        result = experiment.evaluate(state)
    summary = {
        "step": step,
        **{f"eval/{k}": v for k, v in result.metrics.items()},
        "wall_time_s": wall,
        "resumed_from_step": start_step if resume else None,
        "time_to_first_chunk_s": first_step_time,
        "steps_per_s": (step - start_step) / wall if step > start_step else None,
        "devices": mesh.size,
        "processes": jax.process_count(),
        "figure": os.path.join(workdir, "figures", "final.png"),
    }
    if main:
        _write_final_outputs(workdir, name, step, result, writer.records, summary)
    return summary


def _write_final_outputs(workdir: str, name: str, step: int, result: EvalResult,
                         records: list[dict[str, Any]], summary: dict[str, Any]) -> None:
    """Curves, the final figure and summary.json (process 0 only)."""
    plot_curves(records, os.path.join(workdir, "figures", "curves.png"))
    step_figure = os.path.join(workdir, "figures", f"step_{step:07d}.png")
    if not os.path.exists(step_figure):
        result.draw(step_figure, f"{name}, step {step}")
    shutil.copyfile(step_figure, summary["figure"])
    write_text_atomically(os.path.join(workdir, "summary.json"),
                          json.dumps(jsonable(summary), indent=2))
