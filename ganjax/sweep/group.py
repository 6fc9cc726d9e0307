"""Training one group of sweep points as one vectorized program, each point in its own run folder.

The group's states are stacked and advanced together (`VectorizedToyRunner`); after every chunk
each point's own hooks (the ones `ganjax train` uses: log, evaluate, checkpoint) see a view of
its replica, so a point's folder is an ordinary run folder: metrics.jsonl, TensorBoard events,
figures, summary.json, config.json and orbax checkpoints that `ganjax train`, `sample` and
`eval` read like any other. Every point saves at the same steps, so the group resumes as a
whole from the newest step that all its unfinished points have. A point whose loss or
parameters turn NaN/Inf is marked diverged (`diverged.json`) and frozen; the others go on.
"""

from __future__ import annotations

import json
import os
import time
from typing import Any, Callable, Sequence

import jax
import numpy as np

from ganjax.data import make_source
from ganjax.engine.build import build
from ganjax.engine.hparams import read_values
from ganjax.engine.rng import init_key
from ganjax.errors import ConfigError, DivergenceError, Interrupted
from ganjax.evaluation.evaluator import make_toy_evaluator, toy_eval_program
from ganjax import config as config_lib
from ganjax.outputs.writers import MetricWriter, Progress, jsonable, write_text_atomically
from ganjax.run.checkpoint import Checkpointer, latest_step_on_disk
from ganjax.run.experiment import build_step
from ganjax.run.hooks import CheckpointHook, EvalHook, LogHook, StopSignals
from ganjax.run.loop import (checkpoint_meta, run_summary, write_final_outputs,
                             write_run_config)
from ganjax.run.timing import RunClock, compile_seconds
from ganjax.run.workdir import prepare_workdir
from ganjax.sweep.points import Point
from ganjax.sweep.vectorized import (VectorizedToyRunner, replica_mesh, shard_replicas, stack,
                                     unstack)

DIVERGED_FILE = "diverged.json"


def point_status(point: Point, sweep_dir: str) -> str:
    """"finished", "diverged" or "pending", from the point's folder alone."""
    workdir = point.workdir(sweep_dir)
    if os.path.exists(os.path.join(workdir, DIVERGED_FILE)):
        return "diverged"
    try:
        with open(os.path.join(workdir, "summary.json"), encoding="utf-8") as f:
            summary = json.load(f)
        if summary.get("step", 0) >= point.config.train.steps:
            return "finished"
    except (OSError, json.JSONDecodeError):
        pass
    return "pending"


class ReplicaView:
    """What the run hooks read from a session, for one replica of a stacked group."""

    def __init__(self, group: "GroupRun", index: int, evaluate: Callable):
        self._group, self.index, self._evaluate = group, index, evaluate

    @property
    def step(self) -> int:
        return self._group.step

    @property
    def clock(self) -> RunClock:
        return self._group.clock

    @property
    def state(self):
        return self._group.replica_state(self.index)

    def evaluate(self):
        return self._evaluate(self.state)


class PointRun:
    """One point's folder, writer and hooks inside a group."""

    def __init__(self, point: Point, sweep_dir: str, log: Callable[[str], None]):
        self.point = point
        self.workdir = point.workdir(sweep_dir)
        # A folder with files but no checkpoint (a start killed before its first save) is
        # moved aside, never deleted; one with checkpoints resumes.
        fresh = latest_step_on_disk(self.workdir) is None
        self.resume = prepare_workdir(self.workdir, point.config, fresh, log)
        self.checkpointer = Checkpointer(self.workdir, keep=point.config.train.keep_checkpoints,
                                         keep_every=point.config.train.keep_checkpoint_every,
                                         log=log)
        self.done = False
        self.hooks: list[Any] = []

    def start(self, start_step: int, pending: list, signals: StopSignals) -> None:
        c = self.point.config
        write_run_config(self.workdir, c)
        self.writer = MetricWriter(self.workdir, tensorboard=True, resume_step=start_step)
        self.log_hook = LogHook(c, self.writer, None, pending)
        self.eval_hook = EvalHook(c, self.writer, os.path.join(self.workdir, "figures"),
                                  self.point.name)
        # Time-based saves are decided once for the whole group (GroupRun), never per point.
        no_timer = config_lib.ConfigDict(c.to_dict())
        no_timer.train.checkpoint_every_minutes = 0.0
        meta = {**checkpoint_meta(self.point.name, c), "sweep_point": self.point.overrides}
        self.checkpoint_hook = CheckpointHook(no_timer, self.checkpointer, self.log_hook, meta,
                                              signals, None, start_step or None)
        self.hooks = [self.log_hook, self.eval_hook, self.checkpoint_hook]

    def close(self) -> None:
        if getattr(self, "writer", None) is not None:
            self.writer.close()
        self.checkpointer.close()


class GroupRun:
    """A group's stacked state, its runner and its points."""

    def __init__(self, points: Sequence[Point], sweep_dir: str, log: Callable[[str], None]):
        self.points = list(points)
        self.sweep_dir, self.log = sweep_dir, log
        first = self.points[0].config
        if not config_lib.is_toy(first):
            raise ConfigError("vectorized sweeps train toy data (sampled on device); run image "
                              "sweeps with --no-vectorize (one point after another)")
        self.source = make_source(first.data)
        self.algorithms = [build(p.config, (self.source.dim,)) for p in self.points]
        self.algorithm = self.algorithms[0]
        self.mesh = replica_mesh(len(self.points))
        self.runner = VectorizedToyRunner(build_step(self.algorithm, first), self.source,
                                          [p.config for p in self.points], self.mesh)
        program = toy_eval_program(self.algorithm, self.source, first)  # one compilation
        self.evaluators = [make_toy_evaluator(a, self.source, p.config, program)
                           for a, p in zip(self.algorithms, self.points)]
        self.runs = [PointRun(p, sweep_dir, log) for p in self.points]
        self.clock = RunClock()
        self.step = 0
        self._host_cache: tuple[int, Any] | None = None
        self._states = None
        self.first_chunk_s: float | None = None

    def initial_states(self) -> list[Any]:
        """Every point's first state: point 0's initialiser (one compilation) on each seed, with
        the point's own hyperparameter values."""
        init = jax.jit(self.algorithm.init)
        states = []
        for algorithm, p in zip(self.algorithms, self.points):
            state = init(init_key(p.config.seed))
            states.append(state.replace(hparams=read_values(
                {k: float(v) for k, v in algorithm.gan.hparam_values.items()})))
        return states

    def replica_state(self, index: int):
        if self._host_cache is None or self._host_cache[0] != self.step:
            self._host_cache = (self.step, jax.device_get(self._states))
        return unstack(self._host_cache[1], index)

    def restore(self, states: list[Any]) -> tuple[list[Any], int, list[list]]:
        """(states, step, pending log windows) from the newest step every point saved."""
        saved = [set(r.checkpointer.steps()) if r.resume else set() for r in self.runs]
        common = set.intersection(*saved) if saved else set()
        if not common:
            if any(saved):
                self.log("ganjax: sweep: the points of this group have no checkpoint step in "
                         "common; starting the group again from step 0")
            return states, 0, [[] for _ in states]
        step = max(common)
        restored, pending = [], []
        for run, state in zip(self.runs, states):
            r = run.checkpointer.restore(step, state)
            window = r.meta.get("log_window") or {}
            restored.append(r.state)
            pending.append([{k: np.asarray(v, np.float32) for k, v in window.items()}]
                           if window else [])
        self.log(f"ganjax: sweep: resuming {len(states)} points from step {step}")
        return restored, step, pending


def train_group(points: Sequence[Point], sweep_dir: str,
                log: Callable[[str], None] = print, progress: bool = True,
                stop_at: int | None = None) -> list[dict[str, Any]]:
    """Trains `points` (one structure) as one vectorized program; returns their summaries.

    `stop_at` checkpoints every point at that step and raises Interrupted (as SIGTERM does).
    """
    group = GroupRun(points, sweep_dir, log)
    total = points[0].config.train.steps
    states, start, pending = group.restore(group.initial_states())
    group.step = group.start = start
    group._states = shard_replicas(stack(states), group.mesh)
    views = [ReplicaView(group, i, group.evaluators[i]) for i in range(len(points))]
    bar = Progress(total, start) if progress else None
    every_s = 60.0 * points[0].config.train.checkpoint_every_minutes
    last_save = time.perf_counter()
    chunk_max = points[0].config.train.scan_steps
    log_every = points[0].config.train.log_every
    try:
        with StopSignals(log) as signals:
            for run, window in zip(group.runs, pending):
                run.start(start, window, signals)
            while group.step < total:
                live = [r for r in group.runs if not r.done]
                if not live:
                    break
                stops = [total, group.step + chunk_max]
                if stop_at is not None and stop_at > group.step:
                    stops.append(stop_at)
                for run in live:
                    stops += [s for s in (h.next_stop(group.step) for h in run.hooks)
                              if s is not None and s > group.step]
                n = min(stops) - group.step
                began, compiled_before = time.perf_counter(), compile_seconds()
                group._states, metrics = group.runner.run(group._states, n)
                metrics = jax.device_get(metrics)
                wall = time.perf_counter() - began
                group.clock.add_chunk(wall, compile_seconds() - compiled_before, n)
                group.first_chunk_s = group.first_chunk_s or wall
                group.step += n
                due = bool(every_s) and time.perf_counter() - last_save >= every_s
                stopping = signals.received or (stop_at is not None and group.step >= stop_at)
                for i, run in enumerate(group.runs):
                    if run.done:
                        continue
                    mine = {k: v[:, i] for k, v in metrics.items()}
                    try:
                        for hook in run.hooks:
                            hook.after_chunk(views[i], mine)
                        if (due or stopping) and run.checkpoint_hook.saved_step != group.step:
                            run.checkpoint_hook.save(views[i])
                    except DivergenceError as e:
                        _mark_diverged(run, group, i, str(e), log)
                    except Interrupted:  # a signal: every point saves, then the group stops
                        pass
                if due:
                    last_save = time.perf_counter()
                if stopping and group.step < total:
                    for run in group.runs:
                        run.checkpointer.wait()
                    why = signals.received or f"stop_at={stop_at}"
                    raise Interrupted(f"sweep group stopped by {why} at step {group.step}/"
                                      f"{total}; checkpoints saved in every point's folder; run "
                                      f"the same command to continue", group.step)
                if group.step % log_every == 0 or group.step == total:
                    _progress(bar, group, metrics)
    finally:
        for run in group.runs:
            run.close()
    return _finish(group)


def _progress(bar: Progress | None, group: GroupRun, metrics: dict) -> None:
    if bar is None:
        return
    live = group.runner.active
    losses = {k: float(np.nanmean(metrics[k][:, live])) for k in ("d_loss", "g_loss")
              if k in metrics and live.any()}
    losses["replicas"] = float(live.sum())
    bar.update(group.step, losses, group.clock.train_s, 0.0, group.clock.compile_s)


def _mark_diverged(run: PointRun, group: GroupRun, index: int, why: str,
                   log: Callable[[str], None]) -> None:
    """Freezes a diverged replica and records why in its folder; its checkpoints stay as saved."""
    run.done = True
    group.runner.freeze(index)
    record = {"diverged_at_step": group.step, "error": why,
              "last_good_checkpoint": run.checkpoint_hook.saved_step}
    write_text_atomically(os.path.join(run.workdir, DIVERGED_FILE), json.dumps(record, indent=2))
    log(f"ganjax: sweep point {run.point.name} diverged ({why}); frozen, the others go on")


def _finish(group: GroupRun) -> list[dict[str, Any]]:
    """Each finished point's figures and summary.json, as `ganjax train` writes them."""
    summaries = []
    clock = group.clock
    for i, run in enumerate(group.runs):
        if run.done:
            continue
        # A group restored at its last step (killed after the final save) trained nothing more.
        result = run.eval_hook.result or group.evaluators[i](group.replica_state(i))
        summary = run_summary(run.workdir, run.point.name, group.step, result,
                              clock.train_s + clock.compile_s + clock.eval_s, clock,
                              group.first_chunk_s, group.start or None, group.mesh.size)
        summary["sweep"] = {"point": run.point.overrides, "replicas_in_group": len(group.runs),
                            "times": "shared by the group's replicas (one vectorized program)"}
        write_final_outputs(run.workdir, run.point.name, group.step, result,
                            run.writer.records, jsonable(summary))
        summaries.append(summary)
    return summaries
