"""One panel of the page: a GAN built from a setup, trained by ganjax's own Session.

The setup's config builds the algorithm exactly as `ganjax train` does (`ganjax.engine.build`,
`ganjax.run.experiment.build_step`, the on-device `DeviceSampledRunner`), and
`ganjax.run.session.Session` advances it in compiled chunks. Numeric hyperparameters (learning
rates, Adam's betas, the penalty weight, the EMA decay, the weight clip) are arrays in
`TrainState.hparams`: changing one replaces that array and recompiles nothing. Anything else
(the loss, the layers, the data, the noise, the batch) is a new structure: the tab builds a new
PlaygroundSession, which starts again at step 0.

What a setup compiles (the algorithm, its chunk runner, the renderer, the first state) is
`Programs`, pure functions of the state kept in a small process-wide cache by setup: a second
tab, Compare's copy, or going back to a setup tried a moment ago start without compiling.

Single steps of one player reuse the compiled one-step chunk (slow motion's), so they compile
nothing of their own: the other player's learning rate is 0 for that step (its parameters stay
exactly as they are, so G's update sees the old D, and D's updates the old G), and afterwards
its optimizer state, batch statistics and G's EMA are put back as they were.
"""

from __future__ import annotations

import collections
import dataclasses
import threading
from typing import Any, Mapping

import jax
import ml_collections
import numpy as np

from ganjax.config import to_json
from ganjax.engine.algorithm import initial_state
from ganjax.engine.build import build
from ganjax.engine.hparams import replace_hparams
from ganjax.engine.rng import data_key
from ganjax.errors import DivergenceError
from ganjax.evaluation.evaluator import make_toy_evaluator
from ganjax.parallel import data_mesh, to_host
from ganjax.playground import snapshot
from ganjax.playground.data import Points, make_playground_source, view_of
from ganjax.playground.settings import DRAWN, SETTINGS, get
from ganjax.run.experiment import Experiment, build_step
from ganjax.run.hooks import check_finite
from ganjax.run.runners import DeviceSampledRunner
from ganjax.run.session import Session

PLAYERS = ("both", "g", "d")


@dataclasses.dataclass(frozen=True)
class Setup:
    """What a panel trains: a validated playground config, the drawn points (drawn data only)
    and the bundled experiment it was imported from (None: not imported)."""

    config: ml_collections.ConfigDict
    points: Points | None = None
    base: str | None = None


def structure_key(config: ml_collections.ConfigDict, hparam_keys: set[str]) -> Any:
    """Everything of `config` that a compiled program depends on: all but the numeric
    hyperparameters in the state, except whether the EMA, weight clipping, SGD's momentum and
    G's MMD term exist at all (`ganjax.engine.build` compiles them in only when their value is
    > 0)."""
    flat = {}

    def walk(node, prefix):
        for key, value in node.items():
            if isinstance(value, ml_collections.ConfigDict):
                walk(value, f"{prefix}{key}.")
            elif f"{prefix}{key}" not in hparam_keys:
                flat[f"{prefix}{key}"] = value

    walk(config, "")
    flat["_ema"] = config.optim.ema_decay > 0
    flat["_clip"] = config.optim.d_weight_clip > 0
    flat["_momentum"] = config.optim.name == "sgd" and config.optim.momentum > 0
    flat["_g_mmd"] = config.loss.g_mmd_weight > 0
    return flat


def changed_keys(old: ml_collections.ConfigDict, new: ml_collections.ConfigDict) -> list[str]:
    """The playground settings whose values differ between two configs."""
    return [key for key in SETTINGS if get(old, key) != get(new, key)]


@dataclasses.dataclass
class Programs:
    """What one setup builds and compiles; shared by every session of that setup."""

    source: Any  # the toy source (GaussianMixture)
    algorithm: Any  # GANAlgorithm
    runner: DeviceSampledRunner  # its compiled chunks (one per length)
    initial: Any  # the first TrainState, on the host
    layout: snapshot.Layout
    program: snapshot.Program  # the jitted renderer
    mesh: Any


def build_programs(setup: Setup) -> Programs:
    """Builds the GAN of `setup` as `ganjax train` does (programs compile when first run)."""
    config = setup.config
    source = make_playground_source(config, setup.points)
    algorithm = build(config, (source.dim,))
    mesh = data_mesh(jax.devices()[:1])  # toy models: one device
    runner = DeviceSampledRunner(build_step(algorithm, config), source, config,
                                 data_key(config.seed), mesh)
    initial = jax.tree.map(np.asarray, initial_state(algorithm, config.seed))
    layout = snapshot.make_layout(algorithm.gan, source, config,
                                  view_of(source, config.data.source == DRAWN))
    return Programs(source, algorithm, runner, initial, layout,
                    snapshot.make_program(algorithm.gan, config), mesh)


CACHED_SETUPS = 16
_cache: collections.OrderedDict[tuple, Programs] = collections.OrderedDict()
_cache_lock = threading.Lock()


def programs_for(setup: Setup) -> Programs:
    """The programs of `setup`, from the cache (the least recently used leave it)."""
    key = (to_json(setup.config), setup.points if setup.config.data.source == DRAWN else None)
    with _cache_lock:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]
    programs = build_programs(setup)  # outside the lock: other tabs need not wait
    with _cache_lock:
        _cache[key] = programs
        while len(_cache) > CACHED_SETUPS:
            _cache.popitem(last=False)
    return programs


class PlaygroundSession:
    """A GAN of one setup, its state, its compiled programs, and its divergence state."""

    def __init__(self, setup: Setup, programs: Programs | None = None):
        """A session of `setup` at its first state, with the setup's (cached) programs."""
        self.setup = setup
        config = setup.config
        self.programs = programs or programs_for(setup)
        self.source, self.algorithm = self.programs.source, self.programs.algorithm
        self.layout = self.programs.layout
        source, algorithm, runner = self.source, self.algorithm, self.programs.runner
        experiment = Experiment(
            config, algorithm, self.programs.initial, lambda start: runner,
            lambda s: make_toy_evaluator(algorithm, source, config)(s))
        self.session = Session(experiment, mesh=self.programs.mesh)
        self.diverged: str | None = None  # the message, once a step went NaN/Inf
        self.diverged_at: int | None = None
        self.last_metrics: dict[str, float | None] = {}
        self._last_picture: dict | None = None

    def copy(self) -> "PlaygroundSession":
        """A twin: the same setup and current state (weights, step, hyperparameters), sharing
        the compiled programs (they are pure functions of the state); then each goes its way."""
        twin = PlaygroundSession(self.setup, self.programs)
        twin.session.set_state(to_host(self.session.state))
        twin.diverged, twin.diverged_at = self.diverged, self.diverged_at
        twin.last_metrics, twin._last_picture = dict(self.last_metrics), self._last_picture
        return twin

    # --- State and hyperparameters.

    @property
    def config(self) -> ml_collections.ConfigDict:
        return self.setup.config

    @property
    def step(self) -> int:
        return self.session.step

    @property
    def hparam_keys(self) -> set[str]:
        return set(self.session.state.hparams)

    @property
    def hparams(self) -> dict[str, float]:
        """The hyperparameters the compiled step reads now (from the state itself)."""
        return {k: float(v) for k, v in self.session.hparams.items()}

    def can_update_in_place(self, config: ml_collections.ConfigDict) -> bool:
        """Whether `config` differs from this session's only in numeric hyperparameters."""
        keys = self.hparam_keys
        return structure_key(config, keys) == structure_key(self.config, keys)

    def update_in_place(self, setup: Setup) -> dict[str, float]:
        """Takes the numeric hyperparameters of `setup` (same structure); returns the changes."""
        if not self.can_update_in_place(setup.config):
            raise ValueError("the new setup changes the structure; build a new session")
        updates = {key: float(get(setup.config, key)) for key in self.hparam_keys
                   if get(setup.config, key) != get(self.config, key)}
        if updates:
            self.session.set_hparams(updates)
        self.setup = dataclasses.replace(setup, points=self.setup.points)
        return updates

    def reset(self) -> None:
        """Back to the first state (step 0), keeping the compiled programs and the current
        numeric hyperparameters."""
        hparams = self.hparams
        self.session.set_state(self.programs.initial)
        self.session.set_hparams(hparams)
        self.diverged = self.diverged_at = None
        self.last_metrics, self._last_picture = {}, None

    # --- Training.

    def advance(self, num_steps: int) -> None:
        """`num_steps` steps of the compiled chunk (nothing once diverged)."""
        if self.diverged:
            return
        start = self.step
        metrics = self.session.advance(num_steps)
        self._take_metrics(metrics, start)

    def single_step(self, player: str) -> None:
        """One step of both players ("both"), of G only ("g") or of D only ("d")."""
        if player not in PLAYERS:
            raise ValueError(f"player must be one of {', '.join(PLAYERS)}")
        if player == "both" or self.diverged:
            return self.advance(1)
        frozen = "d" if player == "g" else "g"
        before = to_host(self.session.state)
        self.session.set_state(replace_hparams(before, {f"optim.{frozen}_lr": 0.0}))
        self.advance(1)
        after = to_host(self.session.state)
        restored = after.replace(
            hparams=before.hparams,
            params={**after.params, frozen: before.params[frozen]},
            opt_state={**after.opt_state, frozen: before.opt_state[frozen]},
            batch_stats={**after.batch_stats, frozen: before.batch_stats[frozen]})
        if frozen == "g":
            restored = restored.replace(ema_params=before.ema_params)
        self.session.set_state(restored)

    def _take_metrics(self, metrics: Mapping[str, jax.Array], start: int) -> None:
        host = {k: np.asarray(v) for k, v in to_host(dict(metrics)).items()}
        try:
            check_finite(host, self.step, self.config.train.nan_policy)
        except DivergenceError as e:
            self.diverged = str(e)
            self.diverged_at = _first_nonfinite_step(host, start)
        self.last_metrics = {k: snapshot.number(np.nanmean(v)) if np.any(np.isfinite(v))
                             else None for k, v in host.items()}

    # --- What the page shows.

    def picture(self) -> dict:
        """The frame of the current state; once diverged, the last finite one."""
        if self.diverged and self._last_picture is not None:
            return self._last_picture
        outputs = to_host(self.programs.program(self.session.state, self.layout.z_show,
                                        self.layout.z_eval, self.layout.z_lines,
                                        self.layout.x_grid))
        if not all(np.all(np.isfinite(v)) for v in outputs.values()):
            if not self.diverged:
                self.diverged = (f"training diverged at step {self.step}: the generator or the "
                                 f"discriminator outputs NaN/Inf; reset, then lower the learning "
                                 f"rates or add a penalty")
                self.diverged_at = self.step
            if self._last_picture is not None:
                return self._last_picture
            outputs = {k: np.nan_to_num(v, nan=0.0, posinf=0.0, neginf=0.0)
                       for k, v in outputs.items()}
        self._last_picture = snapshot.frame(self.layout, outputs, self.source)
        return self._last_picture

    def report(self) -> dict:
        """The frame plus what the server has in force: step, status, loss, hyperparameters."""
        out = dict(self.picture())
        out.update(
            step=self.step,
            status="diverged" if self.diverged else "ok",
            diverged=self.diverged,
            diverged_at=self.diverged_at,
            metrics=self.last_metrics,
            loss=self.config.loss.name,
            penalty=self.config.penalty.name,
            data_source=self.config.data.source,
            data_points=len(self.setup.points or ()) if self.config.data.source == DRAWN
            else None,
            hparams={k: snapshot.number(v, 6) for k, v in self.hparams.items()},
            compilations=self.compilations(),
        )
        return out

    # --- Bookkeeping.

    def compilations(self) -> dict[str, int]:
        """Compiled programs by kind: training chunks (one per chunk length: 1 for single
        steps and slow motion, 5 and 25 for the other speeds) and the renderer. A numeric
        hyperparameter change leaves every count as it is."""
        runner, program = self.programs.runner, self.programs.program
        chunks = sum(fn._cache_size() for fn in runner._compiled.values())  # noqa: SLF001
        return {"chunks": chunks, "renderer": program._cache_size()}  # noqa: SLF001

    def has_chunk(self, num_steps: int) -> bool:
        """Whether the chunk of `num_steps` steps is compiled already."""
        return num_steps in self.programs.runner._compiled  # noqa: SLF001

    def close(self) -> None:
        self.session.close()


def _first_nonfinite_step(metrics: Mapping[str, np.ndarray], start: int) -> int:
    """The step count after the first step whose metrics hold NaN/Inf (ganjax's numbering)."""
    steps = len(next(iter(metrics.values())))
    for i in range(steps):
        if any(not np.all(np.isfinite(v[i])) for v in metrics.values()):
            return start + i + 1
    return start + steps
