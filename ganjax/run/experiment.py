"""Everything one run needs, built from its config: the algorithm, first state, runner, evaluator."""

from __future__ import annotations

import dataclasses
from typing import Callable

import jax
import ml_collections
from jax.sharding import Mesh

from ganjax import config as config_lib
from ganjax.data import example_shape, make_image_sampler, make_source
from ganjax.engine.algorithm import GANAlgorithm, initial_state
from ganjax.engine.build import build
from ganjax.engine.rng import data_key
from ganjax.engine.state import TrainState
from ganjax.engine.steps import skip_nonfinite
from ganjax.errors import DataError
from ganjax.evaluation.evaluator import EvalResult, make_image_evaluator, make_toy_evaluator
from ganjax.parallel import data_mesh
from ganjax.run.runners import DeviceSampledRunner, HostFedRunner
from ganjax.types import StepFn

Runner = DeviceSampledRunner | HostFedRunner


def build_step(algorithm: GANAlgorithm, config: ml_collections.ConfigDict) -> StepFn:
    """The algorithm's step, guarded against non-finite updates when `train.nan_policy=skip`."""
    return skip_nonfinite(algorithm.step) if config.train.nan_policy == "skip" else algorithm.step


@dataclasses.dataclass
class Experiment:
    """Everything one run needs, built from its config."""

    config: ml_collections.ConfigDict
    algorithm: GANAlgorithm
    state: TrainState
    make_runner: Callable[[int], Runner]  # start step -> runner fed from that step on
    evaluate: Callable[[TrainState], EvalResult]


def build_experiment(config: ml_collections.ConfigDict, mesh: Mesh | None = None) -> Experiment:
    """Builds the algorithm, first state, step runner and evaluator of a validated `config`.

    The runner is data-parallel over `mesh` (default: every device of every process); this
    process reads only its own rows of each image batch.
    """
    mesh = mesh or data_mesh()
    if config_lib.is_toy(config):
        source = make_source(config.data)
        algorithm = build(config, (source.dim,))
        step = build_step(algorithm, config)
        make_runner = lambda start: DeviceSampledRunner(  # noqa: E731
            step, source, config, data_key(config.seed), mesh)
        evaluate = make_toy_evaluator(algorithm, source, config)
    else:
        try:
            sampler = make_image_sampler(config, jax.process_index(), jax.process_count())
        except (OSError, ValueError, ImportError) as e:
            raise DataError(f"data.source={config.data.source}: {e}") from e
        algorithm = build(config, example_shape(config))
        step = build_step(algorithm, config)
        make_runner = lambda start: HostFedRunner(step, sampler, mesh, start)  # noqa: E731
        first = sampler.global_view().batch(0)
        evaluate = make_image_evaluator(algorithm, first["x"][0], config, first["y"][0])
    return Experiment(config, algorithm, initial_state(algorithm, config.seed), make_runner,
                      evaluate)
