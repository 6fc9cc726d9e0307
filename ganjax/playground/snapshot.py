"""A frame of the page: one compiled program renders a state, the host adds the metrics.

The program (`make_program`, jitted once per model structure; its inputs are fixed arrays of
that structure, so hyperparameter changes and new states never retrace it) returns:

* `fake`: G(z) of a fixed draw of noise, so samples move smoothly from frame to frame;
* `fake_eval`: `eval.num_samples` (at most 5000) samples of the generator ganjax's evaluation
  scores (the EMA generator when there is one), for mode coverage and the KL/JS estimate;
* `warped`: G of a grid of noise lines (2-D noise) or of one noise line (1-D noise);
* `d_grid`: D's output on a grid over the view (a packed D judges each point packed with
  itself, `model.d_group` copies);
* `arrows`: -dL_G/dx at every shown fake sample, where L_G is the config's G loss: the direction
  G's update pushes each sample, per sample (the batch mean undone).

`frame` turns those into compact JSON: rounded coordinates, the heat map as 0-255 integers,
mode coverage and the high-quality fraction (`ganjax.evaluation.toy.mode_coverage`, the VEEGAN
protocol of ganjax's evaluation), the sample moments in 1-D, and KL(data || G) and JS(data, G)
estimated on the view's grid (plus one bin for everything outside it) from 20,000 data samples
and the evaluation samples.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Callable

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np

from ganjax import registry
from ganjax.data import GaussianMixture
from ganjax.engine.gan import GAN
from ganjax.engine.state import TrainState
from ganjax.evaluation.toy import mode_coverage, sample_moments

GRID_2D = 40  # heat map cells per side
GRID_1D = 200  # points of D(x) in 1-D
BINS_1D = 100  # density bins in 1-D
SHOWN = 240  # fake and real samples drawn (rounded up to a multiple of model.d_group)
NOISE_LINES, NOISE_POINTS = 9, 17  # the warped grid of 2-D noise
NOISE_LINE_1D = 41  # the warped line of 1-D noise
MAPPING_1D = 24  # z -> x lines of the 1-D plot
MAX_EVAL = 5000
REFERENCE = 20_000  # data samples of the KL/JS estimate
PROBABILITY_LOSSES = ("minimax", "non_saturating")  # D's output reads as sigmoid(logit)
Program = Callable[..., dict[str, jax.Array]]


def noise_extent(noise: str) -> float:
    """Half-width of the noise box drawn: U[-1, 1], or +-2 std of N(0, 1)."""
    return 1.0 if noise == "uniform" else 2.0


@dataclasses.dataclass
class Layout:
    """The fixed inputs and reference data of one structure (numpy arrays)."""

    view: list[float]
    dim: int
    z_show: np.ndarray
    z_eval: np.ndarray
    z_lines: np.ndarray  # [lines * points, noise_dim]
    line_shape: tuple[int, int]  # (lines, points) of z_lines
    x_grid: np.ndarray
    real_show: np.ndarray
    reference_hist: np.ndarray  # data mass per bin of the KL/JS grid (last: outside the view)
    real_density: np.ndarray | None  # 1-D: the exact data density at the bin centres
    d_kind: str  # "prob" (sigmoid of the logit) or "score" (the raw output, rescaled)


def _bins(view: list[float], dim: int) -> int:
    return BINS_1D if dim == 1 else GRID_2D


def histogram(points: np.ndarray, view: list[float]) -> np.ndarray:
    """Counts of `points` in the cells of the view's grid, plus one count of points outside."""
    points = np.asarray(points, np.float64).reshape(len(points), -1)
    dim = points.shape[1]
    n = _bins(view, dim)
    cells = np.zeros(n ** dim + 1)
    finite = np.all(np.isfinite(points), axis=1)
    index = np.zeros(len(points), np.int64)
    inside = finite.copy()
    for axis in range(dim):
        lo, hi = view[2 * axis], view[2 * axis + 1]
        i = np.floor((points[:, axis] - lo) / (hi - lo) * n).astype(np.int64)
        inside &= (i >= 0) & (i < n)
        index = index * n + np.clip(i, 0, n - 1)
    np.add.at(cells, index[inside], 1.0)
    cells[-1] = np.sum(~inside)
    return cells


def divergences(reference: np.ndarray, fake_counts: np.ndarray) -> dict[str, float]:
    """KL(data || G) in nats (G's counts smoothed by 1/2, so that it stays finite) and
    JS(data, G) in bits (in [0, 1]), between two histograms on the same bins."""
    p = reference / reference.sum()
    q = fake_counts / max(fake_counts.sum(), 1.0)
    smoothed = (fake_counts + 0.5) / (fake_counts.sum() + 0.5 * len(fake_counts))
    nz = p > 0
    kl = float(np.sum(p[nz] * np.log(p[nz] / smoothed[nz])))
    m = (p + q) / 2
    js = 0.0
    for part in (p, q):
        nzp = part > 0
        js += 0.5 * float(np.sum(part[nzp] * np.log2(part[nzp] / m[nzp])))
    return {"kl": kl, "js": js}


def make_layout(gan: GAN, source: GaussianMixture, config: ml_collections.ConfigDict,
                view: list[float]) -> Layout:
    """The fixed noise, grids and reference data of a setup (seeded by config.seed)."""
    group = gan.d_group
    shown = -(-SHOWN // group) * group
    num_eval = int(min(config.eval.num_samples, MAX_EVAL))

    # Eager random ops: compiled once per process and shape, where a jitted draw would be
    # compiled again for every new source.
    key = jax.random.fold_in(jax.random.PRNGKey(config.seed), 7)
    k_show, k_eval, k_real, k_ref = jax.random.split(key, 4)
    z_show, z_eval, real_show, reference = map(np.asarray, (
        gan.latent.noise_of(k_show, shown), gan.latent.noise_of(k_eval, num_eval),
        source.sample(k_real, shown), source.sample(k_ref, REFERENCE)))
    z_dim, extent = gan.latent.z_dim, noise_extent(gan.latent.noise)
    if z_dim == 1 or source.dim == 1:  # one line (1-D data: along z_1, the rest 0)
        count = MAPPING_1D if source.dim == 1 else NOISE_LINE_1D
        z_lines = np.zeros((count, z_dim), np.float32)
        z_lines[:, 0] = np.linspace(-extent, extent, count)
        line_shape = (1, count)
    else:
        ticks = np.linspace(-extent, extent, NOISE_LINES)
        along = np.linspace(-extent, extent, NOISE_POINTS)
        rows = [np.stack([np.full_like(along, t), along], 1) for t in ticks]
        cols = [np.stack([along, np.full_like(along, t)], 1) for t in ticks]
        z_lines = np.concatenate(rows + cols).astype(np.float32)
        line_shape = (2 * NOISE_LINES, NOISE_POINTS)
    if source.dim == 1:
        x_grid = np.linspace(view[0], view[1], GRID_1D, dtype=np.float32)[:, None]
        width = (view[1] - view[0]) / BINS_1D
        centres = view[0] + width * (np.arange(BINS_1D) + 0.5)
        real_density = source.density(centres[:, None])
    else:
        cx = view[0] + (view[1] - view[0]) * (np.arange(GRID_2D) + 0.5) / GRID_2D
        cy = view[2] + (view[3] - view[2]) * (np.arange(GRID_2D) + 0.5) / GRID_2D
        xs, ys = np.meshgrid(cx, cy, indexing="ij")  # row-major over (x, y): index x * n + y
        x_grid = np.stack([xs.ravel(), ys.ravel()], 1).astype(np.float32)
        real_density = None
    return Layout(
        view=view, dim=source.dim, z_show=z_show, z_eval=z_eval,
        z_lines=z_lines, line_shape=line_shape, x_grid=x_grid, real_show=real_show,
        reference_hist=histogram(reference, view),
        real_density=real_density,
        d_kind="prob" if config.loss.name in PROBABILITY_LOSSES else "score")


def make_program(gan: GAN, config: ml_collections.ConfigDict) -> Program:
    """The jitted renderer of one structure: (state, z_show, z_eval, z_lines, x_grid) -> arrays."""
    loss = registry.resolve("loss", config.loss.name)
    use_ema, group = config.eval.use_ema, gan.d_group

    def generate(params, stats, z):
        return gan.generate(params, stats, {"z": z}, train=False)[0]

    def program(state: TrainState, z_show, z_eval, z_lines, x_grid) -> dict[str, jax.Array]:
        g, g_stats = state.params["g"], state.batch_stats["g"]
        d, d_stats = state.params["d"], state.batch_stats["d"]

        def logits(x):
            return gan.discriminate(d, d_stats, x, None, train=False)[0].logit

        fake = generate(g, g_stats, z_show)
        grads = jax.grad(lambda x: loss.generator(logits(x)))(fake)
        return {
            "fake": fake,
            "fake_eval": generate(state.generator_params(use_ema), g_stats, z_eval),
            "warped": generate(g, g_stats, z_lines),
            "d_grid": logits(jnp.repeat(x_grid, group, axis=0)),
            "arrows": -grads * (fake.shape[0] // group),
        }

    return jax.jit(program)


def _round(array: np.ndarray, digits: int = 4) -> list:
    return np.round(np.asarray(array, np.float64), digits).tolist()


def number(value: Any, digits: int = 5) -> float | None:
    """A finite float rounded to `digits` significant digits; None for NaN/Inf (JSON has none)."""
    value = float(value)
    if not np.isfinite(value):
        return None
    return float(f"{value:.{digits}g}")


def _to_byte(values: np.ndarray, lo: float, hi: float) -> list[int]:
    scaled = (np.asarray(values, np.float64) - lo) / (hi - lo if hi > lo else 1.0)
    return np.clip(np.round(255 * np.nan_to_num(scaled, nan=0.5)), 0, 255).astype(int).tolist()


def frame(layout: Layout, outputs: dict[str, np.ndarray], source: GaussianMixture) -> dict:
    """The JSON-ready picture of one state (without step and metrics: the session adds them)."""
    fake, fake_eval = outputs["fake"], np.asarray(outputs["fake_eval"], np.float64)
    logits = np.asarray(outputs["d_grid"], np.float64)
    if layout.d_kind == "prob":
        d_values, lo, hi = 1.0 / (1.0 + np.exp(-np.clip(logits, -60, 60))), 0.0, 1.0
    else:
        lo, hi = float(np.nanmin(logits)), float(np.nanmax(logits))
        d_values = logits
    arrows = np.asarray(outputs["arrows"], np.float64)
    lengths = np.sqrt(np.sum(arrows ** 2, axis=1))
    arrow_max = float(np.nanmax(lengths)) if len(lengths) else 0.0
    unit = arrows / arrow_max if arrow_max > 0 else arrows
    lines, points = layout.line_shape
    warped = np.asarray(outputs["warped"], np.float64)
    out: dict[str, Any] = {
        "dim": layout.dim,
        "view": layout.view,
        "fake": _round(fake.reshape(len(fake), -1) if layout.dim == 2 else fake.ravel()),
        "real": _round(layout.real_show if layout.dim == 2 else layout.real_show.ravel()),
        "arrows": _round(unit if layout.dim == 2 else unit.ravel(), 3),
        "arrow_max": number(arrow_max),
        "d": {"values": _to_byte(d_values, lo, hi), "n": len(logits), "kind": layout.d_kind,
              "lo": number(lo), "hi": number(hi)},
        "divergence": {k: number(v) for k, v in divergences(
            layout.reference_hist, histogram(fake_eval, layout.view)).items()},
        "num_eval": len(fake_eval),
    }
    if layout.dim == 1:
        counts = histogram(fake_eval, layout.view)[:-1]
        width = (layout.view[1] - layout.view[0]) / BINS_1D
        out["density"] = {"real": _round(layout.real_density, 4),
                          "fake": _round(counts / max(len(fake_eval), 1) / width, 4)}
        out["mapping"] = {"z": _round(layout.z_lines[:, 0], 3), "x": _round(warped.ravel())}
        out["noise_extent"] = float(np.max(np.abs(layout.z_lines[:, 0])))
        moments = sample_moments(fake_eval)
        out["coverage"] = {"mean": number(moments["mean"]), "std": number(moments["std"]),
                           "target_mean": number(source.centers[0, 0]),
                           "target_std": number(source.std)}
    else:
        out["noise_lines"] = _round(warped.reshape(lines, points, 2))
        covered = mode_coverage(fake_eval, source.centers, source.std)
        out["coverage"] = {"modes": covered["modes"], "num_modes": int(source.num_modes),
                           "hq_fraction": number(covered["hq_fraction"]),
                           "mode_kl": number(covered["mode_kl"])}
    return out
