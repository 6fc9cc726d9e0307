"""Reopening a finished or interrupted run: its config, its GAN and a checkpointed state."""

from __future__ import annotations

import dataclasses
import json
import os
import sys

import ml_collections

from ganjax import config as config_lib
from ganjax.errors import CheckpointError
from ganjax.run.checkpoint import Checkpointer
from ganjax.data import example_shape
from ganjax.engine.algorithm import GANAlgorithm, initial_state
from ganjax.engine.build import build
from ganjax.engine.state import TrainState


@dataclasses.dataclass
class Run:
    """A workdir's config, algorithm and the state restored from one of its checkpoints."""

    workdir: str
    config: ml_collections.ConfigDict
    algorithm: GANAlgorithm
    state: TrainState
    step: int

    @property
    def gan(self):
        """The run's static GAN description (networks, latent, terms)."""
        return self.algorithm.gan


def _warn(message: str) -> None:
    print(message, file=sys.stderr)


def load_run(workdir: str, step: int | None = None) -> Run:
    """Restores the checkpoint of `step` (default: the newest good one) of the run in `workdir`."""
    config_path = os.path.join(workdir, "config.json")
    if not os.path.exists(config_path):
        raise CheckpointError(f"{workdir} holds no run (no config.json); give the --workdir "
                              f"that `ganjax train` wrote")
    with open(config_path, encoding="utf-8") as f:
        config = config_lib.validate(config_lib.from_dict(json.load(f)))
    algorithm = build(config, example_shape(config))
    target = initial_state(algorithm, config.seed)
    checkpointer = Checkpointer(workdir, log=_warn)
    try:
        steps = checkpointer.steps()
        if step is not None:
            if step not in steps:
                raise CheckpointError(f"{workdir} has no checkpoint of step {step}; it has "
                                      f"{steps or 'none'}")
            restored = checkpointer.restore(step, target)
        else:
            restored = checkpointer.restore_latest(target, move_damaged=False)
            if restored is None:
                raise CheckpointError(f"{workdir} has no checkpoint yet (train.checkpoint_every "
                                      f"sets how often one is written)")
    finally:
        checkpointer.close()
    return Run(workdir, config, algorithm, restored.state, restored.step)
