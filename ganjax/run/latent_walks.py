"""Walks through a trained generator's latent space: the latents of each figure of `ganjax latent`,
and the images (or toy points) they decode to.

Four kinds of grid, rows x columns of latents in row-major order:

* interpolation: each row goes from one z to another in `steps` columns, t = 0 .. 1. Gaussian
  noise is interpolated spherically (slerp), uniform noise linearly. In d dimensions a
  N(0, I) draw has norm close to sqrt(d) (its squared norm is chi-squared with mean d and
  std sqrt(2d)), so nearly all of the prior's mass lies in a thin shell around the sphere of
  that radius; the straight line between two draws cuts through the inside of the shell (its
  midpoint has norm about sqrt(d / 2) for independent draws), where G was never trained. Slerp
  follows the great circle instead and keeps the norm. U[-1, 1]^d fills the cube, which is
  convex: the straight line never leaves it, while slerp could. A conditional model gets one
  row per class with the same z pair in every row; an InfoGAN's codes are drawn once per row.
* classes (conditional models): one row per class, one z per column shared by all rows, so
  that rows show the classes and columns the style that z carries.
* codes (InfoGAN, Chen et al. 2016, Figure 2): one row per value of the first categorical
  code, columns sweep one continuous code over [-2, 2] (beyond the training prior's [-1, 1]),
  with z and the other codes fixed for the whole grid (the other continuous codes at 0, the
  middle of their prior). One grid per continuous code.
* arithmetic (unconditional image models): `num` samples are labelled by a classifier of real
  digits; for each class k the mean z of the samples it puts in class k is decoded, as is that
  mean rescaled to the prior's typical norm (a mean of many draws lies near the origin, which
  G rarely saw), and one row interpolates between the rescaled means of two classes. The
  decoded means are labelled by the classifier again, which measures whether the class
  survives the averaging.

Everything is a function of the seed: the latents of each kind are drawn with numpy from
default_rng((seed, kind number)) (from the priors of `LatentSpec.sample`, without compiling
anything), so one kind's figure does not depend on which others are drawn, and every code
sweep of an InfoGAN shares its z. Latents are decoded in padded batches of `DECODE_BATCH`
through one compiled function, so all figures of a run share one compilation.
"""

from __future__ import annotations

import dataclasses
from typing import Callable, Sequence

import jax
import jax.numpy as jnp
import numpy as np

from ganjax.data import to_unit_range
from ganjax.engine.latent import LatentSpec
from ganjax.run.reopen import Run

DECODE_BATCH = 128
CODE_RANGE = (-2.0, 2.0)  # the continuous codes' sweep (Chen et al. 2016, Figure 2)
KINDS = ("interpolation", "classes", "codes", "arithmetic")
# Numpy streams of the figures' latents (the toy figure's background samples have their own).
_KIND_STREAM = {kind: i for i, kind in enumerate(KINDS + ("toy samples",))}

Classify = Callable[[np.ndarray], np.ndarray]  # images [N, H, W, C] in [0, 1] -> labels [N]


@dataclasses.dataclass(frozen=True)
class LatentGrid:
    """`rows` x `columns` latents (each array [rows * columns, ...], row-major) and what the
    rows and columns show, in words."""

    latent: dict[str, np.ndarray]
    rows: int
    columns: int
    row_labels: tuple[str, ...]
    column_labels: tuple[str, ...]
    row_axis: str  # what varies from row to row
    column_axis: str  # what varies from column to column
    description: str  # what is held fixed and how the latents were made
    title: str = ""  # the figure's subject in a few words

    def __post_init__(self):
        for name, value in self.latent.items():
            if len(value) != self.rows * self.columns:
                raise ValueError(f"latent[{name!r}] has {len(value)} rows; the grid needs "
                                 f"{self.rows} x {self.columns}")


def prior_noise(spec: LatentSpec, rng: np.random.Generator, n: int) -> np.ndarray:
    """float32 [n, z_dim] from the spec's prior: N(0, I), or U[-1, 1] for uniform noise."""
    if spec.noise == "uniform":
        return rng.uniform(-1.0, 1.0, (n, spec.z_dim)).astype(np.float32)
    return rng.standard_normal((n, spec.z_dim)).astype(np.float32)


def prior_latent(spec: LatentSpec, rng: np.random.Generator, n: int,
                 labels: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """A latent of n rows from the priors of `LatentSpec.sample` (z as `prior_noise`, labels and
    categorical codes uniform over their values, continuous codes U[-1, 1]); `labels` [n] fix
    "y". Drawn with numpy, so that a figure's latents cost no compilation."""
    latent = {"z": prior_noise(spec, rng, n)}
    if spec.num_classes:
        latent["y"] = (np.asarray(labels, np.int32) if labels is not None else
                       rng.integers(0, spec.num_classes, n).astype(np.int32))
    if spec.code_dim:
        latent["c"] = rng.uniform(-1.0, 1.0, (n, spec.code_dim)).astype(np.float32)
    if spec.code_categories:
        latent["c_cat"] = np.stack([rng.integers(0, size, n) for size in spec.code_categories],
                                   axis=1).astype(np.int32)
    return latent


# --- interpolation --------------------------------------------------------------------------

def lerp(a: np.ndarray, b: np.ndarray, t: np.ndarray) -> np.ndarray:
    """(1 - t) a + t b for vectors a, b [..., d] and fractions t [T]: [..., T, d]."""
    a, b, t = np.asarray(a, np.float64), np.asarray(b, np.float64), np.asarray(t, np.float64)
    return a[..., None, :] + t[:, None] * (b - a)[..., None, :]


def slerp(a: np.ndarray, b: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Spherical interpolation of vectors a, b [..., d] at fractions t [T]: [..., T, d].

    sin((1 - t) w) / sin(w) a + sin(t w) / sin(w) b, where w is the angle between a and b: for
    unit vectors the path is the great-circle arc, at constant speed in angle (the angle to a is
    t w) and of unit norm throughout. Nearly parallel vectors (sin w < 1e-6) fall back to `lerp`.
    """
    a, b, t = np.asarray(a, np.float64), np.asarray(b, np.float64), np.asarray(t, np.float64)
    norms = np.linalg.norm(a, axis=-1) * np.linalg.norm(b, axis=-1)
    cos = np.sum(a * b, axis=-1) / np.maximum(norms, 1e-30)
    omega = np.arccos(np.clip(cos, -1.0, 1.0))[..., None]  # [..., 1]
    sin = np.sin(omega)
    safe = np.where(sin < 1e-6, 1.0, sin)
    wa = np.where(sin < 1e-6, 1.0 - t, np.sin((1.0 - t) * omega) / safe)  # [..., T]
    wb = np.where(sin < 1e-6, t, np.sin(t * omega) / safe)
    return wa[..., None] * a[..., None, :] + wb[..., None] * b[..., None, :]


def interpolation_method(spec: LatentSpec) -> str:
    """"slerp" for Gaussian noise, "linear" for uniform noise (see the module docstring)."""
    return "slerp" if spec.noise == "normal" else "linear"


def interpolate(spec: LatentSpec, a: np.ndarray, b: np.ndarray, t: np.ndarray) -> np.ndarray:
    """a -> b at fractions t by the spec's `interpolation_method`, float32 [..., T, d]."""
    path = slerp(a, b, t) if interpolation_method(spec) == "slerp" else lerp(a, b, t)
    return path.astype(np.float32)


def fractions(steps: int) -> np.ndarray:
    """t = 0, 1 / (steps - 1), ..., 1."""
    if steps < 2:
        raise ValueError(f"an interpolation needs at least 2 steps, got {steps}")
    return np.linspace(0.0, 1.0, steps)


def interpolation_grid(spec: LatentSpec, rng: np.random.Generator, pairs: int = 8,
                       steps: int = 10) -> LatentGrid:
    """Rows of z interpolations (see the module docstring): one row per z pair, or, for a
    conditional model, one row per class along the same z pair."""
    t = fractions(steps)
    rows = spec.num_classes or pairs
    if rows < 1:
        raise ValueError(f"an interpolation needs at least 1 pair, got {pairs}")
    num_pairs = 1 if spec.num_classes else pairs
    ends = prior_noise(spec, rng, 2 * num_pairs)
    ends = ends.reshape(num_pairs, 2, spec.z_dim)
    paths = interpolate(spec, ends[:, 0], ends[:, 1], t)  # [pairs, steps, d]
    if spec.num_classes:
        paths = np.broadcast_to(paths, (rows, steps, spec.z_dim))
    rest = _per_row(spec, rng, rows, steps, np.arange(rows) if spec.num_classes else None)
    latent = {"z": paths.reshape(rows * steps, spec.z_dim).astype(np.float32), **rest}
    method = interpolation_method(spec)
    how = ("spherical (slerp: Gaussian mass lies near the sphere of radius sqrt(z_dim))"
           if method == "slerp" else "linear (uniform noise fills a convex cube)")
    if spec.num_classes:
        row_labels = tuple(f"class {k}" for k in range(rows))
        row_axis, held = "class label y", "the same z pair in every row"
    else:
        row_labels = tuple(f"pair {i + 1}" for i in range(rows))
        row_axis, held = "z pair", "one random z pair per row"
    if spec.code_dim or spec.code_categories:
        held += "; codes drawn once per row"
    return LatentGrid(latent, rows, steps, row_labels, tuple(f"t={v:.2g}" for v in t),
                      row_axis, f"interpolation t, z = {method}(z_a, z_b, t)",
                      f"{how} interpolation of z; {held}",
                      f"{method} interpolation from z_a (t=0) to z_b (t=1)")


def _per_row(spec: LatentSpec, rng: np.random.Generator, rows: int, columns: int,
             labels: np.ndarray | None) -> dict[str, np.ndarray]:
    """The latent's parts other than z, drawn once per row and repeated along it (labels
    [rows] fix "y" of each row)."""
    one = prior_latent(spec, rng, rows, labels)
    return {name: np.repeat(np.asarray(value), columns, axis=0)
            for name, value in one.items() if name != "z"}


# --- classes and codes ----------------------------------------------------------------------

def class_grid(spec: LatentSpec, rng: np.random.Generator, columns: int = 10) -> LatentGrid:
    """One row per class, column j the same latent (z and any codes) in every row."""
    if not spec.num_classes:
        raise ValueError("the classes grid needs a conditional generator (model.num_classes)")
    if columns < 1:
        raise ValueError(f"the classes grid needs at least 1 column, got {columns}")
    k = spec.num_classes
    base = prior_latent(spec, rng, columns)
    latent = {name: np.tile(np.asarray(value), (k,) + (1,) * (np.ndim(value) - 1))
              for name, value in base.items() if name != "y"}
    latent["y"] = np.repeat(np.arange(k, dtype=np.int32), columns)
    return LatentGrid(latent, k, columns, tuple(f"class {c}" for c in range(k)),
                      tuple(f"z {j + 1}" for j in range(columns)), "class label y",
                      "z (style), the same in every row",
                      "rows: the class G is asked for; columns: one z each, shared by all rows",
                      "one row per class, one z per column")


def code_grid(spec: LatentSpec, rng: np.random.Generator, code: int = 0, columns: int = 9,
              value_range: tuple[float, float] = CODE_RANGE) -> LatentGrid:
    """InfoGAN: rows the values of the first categorical code, columns continuous code `code`
    swept over `value_range`; z, the other categorical codes and labels fixed for the whole grid,
    the other continuous codes at 0."""
    if not spec.code_dim:
        raise ValueError("the codes grid needs an InfoGAN generator (model.info_continuous > 0)")
    if not 0 <= code < spec.code_dim:
        raise ValueError(f"continuous code {code}: the generator has codes 0..{spec.code_dim - 1}")
    if columns < 2:
        raise ValueError(f"the code sweep needs at least 2 columns, got {columns}")
    rows = spec.code_categories[0] if spec.code_categories else 1
    n = rows * columns
    base = prior_latent(spec, rng, 1)
    latent = {name: np.repeat(np.asarray(value), n, axis=0) for name, value in base.items()}
    values = np.linspace(*value_range, columns).astype(np.float32)
    latent["c"] = np.zeros((n, spec.code_dim), np.float32)
    latent["c"][:, code] = np.tile(values, rows)
    if spec.code_categories:
        latent["c_cat"] = latent["c_cat"].copy()
        latent["c_cat"][:, 0] = np.repeat(np.arange(rows, dtype=np.int32), columns)
        row_labels = tuple(f"c_cat[0]={v}" for v in range(rows))
        row_axis = "categorical code c_cat[0]"
    else:
        row_labels, row_axis = ("",), "(no categorical code)"
    others = [f"c[{j}]" for j in range(spec.code_dim) if j != code]
    held = "z" + (" and the other categorical codes" if len(spec.code_categories) > 1 else "")
    held += (" fixed; " + ", ".join(others) + " = 0") if others else " fixed"
    return LatentGrid(latent, rows, columns, row_labels, tuple(f"{v:+.2g}" for v in values),
                      row_axis, f"continuous code c[{code}] (trained on [-1, 1])", held,
                      f"InfoGAN code sweep: c[{code}] from {values[0]:g} to {values[-1]:g}")


# --- decoding -------------------------------------------------------------------------------

class Decoder:
    """Decodes latents with a run's generator (EMA when present and wanted), in padded batches
    of `batch` through one compiled function; images come back in [-1, 1] (toys: points)."""

    def __init__(self, run: Run, use_ema: bool = True, batch: int = DECODE_BATCH):
        gan = run.gan
        self.spec = gan.latent
        self.batch = batch
        self.params = run.state.generator_params(use_ema)
        self.stats = run.state.batch_stats["g"]
        self.uses_ema = run.state.uses_ema(use_ema)
        self._generate = jax.jit(
            lambda params, stats, latent: gan.generate(params, stats, latent, train=False)[0])

    def __call__(self, latent: dict[str, np.ndarray]) -> np.ndarray:
        """G(latent) as float32 numpy [N, ...] for latent arrays of N rows."""
        n = len(latent["z"])
        parts = []
        for start in range(0, n, self.batch):
            chunk = {name: _pad(np.asarray(value)[start:start + self.batch], self.batch)
                     for name, value in latent.items()}
            out = self._generate(self.params, self.stats, jax.tree.map(jnp.asarray, chunk))
            parts.append(np.asarray(jax.device_get(out))[:min(self.batch, n - start)])
        return np.concatenate(parts).astype(np.float32)

    def grid(self, grid: LatentGrid) -> np.ndarray:
        """The decoded grid, [rows, columns, ...]."""
        out = self(grid.latent)
        return out.reshape((grid.rows, grid.columns) + out.shape[1:])


def _pad(values: np.ndarray, size: int) -> np.ndarray:
    """`values` with rows of zeros appended up to `size` rows."""
    missing = size - len(values)
    if not missing:
        return values
    return np.concatenate([values, np.zeros((missing,) + values.shape[1:], values.dtype)])


def kind_rng(seed: int, kind: str) -> np.random.Generator:
    """The generator of one kind's latents: numpy's default_rng((seed, index of kind in KINDS))."""
    return np.random.default_rng((seed, _KIND_STREAM[kind]))


# --- vector arithmetic ----------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class ClassMeans:
    """Per-class mean z of samples, by the class a classifier gives them."""

    means: np.ndarray  # float32 [K, z_dim]; zeros for a class with no samples
    counts: np.ndarray  # int64 [K]: samples the classifier put in each class
    num_samples: int


def class_mean_latents(z: np.ndarray, labels: np.ndarray, num_classes: int) -> ClassMeans:
    """The mean of the rows of z [N, d] with each label in 0..num_classes-1."""
    z = np.asarray(z, np.float64)
    labels = np.asarray(labels, np.int64)
    counts = np.bincount(labels, minlength=num_classes)[:num_classes]
    sums = np.zeros((num_classes, z.shape[1]))
    np.add.at(sums, labels, z)
    means = sums / np.maximum(counts, 1)[:, None]
    return ClassMeans(means.astype(np.float32), counts, len(z))


def typical_norm(spec: LatentSpec) -> float:
    """sqrt(E|z|^2) under the prior: sqrt(d) for N(0, I), sqrt(d / 3) for U[-1, 1]^d."""
    return float(np.sqrt(spec.z_dim if spec.noise == "normal" else spec.z_dim / 3.0))


def rescale(spec: LatentSpec, z: np.ndarray) -> np.ndarray:
    """Rows of z scaled to the prior's `typical_norm` (uniform noise then clipped to the cube);
    a zero row stays zero."""
    z = np.asarray(z, np.float64)
    norms = np.linalg.norm(z, axis=-1, keepdims=True)
    out = np.where(norms > 0, z * typical_norm(spec) / np.maximum(norms, 1e-30), 0.0)
    if spec.noise == "uniform":
        out = np.clip(out, -1.0, 1.0)
    return out.astype(np.float32)


@dataclasses.dataclass(frozen=True)
class Arithmetic:
    """The arithmetic figure's grid and what was measured on the way."""

    grid: LatentGrid
    means: ClassMeans
    pair: tuple[int, int] | None  # the classes of the interpolation row (None: no row)
    decoded_labels: np.ndarray  # [rows, columns] classifier labels of the decoded grid; -1 blank
    images: np.ndarray  # the decoded grid [rows, columns, H, W, C] in [-1, 1]; blank cells white


def arithmetic(decoder: Decoder, classify: Classify, num_classes: int, rng: np.random.Generator,
               num: int = 2000, pair: tuple[int, int] | None = None) -> Arithmetic:
    """Mean z per classifier class, decoded as is and rescaled, plus an interpolation row.

    `num` latents are drawn from the prior and decoded; `classify` (images in [0, 1] -> labels)
    labels them; row 1 decodes each class's mean z, row 2 the mean rescaled to the prior's
    typical norm, row 3 (when two classes have samples) interpolates between the rescaled
    means of `pair` (default: the first and last classes that have samples) in `num_classes`
    steps. Classes without samples are left blank.
    """
    spec = decoder.spec
    if spec.conditional:
        raise ValueError("latent arithmetic averages z alone; it needs an unconditional "
                         "generator (in a conditional one the class is an input: see the "
                         "classes figure)")
    if num < num_classes:
        raise ValueError(f"latent arithmetic needs at least {num_classes} samples, got {num}")
    z = prior_noise(spec, rng, num)
    labels = np.asarray(classify(to_unit_range(decoder({"z": z}))))
    means = class_mean_latents(z, labels, num_classes)
    present = np.flatnonzero(means.counts)
    if pair is None and len(present) >= 2:
        pair = (int(present[0]), int(present[-1]))
    if pair is not None and (min(pair) < 0 or max(pair) >= num_classes):
        raise ValueError(f"pair {pair}: classes must be in [0, {num_classes - 1}]")
    if pair is not None and not (means.counts[pair[0]] and means.counts[pair[1]]):
        pair = None
    scaled = rescale(spec, means.means)
    rows_z = [means.means, scaled]
    row_labels = ["mean z", "rescaled"]
    if pair is not None:
        rows_z.append(interpolate(spec, scaled[pair[0]], scaled[pair[1]],
                                  fractions(num_classes)))
        row_labels.append(f"{pair[0]} to {pair[1]}")
    latent = {"z": np.concatenate(rows_z).astype(np.float32)}
    rows = len(rows_z)
    grid = LatentGrid(
        latent, rows, num_classes, tuple(row_labels),
        tuple(f"class {k}" for k in range(num_classes)), "what is decoded",
        ("class k, the classifier's label of the samples averaged"
         + (" (last row: t along the interpolation)" if pair is not None else "")),
        f"mean z of the samples (of {num}) that the classifier puts in each class; rescaled: "
        f"that mean scaled to norm {typical_norm(spec):.3g}, the prior's typical norm"
        + (f"; last row: {interpolation_method(spec)} from the rescaled mean of class "
           f"{pair[0]} to that of {pair[1]}" if pair is not None else ""),
        "mean z of the samples the classifier puts in each class")
    images = decoder.grid(grid)
    decoded = np.asarray(classify(to_unit_range(images.reshape((-1,) + images.shape[2:]))))
    decoded = decoded.reshape(rows, num_classes).astype(np.int64)
    blank = np.zeros((rows, num_classes), bool)
    blank[:2] = means.counts[None, :] == 0
    images = np.where(blank[:, :, None, None, None], 1.0, images).astype(np.float32)
    decoded[blank] = -1
    return Arithmetic(grid, means, pair, decoded, images)


def class_kept_fraction(result: Arithmetic, row: int = 1) -> float:
    """The share of classes with samples whose decoded mean (`row` 0: as is, 1: rescaled) the
    classifier puts back in that class; NaN when no class has samples."""
    present = np.flatnonzero(result.means.counts)
    if not len(present):
        return float("nan")
    return float(np.mean(result.decoded_labels[row, present] == present))


def grids_for(spec: LatentSpec, kinds: Sequence[str], seed: int, pairs: int = 8,
              steps: int = 10, columns: int = 10, sweep: int = 9) -> dict[str, LatentGrid]:
    """The applicable latent grids among `kinds` (not "arithmetic", which needs a classifier):
    {"interpolation": ..., "classes": ..., "codes_c0": ..., "codes_c1": ...}. `pairs` and
    `steps`: interpolation rows and columns; `columns`: z's of the classes grid; `sweep`: values
    of each continuous code (odd, so that 0 is one of them)."""
    grids: dict[str, LatentGrid] = {}
    if "interpolation" in kinds:
        grids["interpolation"] = interpolation_grid(spec, kind_rng(seed, "interpolation"), pairs,
                                                    steps)
    if "classes" in kinds and spec.num_classes:
        grids["classes"] = class_grid(spec, kind_rng(seed, "classes"), columns)
    if "codes" in kinds and spec.code_dim:
        for code in range(spec.code_dim):
            grids[f"codes_c{code}"] = code_grid(spec, kind_rng(seed, "codes"), code, sweep)
    return grids
