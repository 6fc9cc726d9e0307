"""Hooks that make a Session a `ganjax train` run: logging, evaluation, checkpoints, signals.

Each hook says where chunks must end (`next_stop`) and acts after every chunk; the order
`[LogHook, EvalHook, CheckpointHook]` is the order of the work at a step: log, evaluate, save.
Chunk boundaries depend on the step alone, so an interrupted-and-resumed run replays exactly the
chunks of an uninterrupted one (bit-identical parameters and logs).
"""

from __future__ import annotations

import math
import os
import signal
import threading
import time
from typing import Any, Callable

import jax
import ml_collections
import numpy as np

from ganjax.errors import DivergenceError, Interrupted
from ganjax.outputs.writers import MetricWriter, Progress
from ganjax.parallel import to_host
from ganjax.run.checkpoint import Checkpointer, all_finite

Metrics = dict[str, jax.Array]


def next_multiple(step: int, every: int) -> int | None:
    """The first multiple of `every` after `step` (None when `every` is 0: never)."""
    return (step // every + 1) * every if every else None


def evaluations_between(step: int, total: int, every: int) -> int:
    """How many evaluations a run still makes after `step`: every `every` (>= 1) steps and at
    `total`."""
    if step >= total:
        return 0
    return total // every - step // every + (0 if total % every == 0 else 1)


def stack_chunks(chunks: list[dict[str, jax.Array]]) -> dict[str, np.ndarray]:
    """Per-step metrics of several chunks as one [steps] array per name."""
    chunks = to_host(chunks)
    return {k: np.concatenate([c[k] for c in chunks]) for k in chunks[0]}


def window_means(stacked: dict[str, np.ndarray]) -> dict[str, Any]:
    """Metrics averaged over the steps since the last log; skipped steps are counted, not mixed in.

    Per-step arrays [steps] give floats; a stacked state's [steps, R] give a list of R values,
    one per replica (never averaged over replicas).
    """
    first = next(iter(stacked.values()))
    if first.ndim > 1:
        replicas = first.shape[1:]
        per_replica = [window_means({k: v[(slice(None),) + index] for k, v in stacked.items()})
                       for index in np.ndindex(replicas)]
        return {k: np.reshape([m[k] for m in per_replica], replicas).tolist()
                for k in per_replica[0]}
    skipped = stacked.get("skipped")
    used = skipped == 0 if skipped is not None else np.ones(len(first), bool)
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
        if np.any(np.all(skipped, axis=0)):
            raise DivergenceError(f"every step from {first} to {last_step} was skipped as "
                                  f"non-finite; lower optim.g_lr/optim.d_lr or add a penalty")
        return
    for i in range(steps):
        bad = [k for k, v in stacked.items() if not np.all(np.isfinite(v[i]))]
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




class LogHook:
    """Logs the means of the per-step metrics every `train.log_every` steps and at the end.

    It also checks them for NaN/Inf (`train.nan_policy`), and keeps the steps not yet logged,
    which a checkpoint saves so that a resumed run logs the same means.
    """

    def __init__(self, config: ml_collections.ConfigDict, writer: MetricWriter,
                 progress: Progress | None, pending: list[dict[str, np.ndarray]] | None = None):
        self._every, self._total = config.train.log_every, config.train.steps
        self._eval_every = config.train.eval_every
        self._policy = config.train.nan_policy
        self._writer, self._progress = writer, progress
        self.pending: list[Any] = list(pending or [])  # per-step metrics since the last log
        self._unchecked: list[Any] = []  # ... and since the last NaN/Inf check

    def next_stop(self, step: int) -> int | None:
        return next_multiple(step, self._every)

    def after_chunk(self, session: Any, metrics: Metrics) -> None:
        self.pending.append(metrics)
        self._unchecked.append(metrics)
        step = session.step
        if step % self._every == 0 or step == self._total:
            stacked = stack_chunks(self.pending)
            check_finite(stacked, step, self._policy)
            self.pending, self._unchecked = [], []
            logged = window_means(stacked)
            self._writer.write(step, logged)
            if self._progress is not None:
                clock = session.clock
                evals_left = evaluations_between(step, self._total, self._eval_every)
                self._progress.update(
                    step, {k: logged[k] for k in ("train/d_loss", "train/g_loss")
                           if isinstance(logged.get(k), float)},
                    clock.train_s, evals_left * (clock.seconds_per_eval or 0.0), clock.compile_s)

    def check_unchecked(self, step: int) -> None:
        """Checks the steps not yet checked (before a checkpoint saves their state)."""
        if self._unchecked:
            check_finite(stack_chunks(self._unchecked), step, self._policy)
            self._unchecked = []

    def unlogged_window(self) -> dict[str, list]:
        """The per-step metrics since the last log, as lists (for a checkpoint's meta)."""
        return {k: v.tolist() for k, v in stack_chunks(self.pending).items()} if self.pending \
            else {}


class EvalHook:
    """Evaluates every `train.eval_every` steps and at the end; logs eval/* and draws figures."""

    def __init__(self, config: ml_collections.ConfigDict, writer: MetricWriter,
                 figure_dir: str | None, name: str):
        self._every, self._total = config.train.eval_every, config.train.steps
        self._writer, self._figure_dir, self._name = writer, figure_dir, name
        self.result = None  # the latest EvalResult

    def next_stop(self, step: int) -> int | None:
        return next_multiple(step, self._every)

    def after_chunk(self, session: Any, metrics: Metrics) -> None:
        step = session.step
        if step % self._every == 0 or step == self._total:
            start = time.perf_counter()
            self.result = session.evaluate()
            self._writer.write(step, {f"eval/{k}": v for k, v in self.result.metrics.items()})
            if self._figure_dir is not None:
                figure = os.path.join(self._figure_dir, f"step_{step:07d}.png")
                self.result.draw(figure, f"{self._name}, step {step}")
                self._writer.image(step, "eval/figure", figure)  # to W&B, when it is on
            session.clock.add_eval(time.perf_counter() - start)


def agreed(flag: bool) -> bool:
    """Process 0's `flag`, the same on every process (a save is collective: all or none)."""
    if jax.process_count() == 1:
        return flag
    from jax.experimental import multihost_utils

    return bool(multihost_utils.broadcast_one_to_all(np.int32(flag)))


class CheckpointHook:
    """Saves every `train.checkpoint_every` steps or `train.checkpoint_every_minutes` of wall
    time (whichever comes first; at chunk boundaries, so the run's steps do not change), at the
    end, and when asked to stop.

    A stop (a signal caught by `signals`, or `stop_at`) saves, waits for the files, and raises
    Interrupted. A state is only saved after its metrics passed the NaN/Inf check, and never
    when a parameter is non-finite: the last checkpoint stays good.
    """

    def __init__(self, config: ml_collections.ConfigDict, checkpointer: Checkpointer,
                 log_hook: LogHook, meta: dict[str, Any], signals: "StopSignals",
                 stop_at: int | None = None, saved_step: int | None = None):
        self._every, self._total = config.train.checkpoint_every, config.train.steps
        self._every_s = 60.0 * config.train.checkpoint_every_minutes
        self._last_save = time.perf_counter()
        self._checkpointer, self._log_hook, self._meta = checkpointer, log_hook, meta
        self._signals, self._stop_at = signals, stop_at
        self.saved_step = saved_step

    def next_stop(self, step: int) -> int | None:
        stops = [s for s in (next_multiple(step, self._every), self._stop_at)
                 if s is not None and s > step]
        return min(stops) if stops else None

    def after_chunk(self, session: Any, metrics: Metrics) -> None:
        step = session.step
        stopping = self._signals.received or (self._stop_at is not None and step >= self._stop_at)
        at_interval = bool(self._every) and step % self._every == 0
        if self._every_s:  # asked on every process at every chunk: the answer is collective
            due = agreed(time.perf_counter() - self._last_save >= self._every_s)
            at_interval = at_interval or due
        if at_interval or step == self._total or stopping:
            self.save(session)
        if stopping and step < self._total:
            self._checkpointer.wait()
            why = self._signals.received or f"stop_at={self._stop_at}"
            raise Interrupted(
                f"stopped by {why} at step {step}/{self._total}; checkpoint saved in "
                f"{self._checkpointer.directory}/{step}; run the same command to continue", step)

    def save(self, session: Any) -> None:
        """Saves the session's state now (after checking the steps not yet checked for NaN/Inf;
        a non-finite parameter raises DivergenceError and saves nothing)."""
        step = session.step
        self._log_hook.check_unchecked(step)
        if not all_finite(session.state):
            raise DivergenceError(f"parameters are NaN/Inf at step {step}; not saving them "
                                  f"(the last good checkpoint, step {self.saved_step}, stays "
                                  f"as it was)")
        self._checkpointer.save(session.state, {
            **self._meta, "log_window": self._log_hook.unlogged_window()})
        self.saved_step = step
        self._last_save = time.perf_counter()
