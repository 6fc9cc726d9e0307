"""Shared by the evaluation tests: random FID Inception weights and tiny trained runs.

No FID weights exist offline, so a random FIDInceptionV3 variable tree is written as a .npz
(the format `load_fid_weights` reads). Kernels are He-normal, so pool3 features still differ
between images; flax's default init would make them nearly constant.
"""

from __future__ import annotations

import jax
import numpy as np

from ganjax import config as config_lib
from ganjax.metrics.inception import variable_shapes
from ganjax.metrics.inception_weights import save_npz
from ganjax.run.loop import train

TINY_IMAGE_RUN = {"train.steps": "10", "train.scan_steps": "10", "train.log_every": "10",
                  "train.eval_every": "10", "model.width": "8", "eval.grid_size": "16"}


def random_inception_weights(path, seed: int = 0) -> str:
    """Writes random FID Inception variables to `path` (.npz) and returns it as a string."""
    rng = np.random.default_rng(seed)

    def fill(key_path, spec):
        name, shape = key_path[-1].key, spec.shape
        if name == "kernel":
            return rng.normal(0.0, np.sqrt(2.0 / np.prod(shape[:-1])), shape)
        low_high = {"scale": (0.5, 1.5), "bias": (-0.1, 0.1)}
        if name in low_high:
            return rng.uniform(*low_high[name], shape)
        return np.zeros(shape) if name == "mean" else np.ones(shape)  # BatchNorm mean / var

    variables = jax.tree_util.tree_map_with_path(fill, variable_shapes())
    save_npz(jax.tree.map(lambda v: np.asarray(v, np.float32), variables), path)
    return str(path)


def train_tiny(spec: str, overrides: dict[str, str], workdir) -> str:
    """Trains experiment `spec` with `overrides` in `workdir`, quietly; returns the workdir."""
    config = config_lib.apply_overrides(config_lib.load_config(spec), overrides)
    train(config, str(workdir), tensorboard=False, verbose=False)
    return str(workdir)
