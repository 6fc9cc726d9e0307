"""Reopening a finished or interrupted run: its config, its GAN and a checkpointed state."""

from __future__ import annotations

import dataclasses
import json
import os
import sys

import ml_collections

from ganjax import config as config_lib
from ganjax.checkpoint import Checkpointer, CheckpointError
from ganjax.data import example_shape
from ganjax.gan import GAN, build_gan
from ganjax.state import GANState
from ganjax.train import initial_state


@dataclasses.dataclass
class Run:
    """A workdir's config, GAN and the state restored from one of its checkpoints."""

    workdir: str
    config: ml_collections.ConfigDict
    gan: GAN
    state: GANState
    step: int


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
    gan = build_gan(config, example_shape(config))
    target = initial_state(gan, config.seed)
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
    return Run(workdir, config, gan, restored.state, restored.step)
