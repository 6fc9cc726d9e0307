"""A Session: an experiment, its state and its compiled chunks, advanced a chunk at a time.

`ganjax train` is a session plus file hooks (`ganjax.run.hooks`); a notebook, the playground or
a reproduction script can drive one directly: advance n steps, evaluate, read or replace the
state, change numeric hyperparameters between chunks (no recompilation: they are arrays in the
state), all without a workdir, signals or files.

    session = Session(build_experiment(config))
    session.advance(500)
    session.set_hparams({"penalty.weight": 10.0})
    session.run(until=2000, hooks=[my_hook])
    result = session.evaluate()

Hooks are objects with `next_stop(step) -> int | None` (a step at which the hook must see the
state; chunks end there) and `after_chunk(session, metrics)`; `metrics` holds the chunk's
per-step values ([n] arrays, [n, R] for a state stacked over R replicas).
"""

from __future__ import annotations

import time
from typing import Any, Mapping, Protocol, Sequence

import jax
import numpy as np
from jax.sharding import Mesh

from ganjax.engine.hparams import replace_hparams
from ganjax.engine.state import TrainState
from ganjax.evaluation.evaluator import EvalResult
from ganjax.parallel import data_mesh, replicate, to_host
from ganjax.run.experiment import Experiment
from ganjax.run.timing import RunClock, compile_seconds

Metrics = dict[str, jax.Array]


class Hook(Protocol):
    """Something that watches a session between chunks (logging, evaluation, checkpoints)."""

    def next_stop(self, step: int) -> int | None:
        """The next step > `step` at which this hook must run, or None."""

    def after_chunk(self, session: "Session", metrics: Metrics) -> None:
        """Called after every chunk, at `session.step`."""


def state_step(state: TrainState) -> int:
    """The step of a state (of replica 0 for a stacked state: replicas step together)."""
    return int(np.asarray(to_host(state.step)).reshape(-1)[0])


class Session:
    """Owns an experiment's state and runner; the state lives replicated on `mesh`."""

    def __init__(self, experiment: Experiment, state: TrainState | None = None,
                 mesh: Mesh | None = None):
        self.experiment = experiment
        self.mesh = mesh or data_mesh()
        self._state = replicate(experiment.state if state is None else state, self.mesh)
        self.step = state_step(self._state)
        self._runner = experiment.make_runner(self.step)
        self.first_chunk_s: float | None = None
        self.clock = RunClock()  # seconds training and compiling (hooks add evaluation's)

    @property
    def state(self) -> TrainState:
        return self._state

    def set_state(self, state: TrainState) -> None:
        """Continue from `state` (e.g. restored, or edited); data resumes at its step."""
        self._state = replicate(state, self.mesh)
        step = state_step(self._state)
        if step != self.step:
            self._runner.seek(step)
            self.step = step

    @property
    def hparams(self) -> dict[str, Any]:
        """The numeric hyperparameters now in force, as floats (lists for a stacked state)."""
        return {k: np.asarray(v).tolist() for k, v in to_host(self._state.hparams).items()}

    def set_hparams(self, updates: Mapping[str, Any]) -> None:
        """Changes numeric hyperparameters (e.g. {"optim.g_lr": 1e-4}) for the next chunks."""
        self._state = replicate(replace_hparams(to_host(self._state), updates), self.mesh)

    def advance(self, num_steps: int) -> Metrics:
        """Runs `num_steps` steps as one compiled chunk; returns their per-step metrics.

        Waits for the chunk to finish, so that `clock` holds its true time (compilation apart).
        """
        start, compiled_before = time.perf_counter(), compile_seconds()
        self._state, metrics = self._runner.run(self._state, num_steps)
        jax.block_until_ready(metrics)
        wall = time.perf_counter() - start
        self.clock.add_chunk(wall, compile_seconds() - compiled_before, num_steps)
        self.step += num_steps
        if self.first_chunk_s is None:
            self.first_chunk_s = wall
        return metrics

    def evaluate(self) -> EvalResult:
        """The experiment's evaluation of the current state (metrics and figure data)."""
        return self.experiment.evaluate(self._state)

    def run(self, until: int, hooks: Sequence[Hook] = (), chunk: int | None = None) -> None:
        """Advances to step `until` in chunks of at most `chunk` (default `train.scan_steps`)
        steps that end wherever a hook asks to run, calling every hook after every chunk."""
        chunk = chunk or self.experiment.config.train.scan_steps
        while self.step < until:
            stops = [until, self.step + chunk]
            stops += [s for s in (h.next_stop(self.step) for h in hooks) if s is not None
                      and s > self.step]
            metrics = self.advance(min(stops) - self.step)
            for hook in hooks:
                hook.after_chunk(self, metrics)

    def close(self) -> None:
        """Stops the runner's background reader (image data)."""
        self._runner.close()
