"""Evaluates a GANState: scalar metrics plus what the experiment's figure draws.

Evaluation noise and real data are fixed by the seed, so successive evals are comparable.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Callable

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np

import ganjax

from ganjax.data.toy import GaussianMixture
from ganjax.evaluation.toy import mode_coverage, sample_moments
from ganjax.evaluation.training_fid import make_fid_metrics
from ganjax.figures import plot_image_grid, plot_toy
from ganjax.gan import GAN
from ganjax.parallel import to_host
from ganjax.state import GANState

# D's probability is drawn on this many points per axis (2-D) or along the line (1-D).
_CURVE_POINTS = 400
_SURFACE_POINTS = 120


@dataclasses.dataclass
class ToyEvalResult:
    """Scalar metrics (logged under eval/) and the arrays behind the toy figure."""

    metrics: dict[str, float]
    source: GaussianMixture
    real: np.ndarray
    fake: np.ndarray
    d_grid: np.ndarray | None  # points where D was evaluated: [P, dim]
    d_prob: np.ndarray | None  # sigmoid(D) at those points: [P]

    def draw(self, path: str, title: str) -> str:
        return plot_toy(self, self.source, path, title)


@dataclasses.dataclass
class ImageEvalResult:
    """Scalar metrics (with `eval.fid_weights`, also a "protocol" dict) and a grid of samples."""

    metrics: dict[str, Any]
    samples: np.ndarray  # [n, H, W, C] in [-1, 1]

    def draw(self, path: str, title: str) -> str:
        return plot_image_grid(self.samples, path, title)


EvalResult = ToyEvalResult | ImageEvalResult


def generator_params(state: GANState, use_ema: bool) -> Any:
    """The EMA generator when there is one and it is wanted, else the raw one."""
    return state.g_ema_params if use_ema and state.g_ema_params is not None else state.g_params


def uses_ema(state: GANState, use_ema: bool) -> bool:
    """Whether `generator_params(state, use_ema)` picks the EMA generator."""
    return use_ema and state.g_ema_params is not None


def _common_protocol(state: GANState, config: ml_collections.ConfigDict) -> dict[str, Any]:
    """What every training-time eval record says about how it was made."""
    return {"generator": generator_name(state, config.eval.use_ema),
            "noise": f"fixed: PRNGKey(seed={config.seed}) folded with 2",
            "ganjax_version": ganjax.__version__}


def generator_name(state: GANState, use_ema: bool) -> str:
    """"ema" or "raw": which generator `generator_params(state, use_ema)` picks, for records."""
    return "ema" if uses_ema(state, use_ema) else "raw"


def d_grid_for(source: GaussianMixture) -> np.ndarray:
    """Points covering the data with a margin: a line in 1-D, a square in 2-D."""
    lo = source.centers.min(0) - 4 * source.std - 0.25 * np.ptp(source.centers, axis=0) - 0.5
    hi = source.centers.max(0) + 4 * source.std + 0.25 * np.ptp(source.centers, axis=0) + 0.5
    if source.dim == 1:
        return np.linspace(lo[0], hi[0], _CURVE_POINTS)[:, None]
    axes = [np.linspace(lo[i], hi[i], _SURFACE_POINTS) for i in range(2)]
    xs, ys = np.meshgrid(*axes, indexing="xy")
    return np.stack([xs.ravel(), ys.ravel()], 1)


def _eval_key(config: ml_collections.ConfigDict) -> jax.Array:
    return jax.random.fold_in(jax.random.PRNGKey(config.seed), 2)


def make_toy_evaluator(gan: GAN, source: GaussianMixture,
                       config: ml_collections.ConfigDict) -> Callable[[GANState], ToyEvalResult]:
    """Moments (1-D) or mode coverage (2-D) of eval.num_samples samples, and D on the data."""
    n = config.eval.num_samples
    group = config.model.d_group
    n_groups = max(n // group, 1)
    key = _eval_key(config)
    grid = d_grid_for(source) if group == 1 else None

    @jax.jit
    def evaluate(g_params, g_stats, d_params, d_stats):
        z = gan.sample_noise(jax.random.fold_in(key, 0), n)
        real = source.sample(jax.random.fold_in(key, 1), n_groups * group)
        fake, _ = gan.generate(g_params, g_stats, z, train=False)
        d_on_data = jax.nn.sigmoid(gan.discriminate(d_params, d_stats, real, train=False)[0])
        d_prob = None
        if grid is not None:
            d_prob = jax.nn.sigmoid(gan.discriminate(d_params, d_stats, jnp.asarray(grid,
                                                     jnp.float32), train=False)[0])
        return fake, real, jnp.mean(d_on_data), d_prob

    def run(state: GANState) -> ToyEvalResult:
        fake, real, d_on_data, d_prob = to_host(evaluate(
            generator_params(state, config.eval.use_ema), state.g_batch_stats, state.d_params,
            state.d_batch_stats))
        fake = np.asarray(fake, np.float64)
        metrics = {"d_on_data": float(d_on_data)}
        if source.dim == 1:
            metrics.update(sample_moments(fake))
        else:
            metrics.update(mode_coverage(fake, source.centers, source.std))
        metrics["protocol"] = {
            **_common_protocol(state, config), "num_generated": n,
            "num_reference": n_groups * group, "reference_source": config.data.source,
            "metrics": "sample mean/std" if source.dim == 1 else
                       "modes and high-quality share: within 3 std of the nearest mode (VEEGAN)"}
        return ToyEvalResult(metrics, source, real, fake, grid, d_prob)

    return run


def make_image_evaluator(gan: GAN, real: np.ndarray,
                         config: ml_collections.ConfigDict) -> Callable[[GANState], ImageEvalResult]:
    """Samples from fixed noise for the PNG grid, and D's mean probability on real images.

    With `eval.fid_weights` set, also FID, KID and IS of `eval.num_samples` samples and their
    protocol (`training_fid`); `ganjax eval` computes the full set after training.
    """
    z = gan.sample_noise(jax.random.fold_in(_eval_key(config), 0), config.eval.grid_size)
    real = jnp.asarray(real)
    fid_metrics = None
    if config.eval.fid_weights:
        fid_metrics = make_fid_metrics(gan, config, jax.random.fold_in(_eval_key(config), 1))

    @jax.jit
    def evaluate(g_params, g_stats, d_params, d_stats):
        samples, _ = gan.generate(g_params, g_stats, z, train=False)
        d_real = jax.nn.sigmoid(gan.discriminate(d_params, d_stats, real, train=False)[0])
        d_fake = jax.nn.sigmoid(gan.discriminate(d_params, d_stats, samples, train=False)[0])
        return samples, jnp.mean(d_real), jnp.mean(d_fake)

    def run(state: GANState) -> ImageEvalResult:
        g_params = generator_params(state, config.eval.use_ema)
        samples, d_real, d_fake = to_host(evaluate(
            g_params, state.g_batch_stats, state.d_params, state.d_batch_stats))
        metrics = {"d_on_data": float(d_real), "d_on_samples": float(d_fake),
                   "protocol": {**_common_protocol(state, config),
                                "num_generated": config.eval.grid_size,
                                "num_reference": int(real.shape[0]),
                                "reference_source": config.data.source,
                                "metrics": "mean sigmoid(D) on the first real batch and on "
                                           "the samples of the grid"}}
        if fid_metrics is not None:
            metrics.update(fid_metrics(g_params, state.g_batch_stats,
                                       uses_ema(state, config.eval.use_ema)))
        return ImageEvalResult(metrics, samples)

    return run
