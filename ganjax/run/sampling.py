"""Samples from a trained generator, written as .npy arrays or PNG figures (`ganjax sample`)."""

from __future__ import annotations

import os
from typing import Sequence

import numpy as np

from ganjax import config as config_lib
from ganjax.data import make_source, to_unit_range
from ganjax.engine.rng import eval_noise_key, figure_key, sample_key
from ganjax.outputs.figures import ToyPanel, plot_image_grid, plot_toy
from ganjax.engine.generation import make_fixed_latent_sampler, make_sampler
from ganjax.run.reopen import Run

FORMATS = (".npy", ".png")
NOISES = ("sample", "training")


def generate(run: Run, num: int, seed: int, use_ema: bool = True,
             batch_size: int = 1000, noise: str = "sample",
             labels: Sequence[int] | None = None,
             codes: Sequence[int] | None = None) -> np.ndarray:
    """`num` samples of the run's generator (EMA when present and wanted), in data space.

    Images come back as float32 [num, H, W, C] in [0, 1]; toy samples as their coordinates.
    noise="sample": batch i uses noise from fold_in(PRNGKey(seed), i), so a given seed always
    gives the same set. noise="training": the fixed noise of the run's training-time
    evaluations (`seed` unused), so that a toy run's eval reproduces its summary exactly.
    `labels` / `codes` (noise="sample" only): sample j gets class labels[j % len(labels)] /
    first categorical code codes[j % len(codes)] (`ganjax.engine.generation.cycled`).
    """
    if noise not in NOISES:
        raise ValueError(f"noise={noise!r}: must be one of {', '.join(NOISES)}")
    if noise == "training":
        if labels is not None or codes is not None:
            raise ValueError("labels and codes fix the sampled latent; noise='training' uses "
                             "the training-time eval noise as it is")
        sample = make_fixed_latent_sampler(run.gan, eval_noise_key(run.config.seed), num)
    else:
        sample = make_sampler(run.gan, sample_key(seed), num, batch_size, labels,
                              codes)
    samples = sample(run.state.generator_params(use_ema), run.state.batch_stats["g"])
    return samples if config_lib.is_toy(run.config) else to_unit_range(samples)


def write_samples(run: Run, samples: np.ndarray, path: str) -> str:
    """Saves `samples` as .npy, or as a PNG (an image grid, or the toy's sample scatter)."""
    ext = os.path.splitext(path)[1].lower()
    if ext not in FORMATS:
        raise ValueError(f"--out {path}: unknown format {ext or '(none)'}; use one of "
                         f"{', '.join(FORMATS)}")
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    if ext == ".npy":
        np.save(path, samples)
        return path
    title = f"{os.path.basename(run.workdir.rstrip('/'))}, step {run.step}"
    if not config_lib.is_toy(run.config):
        return plot_image_grid(samples * 2 - 1, path, title)
    source = make_source(run.config.data)
    real = np.asarray(source.sample(figure_key(), len(samples)))
    return plot_toy(ToyPanel(real, samples), source, path, title)


def generator_label(run: Run, use_ema: bool) -> str:
    """"EMA" or "raw": which generator `generate(run, ..., use_ema)` samples."""
    return "EMA" if run.state.uses_ema(use_ema) else "raw"
