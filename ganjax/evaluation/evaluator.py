"""Evaluates a TrainState: scalar metrics plus what the experiment's figure draws.

Evaluation noise and real data are fixed by the seed (`ganjax.engine.rng.eval_key`), so
successive evals are comparable. D's view (its mean probability on data, its surface in the toy
figure) comes from the algorithm's `probe`, so a generator-only algorithm simply has none.
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
from ganjax.evaluation.toy import (FIDELITY_PROTOCOL, mixture_fidelity, mode_coverage,
                                   perfect_spread_ratio, sample_moments)
from ganjax.evaluation.training_classes import make_class_metrics
from ganjax.evaluation.training_cnn import make_cnn_metrics, requested_classes
from ganjax.evaluation.training_fid import make_fid_metrics
from ganjax.outputs.figures import (Reference, ToyPanel, plot_image_grid, plot_toy,
                                    toy_curve_references)
from ganjax.engine.algorithm import GANAlgorithm
from ganjax.data import to_unit_range
from ganjax.engine.gan import GAN
from ganjax.engine.generation import make_sampler
from ganjax.engine.rng import describe_noise, eval_noise_key, eval_reference_key
from ganjax.evaluation.reference import RealSet, reference_set
from ganjax.parallel import to_host
from ganjax.engine.state import TrainState

# The scored sample set (FID, class coverage) is generated this many at a time.
_GENERATE_BATCH = 500
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
    d_note: str | None = None  # why D, although it exists, has no per-point surface

    def draw(self, path: str, title: str) -> str:
        """The eval figure: samples (and D's surface, or why there is none) under `title`."""
        subtitle = f"{len(self.fake):,} generated samples{_generator_of(self.metrics, 'G')}"
        if self.source.dim == 2:  # the 1-D figure draws the data's density, not its samples
            subtitle += f" and {len(self.real):,} real ones"
        return plot_toy(ToyPanel(self.real, self.fake, self.d_grid, self.d_prob, self.d_note),
                        self.source, path, f"{title}\n{subtitle}")

    def curve_references(self) -> dict[str, list[Reference]]:
        """Target values for the curves figure, from the data distribution (and, for the
        spread ratio of a mixture, its perfect-sampler value)."""
        perfect = perfect_spread_ratio(self.source.dim) if self.source.dim == 2 else None
        return toy_curve_references(self.source, spread_ratio_perfect=perfect)


@dataclasses.dataclass
class ImageEvalResult:
    """Scalar metrics (with `eval.fid_weights`, also a "protocol" dict) and a grid of samples."""

    metrics: dict[str, Any]
    samples: np.ndarray  # [n, H, W, C] in [-1, 1]

    def draw(self, path: str, title: str) -> str:
        """The sample grid, titled with the step and what the samples are."""
        subtitle = (f"{len(self.samples)} samples from fixed eval noise"
                    f"{_generator_of(self.metrics, 'generator')}")
        return plot_image_grid(self.samples, path, f"{title}\n{subtitle}")

    def curve_references(self) -> dict[str, list[Reference]]:
        """Target values for the curves figure: none beyond the built-in D = 1/2."""
        return {}


EvalResult = ToyEvalResult | ImageEvalResult


def _generator_of(metrics: dict[str, Any], noun: str) -> str:
    """" (EMA <noun>)" or " (raw <noun>)" from the metrics' protocol, for figure titles; ""
    when the protocol does not say."""
    name = metrics.get("protocol", {}).get("generator")
    return f" ({'EMA' if name == 'ema' else name} {noun})" if name else ""


def packed_d_note(group: int, features: str) -> str:
    """Why a D that scores groups of `group` samples has no surface over single points."""
    if features == "concat":
        what = "packed pairs" if group == 2 else f"packed groups of {group}"
        how = f"PacGAN{group}, model.d_group = {group}"
    else:
        what = f"groups of {group} samples by their {features}"
        how = f"model.d_group = {group}, model.d_group_features = {features}"
    return f"D scores {what} ({how}), so it has no value D(x) at a single point x to draw."


def _common_protocol(state: TrainState, config: ml_collections.ConfigDict,
                     num: int) -> dict[str, Any]:
    """What every training-time eval record says about how it was made."""
    return {"generator": generator_name(state, config.eval.use_ema),
            "noise": describe_noise("training", config.seed, num),
            "ganjax_version": ganjax.__version__}


def generator_name(state: TrainState, use_ema: bool) -> str:
    """"ema" or "raw": which generator `state.generator_params(use_ema)` picks, for records."""
    return "ema" if state.uses_ema(use_ema) else "raw"


def d_grid_for(source: GaussianMixture) -> np.ndarray:
    """Points covering the data with a margin: a line in 1-D, a square in 2-D."""
    lo = source.centers.min(0) - 4 * source.std - 0.25 * np.ptp(source.centers, axis=0) - 0.5
    hi = source.centers.max(0) + 4 * source.std + 0.25 * np.ptp(source.centers, axis=0) + 0.5
    if source.dim == 1:
        return np.linspace(lo[0], hi[0], _CURVE_POINTS)[:, None]
    axes = [np.linspace(lo[i], hi[i], _SURFACE_POINTS) for i in range(2)]
    xs, ys = np.meshgrid(*axes, indexing="xy")
    return np.stack([xs.ravel(), ys.ravel()], 1)


def _toy_eval_sizes(algorithm: GANAlgorithm, source: GaussianMixture,
                    config: ml_collections.ConfigDict) -> tuple[int, int, int, np.ndarray | None]:
    """(samples, D's group size, real groups, D's grid or None for a packed D) of a toy eval."""
    n, group = config.eval.num_samples, algorithm.gan.d_group
    return n, group, max(n // group, 1), d_grid_for(source) if group == 1 else None


def toy_eval_program(algorithm: GANAlgorithm, source: GaussianMixture,
                     config: ml_collections.ConfigDict) -> Callable:
    """The compiled part of a toy evaluation: `(g_params, state, noise_key, reference_key) ->
    (samples, real, mean D on the data, D on the grid)`. The keys are arguments, so one
    program serves every seed of a sweep's group (`make_toy_evaluator(..., program=)`)."""
    gan = algorithm.gan
    n, group, n_groups, grid = _toy_eval_sizes(algorithm, source, config)

    @jax.jit
    def evaluate(g_params, state, noise_key, reference_key):
        latent = gan.sample_latent(noise_key, n)
        real, labels = source.sample_labeled(reference_key, n_groups * group)
        fake, _ = gan.generate(g_params, state.batch_stats["g"], latent, train=False)
        # A conditional D judges the data with its mixture components as labels.
        on_data = algorithm.probe(state, real, labels if gan.num_classes else None).get("d_prob")
        d_prob = None
        if grid is not None and on_data is not None:
            d_prob = algorithm.probe(state, jnp.asarray(grid, jnp.float32))["d_prob"]
        return fake, real, None if on_data is None else jnp.mean(on_data), d_prob

    return evaluate


def make_toy_evaluator(algorithm: GANAlgorithm, source: GaussianMixture,
                       config: ml_collections.ConfigDict,
                       program: Callable | None = None) -> Callable[[TrainState], ToyEvalResult]:
    """Moments (1-D) or mode coverage, spread ratio and MMD to the true mixture (2-D) of
    eval.num_samples samples, and D on the data.

    The reference draw `real` is the same at every eval (a fixed key), so the MMD of a
    perfect sampler against it is computed at the first eval and reused.
    `program`: a `toy_eval_program` of a config of the same structure to share (sweeps)."""
    n, group, n_groups, grid = _toy_eval_sizes(algorithm, source, config)
    evaluate = program or toy_eval_program(algorithm, source, config)
    keys = (eval_noise_key(config.seed), eval_reference_key(config.seed))
    mmd_perfect: list[float] = []

    def run(state: TrainState) -> ToyEvalResult:
        fake, real, d_on_data, d_prob = to_host(evaluate(
            state.generator_params(config.eval.use_ema), state, *keys))
        fake = np.asarray(fake, np.float64)
        metrics = {} if d_on_data is None else {"d_on_data": float(d_on_data)}
        if source.dim == 1:
            metrics.update(sample_moments(fake))
        else:
            metrics.update(mode_coverage(fake, source.centers, source.std))
            metrics.update(mixture_fidelity(fake, source, np.asarray(real, np.float64), keys[1],
                                            *mmd_perfect))
            mmd_perfect[:] = [metrics["mixture_mmd_perfect"]]
        metrics["protocol"] = {
            **_common_protocol(state, config, n), "num_generated": n,
            "num_reference": n_groups * group, "reference_source": config.data.source,
            "metrics": "sample mean/std" if source.dim == 1 else
                       "modes and high-quality share: within 3 std of the nearest mode (VEEGAN)",
            **({} if source.dim == 1 else FIDELITY_PROTOCOL)}
        note = None
        if group > 1 and d_on_data is not None:
            note = packed_d_note(group, config.model.get("d_group_features", "concat"))
        return ToyEvalResult(metrics, source, real, fake, None if d_prob is None else grid,
                             d_prob, note)

    return run


def scored_sample_set(gan: GAN, config: ml_collections.ConfigDict
                      ) -> Callable[[Any, Any], tuple[np.ndarray, RealSet]]:
    """`(g_params, g_batch_stats) -> (samples in [0, 1], real set)`: the `eval.num_samples`
    samples every scored training-time metric shares (FID/KID/IS, class coverage and the CNN's
    judgement: generated once per eval, from the fixed EVAL_SET_NOISE stream; a conditional G's
    labels and InfoGAN's first code cycle through their values) and as many real images, read
    once."""
    num = config.eval.num_samples
    labels, codes = requested_classes(gan.latent)
    sample = make_sampler(gan, eval_reference_key(config.seed), num,
                          batch_size=min(num, _GENERATE_BATCH), labels=labels, codes=codes)
    reference: list[RealSet] = []

    def draw(params: Any, stats: Any) -> tuple[np.ndarray, RealSet]:
        if not reference:
            reference.append(reference_set(config, num))
        return to_unit_range(sample(params, stats)), reference[0]

    return draw


def grid_latent(gan: GAN, key: jax.Array, n: int) -> dict[str, jax.Array]:
    """The latent of the sample grid: for a conditional G row r shows class r % K, for InfoGAN
    row r shows value r % K of the first categorical code (the grid is ceil(sqrt(n)) wide)."""
    columns = int(np.ceil(np.sqrt(n)))
    rows = np.arange(n) // columns
    spec = gan.latent
    labels = rows % spec.num_classes if spec.num_classes else None
    codes = None
    if spec.code_categories:
        codes = np.zeros((n, len(spec.code_categories)), np.int32)
        codes[:, 0] = rows % spec.code_categories[0]
        if len(spec.code_categories) > 1:  # the other codes stay as random as the noise
            codes[:, 1:] = np.asarray(gan.sample_latent(key, n)["c_cat"])[:, 1:]
    return gan.sample_latent(key, n, labels, codes)


def make_image_evaluator(algorithm: GANAlgorithm, real: np.ndarray,
                         config: ml_collections.ConfigDict, real_labels: np.ndarray | None = None
                         ) -> Callable[[TrainState], ImageEvalResult]:
    """Samples from fixed noise for the PNG grid, and D's mean probability on real images.

    With `eval.fid_weights` set, also FID, KID and IS of `eval.num_samples` samples and their
    protocol (`training_fid`); with `eval.class_metrics` and a labelled dataset, their class
    coverage (`training_classes`), and with `eval.cnn_metrics` the evaluation CNN's judgement
    (`training_cnn`: conditional / code accuracy, classifier-feature FD), on the same samples.
    `ganjax eval` computes the full set after training.
    """
    gan = algorithm.gan
    latent = grid_latent(gan, eval_noise_key(config.seed), config.eval.grid_size)
    real = jnp.asarray(real)
    # A conditional D judges real images with their labels and samples with theirs.
    real_y = jnp.asarray(real_labels) if gan.num_classes and real_labels is not None else None
    fake_y = latent.get("y") if gan.num_classes else None
    fid_metrics = make_fid_metrics(config) if config.eval.fid_weights else None
    class_metrics = make_class_metrics(config) if config.eval.class_metrics else None
    cnn_metrics = make_cnn_metrics(config, gan.latent) if config.eval.cnn_metrics else None
    scored = (scored_sample_set(gan, config) if fid_metrics or class_metrics or cnn_metrics
              else None)

    group = gan.d_group  # a packed D judges whole groups only (the rest of a set is left out)

    def whole_groups(x):
        return x[:x.shape[0] - x.shape[0] % group]

    @jax.jit
    def evaluate(g_params, state):
        samples, _ = gan.generate(g_params, state.batch_stats["g"], latent, train=False)
        d_real = algorithm.probe(state, whole_groups(real), real_y).get("d_prob")
        d_fake = algorithm.probe(state, whole_groups(samples), fake_y).get("d_prob")
        means = {} if d_real is None else {"d_on_data": jnp.mean(d_real),
                                           "d_on_samples": jnp.mean(d_fake)}
        return samples, means

    def run(state: TrainState) -> ImageEvalResult:
        g_params = state.generator_params(config.eval.use_ema)
        samples, means = to_host(evaluate(g_params, state))
        metrics = {**{k: float(v) for k, v in means.items()},
                   "protocol": {**_common_protocol(state, config, config.eval.grid_size),
                                "num_generated": config.eval.grid_size,
                                "num_reference": int(real.shape[0]),
                                "reference_source": config.data.source,
                                "metrics": "mean sigmoid(D) on the first real batch and on "
                                           "the samples of the grid" + (
                                               ", each with its labels" if real_y is not None
                                               else "") + (
                                               f", in packed groups of {group}" if group > 1
                                               else "")}}
        if scored is not None:
            images, real_set = scored(g_params, state.batch_stats["g"])
            if fid_metrics is not None:
                metrics.update(fid_metrics(images, real_set, state.uses_ema(config.eval.use_ema)))
            if class_metrics is not None:
                metrics.update(class_metrics(images, real_set))
            if cnn_metrics is not None:
                metrics.update(cnn_metrics(images, real_set))
        return ImageEvalResult(metrics, samples)

    return run
