"""PNG figures: toy densities with D's output, 2-D samples over D's surface, training curves.

Each figure is built by a `*_figure` function that returns a matplotlib Figure (so tests can
inspect what was drawn) and saved by the `plot_*` function of the same name, which returns the
path. Legends of the toy figures sit outside the axes so that they never cover samples.
"""

from __future__ import annotations

import dataclasses
import math
import os
import textwrap
from typing import Any, Mapping, Sequence

import numpy as np

# A series gets point markers when it has at most this many points, so that sparse eval
# curves (one or two evals) stay visible rather than collapsing into an invisible line.
_MARKER_MAX_POINTS = 30
_REFERENCE_STYLE = {"color": "0.45", "ls": "--", "lw": 1.0, "zorder": 1}
_REFERENCE_DASHES = ("--", ":", "-.")  # one per reference line of a panel, to tell them apart


@dataclasses.dataclass(frozen=True)
class ToyPanel:
    """What a toy figure shows: real and generated samples, and optionally D on a grid.

    `d_note` says why D has no per-point surface although it exists (e.g. a packed D), and is
    written on the figure in place of the surface.
    """

    real: np.ndarray  # [N, dim]
    fake: np.ndarray  # [M, dim]
    d_grid: np.ndarray | None = None  # points where D was evaluated: [P, dim]
    d_prob: np.ndarray | None = None  # sigmoid(D) at those points: [P]
    d_note: str | None = None


@dataclasses.dataclass(frozen=True)
class Reference:
    """A horizontal line on a curve panel: a value the metric should reach or be judged by."""

    value: float
    label: str


def _pyplot():
    """matplotlib with the file-only backend, imported when a figure is drawn."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig: Any, path: str, dpi: int) -> str:
    """Writes `fig` to `path` (creating its folder), closes it and returns `path`."""
    plt = _pyplot()
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    fig.savefig(path, dpi=dpi, bbox_inches="tight")
    plt.close(fig)
    return path


# --- toy distributions ---------------------------------------------------------------------

def plot_toy(result: ToyPanel, source: Any, path: str, title: str) -> str:
    """The eval figure for a 1-D or 2-D toy distribution (`source`: a `GaussianMixture`, for its
    density, modes and std); returns `path`."""
    return _save(toy_figure(result, source, title), path, dpi=110)


def toy_figure(result: ToyPanel, source: Any, title: str) -> Any:
    """The Figure behind `plot_toy`."""
    plt = _pyplot()
    return _plot_1d(plt, result, source, title) if source.dim == 1 else \
        _plot_2d(plt, result, source, title)


def toy_curve_references(source: Any, spread_ratio_perfect: float | None = None
                         ) -> dict[str, list[Reference]]:
    """Target values of the toy eval metrics, read off the distribution itself.

    A single 1-D Gaussian: its mean and std. A mixture of K modes: K modes captured, every
    sample of high quality, and KL(mode histogram || uniform) between 0 (balanced) and ln K
    (everything on one mode); with `spread_ratio_perfect` (the evaluation's closed form,
    `ganjax.evaluation.toy.perfect_spread_ratio`), that line on the spread-ratio panel. The
    perfect MMD is a logged metric, drawn from the records (`_Panel.reference_series`).
    """
    if source.dim == 1:
        if source.num_modes != 1:
            return {}
        mean, std = float(source.centers[0, 0]), float(source.std)
        return {"eval/mean": [Reference(mean, f"target mean {mean:g}")],
                "eval/std": [Reference(std, f"target std {std:g}")]}
    k = int(source.num_modes)
    references = {"eval/modes": [Reference(k, f"all {k} modes")],
                  "eval/hq_fraction": [Reference(1.0, "every sample (100%)")],
                  "eval/mode_kl": [Reference(0.0, "uniform over modes"),
                                   Reference(math.log(k), f"one mode only (ln {k})")]}
    if spread_ratio_perfect is not None:
        references["eval/spread_ratio"] = [Reference(
            spread_ratio_perfect, f"perfect sampler ({spread_ratio_perfect:.3f}: 3-std cut)")]
    return references


def _plot_1d(plt, result: ToyPanel, source: Any, title: str):
    """Goodfellow et al. 2014, Fig. 1: data density, generator density and D(x) over x."""
    fig, ax = plt.subplots(figsize=(8.2, 4), layout="constrained")
    lo, hi = _range_1d(source, result.fake)
    xs = np.linspace(lo, hi, 400)
    ax.plot(xs, source.density(xs[:, None]), "k:", lw=2, label="data density $p_{data}(x)$")
    ax.hist(result.fake.ravel(), bins=80, range=(lo, hi), density=True, histtype="step",
            color="tab:green", lw=1.5,
            label=f"generator density $p_g(x)$\n(histogram of {len(result.fake):,} samples)")
    if result.d_prob is not None:
        ax.plot(result.d_grid[:, 0], result.d_prob, "--", color="tab:blue", lw=1.5,
                label="D(x), probability of 'real'")
        ax.axhline(0.5, **{**_REFERENCE_STYLE, "lw": 0.8}, label="D = 1/2 (D cannot tell)")
    ax.set_xlim(lo, hi)
    ax.set_ylim(bottom=0)
    ax.set_xlabel("x")
    ax.set_ylabel("density  /  D(x)" if result.d_prob is not None else "density")
    ax.set_title(title, fontsize=10)
    fig.legend(loc="outside right upper", fontsize=8, frameon=False)
    if result.d_note:
        _note_below(ax, "No D(x) curve: " + result.d_note)
    return fig


def _note_below(ax, text: str) -> None:
    """Writes `text` under the x label of `ax`, in the figure's margin."""
    ax.annotate("\n".join(textwrap.wrap(text, 90)), xy=(0.5, 0), xycoords="axes fraction",
                xytext=(0, -36), textcoords="offset points", ha="center", va="top",
                fontsize=8, color="0.3")


def _range_1d(source: Any, fake: np.ndarray) -> tuple[float, float]:
    """An x range covering the data (4 std beyond its modes) and 99% of the generated samples."""
    lo = min(source.centers.min() - 4 * source.std, np.percentile(fake, 0.5))
    hi = max(source.centers.max() + 4 * source.std, np.percentile(fake, 99.5))
    return float(lo), float(hi)


def _plot_2d(plt, result: ToyPanel, source: Any, title: str):
    """Real and generated samples; beside them D's probability surface, or why there is none."""
    widths = [1.0] + ([1.15] if result.d_prob is not None else [0.6] if result.d_note else [])
    fig, axes = plt.subplots(1, len(widths), figsize=(5.2 * sum(widths), 5.6), squeeze=False,
                             layout="constrained", width_ratios=widths)
    ax = axes[0, 0]
    _scatter_samples(ax, result, source)
    ax.set_title(title, fontsize=10)
    ax.legend(handles=_sample_legend_handles(), loc="upper center", ncol=3, fontsize=8,
              frameon=False, bbox_to_anchor=(0.5, -0.11))
    if result.d_prob is not None:
        _draw_d_surface(fig, axes[0, 1], result, source)
    elif result.d_note:
        _draw_d_note(axes[0, 1], result.d_note)
    return fig


def _scatter_samples(ax, result: ToyPanel, source: Any) -> None:
    """Real (blue) and generated (red) samples and the mixture's modes (black crosses)."""
    ax.scatter(*result.real.T, s=2, c="tab:blue", alpha=0.4, label="real", zorder=2)
    ax.scatter(*result.fake.T, s=2, c="tab:red", alpha=0.4, label="generated", zorder=3)
    ax.scatter(*source.centers.T, s=18, marker="x", c="k", lw=1, label="modes", zorder=4)
    ax.set_aspect("equal")
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")


def _sample_legend_handles() -> list:
    """Legend entries for `_scatter_samples`, with markers large enough to read."""
    from matplotlib.lines import Line2D

    dot = {"ls": "none", "marker": "o", "ms": 5, "alpha": 0.7}
    return [Line2D([], [], color="tab:blue", label="real samples", **dot),
            Line2D([], [], color="tab:red", label="generated samples", **dot),
            Line2D([], [], color="k", ls="none", marker="x", ms=6, label="modes")]


def _draw_d_surface(fig, ax, result: ToyPanel, source: Any) -> None:
    """sigmoid(D) on the grid as filled contours, with generated samples and modes on top."""
    side = int(round(np.sqrt(len(result.d_grid))))
    xs = result.d_grid[:, 0].reshape(side, side)
    ys = result.d_grid[:, 1].reshape(side, side)
    surface = ax.contourf(xs, ys, result.d_prob.reshape(side, side),
                          levels=np.linspace(0, 1, 21), cmap="coolwarm")
    fig.colorbar(surface, ax=ax, label="D(x), probability of 'real'", shrink=0.85)
    ax.scatter(*result.fake.T, s=1, c="k", alpha=0.3)
    ax.scatter(*source.centers.T, s=18, marker="x", c="w", lw=1)
    ax.set_aspect("equal")
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    ax.set_title("D(x) with generated samples (black), modes (white)", fontsize=10)


def _draw_d_note(ax, note: str) -> None:
    """An empty panel carrying `note`: why D's surface is not drawn."""
    ax.set_axis_off()
    text = "No D(x) surface\n\n" + "\n".join(textwrap.wrap(note, 30))
    ax.text(0.5, 0.5, text, ha="center", va="center", fontsize=9, linespacing=1.4,
            transform=ax.transAxes, bbox={"boxstyle": "round", "fc": "0.95", "ec": "0.7"})


# --- image samples -------------------------------------------------------------------------

def image_grid(images: np.ndarray, columns: int | None = None, pad: int = 1) -> np.ndarray:
    """Tiles [n, H, W, C] images in [-1, 1] into one uint8 [rows*(H+pad), cols*(W+pad), C] array."""
    n, h, w, c = images.shape
    columns = columns or int(np.ceil(np.sqrt(n)))
    rows = -(-n // columns)
    canvas = np.ones((rows * (h + pad) + pad, columns * (w + pad) + pad, c), np.float32)
    for i, image in enumerate(np.clip(images, -1, 1)):
        r, col = divmod(i, columns)
        top, left = pad + r * (h + pad), pad + col * (w + pad)
        canvas[top:top + h, left:left + w] = (image + 1) / 2
    return np.round(canvas * 255).astype(np.uint8)


def plot_image_grid(images: np.ndarray, path: str, title: str) -> str:
    """A sample grid, enlarged so that even 8x8 digits are readable; returns `path`."""
    return _save(image_grid_figure(images, title), path, dpi=100)


def image_grid_figure(images: np.ndarray, title: str) -> Any:
    """The Figure behind `plot_image_grid`."""
    plt = _pyplot()
    grid = image_grid(np.asarray(images))
    fig, ax = plt.subplots(figsize=(6, 6 * grid.shape[0] / grid.shape[1] + 0.5))
    ax.imshow(grid[..., 0] if grid.shape[-1] == 1 else grid, cmap="gray", vmin=0, vmax=255,
              interpolation="nearest")
    ax.set_title(title, fontsize=10)
    ax.axis("off")
    return fig


# --- training curves -----------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class _Panel:
    """One axes of the curves figure: which metrics it plots and how it is labelled."""

    title: str
    ylabel: str
    series: tuple[tuple[str, str], ...]  # (record key, legend label)
    ylim: tuple[float | None, float | None] = (None, None)
    log: bool = False
    integer: bool = False
    spread: str | None = None  # the key of a +-1 std band around the single series
    # (record key, legend label) of metrics drawn as a reference line at their last value
    # rather than as a curve: a value that holds for the whole run, e.g. a perfect sampler's.
    reference_series: tuple[tuple[str, str], ...] = ()


_D_HALF = Reference(0.5, "D = 1/2 (D cannot tell)")
# The D = 1/2 line is part of what these metrics mean (mean sigmoid(D)), whatever the data.
_BUILT_IN_REFERENCES = {"eval/d_on_data": [_D_HALF], "eval/d_on_samples": [_D_HALF]}

_KNOWN_PANELS = (
    _Panel("D's raw output on training batches", "mean D output (pre-sigmoid)",
           (("train/d_real_logit", "on real"), ("train/d_fake_logit", "on generated"))),
    _Panel("Gradient norms", "global L2 norm",
           (("train/d_grad_norm", "D"), ("train/g_grad_norm", "G")), log=True),
    _Panel("Learning rates", "learning rate", (("train/d_lr", "D"), ("train/g_lr", "G")),
           ylim=(0.0, None)),
    _Panel("D's mean probability at eval", "mean sigmoid(D)",
           (("eval/d_on_data", "on real data"), ("eval/d_on_samples", "on generated samples")),
           ylim=(0.0, 1.0)),
    _Panel("Modes captured", "modes (count)", (("eval/modes", "modes captured"),),
           ylim=(0.0, None), integer=True),
    _Panel("High-quality samples", "fraction within 3 std of a mode",
           (("eval/hq_fraction", "high-quality fraction"),), ylim=(0.0, 1.05)),
    _Panel("D penalty", "penalty term", (("train/d_penalty", "penalty"),)),
    _Panel("Mode balance", "KL(modes || uniform) [nats]",
           (("eval/mode_kl", "mode KL"),), ylim=(0.0, None)),
    _Panel("Mode spread (HQ samples)", "HQ spread / data std (median mode)",
           (("eval/spread_ratio", "spread ratio"),), ylim=(0.0, None)),
    _Panel("MMD to the true mixture (lower is better)", "MMD (kernels: 1, 2, 4 std)",
           (("eval/mixture_mmd", "generated vs true"),), log=True,
           reference_series=(("eval/mixture_mmd_perfect", "perfect sampler"),)),
    _Panel("Sample mean", "mean of generated x", (("eval/mean", "sample mean"),)),
    _Panel("Sample std", "std of generated x", (("eval/std", "sample std"),), ylim=(0.0, None)),
    _Panel("FID (lower is better)", "FID", (("eval/fid", "FID"),), ylim=(0.0, None)),
    _Panel("KID (lower is better)", "KID (mean, band: +-1 std)", (("eval/kid_mean", "KID"),),
           spread="eval/kid_std"),
    _Panel("Inception score (higher is better)", "IS (mean, band: +-1 std)",
           (("eval/is_mean", "IS"),), ylim=(1.0, None), spread="eval/is_std"),
)


def plot_curves(records: Sequence[dict], path: str,
                keys: Sequence[str] = ("train/d_loss", "train/g_loss"),
                references: Mapping[str, Sequence[Reference]] | None = None,
                title: str | None = None) -> str:
    """Training curves from metrics.jsonl records, plus the eval metrics; returns `path`.

    `references` maps a metric key to the values worth a line on its panel (e.g. the number
    of modes), which the caller reads from the run's data (`toy_curve_references`).
    """
    return _save(curves_figure(records, keys, references, title), path, dpi=100)


def curves_figure(records: Sequence[dict],
                  keys: Sequence[str] = ("train/d_loss", "train/g_loss"),
                  references: Mapping[str, Sequence[Reference]] | None = None,
                  title: str | None = None) -> Any:
    """The Figure behind `plot_curves`: one panel per group of related metrics, all on the same
    step axis, with reference lines and (for sparse series) point markers."""
    plt = _pyplot()
    references = {**_BUILT_IN_REFERENCES, **(references or {})}
    panels = _curve_panels(records, keys)
    cols = 2 if len(panels) in (2, 4) else min(len(panels), 3)
    rows = -(-len(panels) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.6 * cols, 3.3 * rows), squeeze=False,
                             layout="constrained")
    last_step = max((r["step"] for r in records), default=1)
    for ax, panel in zip(axes.ravel(), panels):
        _draw_panel(ax, panel, records, references)
        ax.set_xlim(0, last_step * 1.04 or 1)
    for ax in axes.ravel()[len(panels):]:
        ax.set_axis_off()
    if title:
        fig.suptitle(title, fontsize=11)
    return fig


def _numeric_keys(records: Sequence[dict]) -> set[str]:
    """Keys with a number in some record (not the step, nor an eval protocol dict)."""
    return {k for r in records for k, v in r.items()
            if k != "step" and isinstance(v, (int, float)) and not isinstance(v, bool)}


def _curve_panels(records: Sequence[dict], keys: Sequence[str]) -> list[_Panel]:
    """The panels worth drawing for these records: the losses, the known groups that have data,
    then a panel for each other metric (a train/ metric only if it is ever non-zero)."""
    present = _numeric_keys(records)
    losses = _Panel("Losses (mean over each log window)", "loss",
                    tuple((k, k.split("/")[-1]) for k in keys))
    panels = [losses]
    claimed = set(keys)
    for panel in _KNOWN_PANELS:
        series = tuple(s for s in panel.series if s[0] in present and
                       (not s[0].startswith("train/") or _ever_nonzero(records, s[0])))
        claimed |= {k for k, _ in panel.series + panel.reference_series}
        claimed |= {panel.spread} if panel.spread else set()
        if series:
            panels.append(dataclasses.replace(panel, series=series))
    for key in sorted(present - claimed):
        if key.startswith("train/") and not _ever_nonzero(records, key):
            continue
        name = key.split("/", 1)[-1]
        panels.append(_Panel(f"{name} ({key.split('/')[0]})", name, ((key, name),)))
    return panels


def _ever_nonzero(records: Sequence[dict], key: str) -> bool:
    """False for a train/ metric that is 0 throughout (e.g. the penalty of a run without one),
    which would only add a flat line."""
    return any(_series(records, key)[1])


def _series(records: Sequence[dict], key: str) -> tuple[np.ndarray, np.ndarray]:
    """Steps and values of `key` in the records that have a number (NaN included) for it."""
    points = [(r["step"], r[key]) for r in records
              if isinstance(r.get(key), (int, float)) and not isinstance(r.get(key), bool)]
    steps, values = zip(*points) if points else ((), ())
    return np.asarray(steps, float), np.asarray(values, float)


def _draw_panel(ax, panel: _Panel, records: Sequence[dict],
                references: Mapping[str, Sequence[Reference]]) -> None:
    """Plots the panel's series (markers when sparse), its reference lines and labels."""
    for key, label in panel.series:
        steps, values = _series(records, key)
        marker = "o" if len(steps) <= _MARKER_MAX_POINTS else None
        (line,) = ax.plot(steps, values, lw=1.2, marker=marker, ms=4, label=label, zorder=3)
        if panel.spread:
            _, spread = _series(records, panel.spread)
            if len(spread) == len(values):
                ax.fill_between(steps, values - spread, values + spread, alpha=0.2,
                                color=line.get_color(), lw=0)
    drawn: list[float] = []
    lines = [ref for key, _ in panel.series for ref in references.get(key, ())]
    lines += _last_values(records, panel.reference_series)
    for ref in lines:
        if ref.value not in drawn:
            ls = _REFERENCE_DASHES[len(drawn) % len(_REFERENCE_DASHES)]
            ax.axhline(ref.value, **{**_REFERENCE_STYLE, "ls": ls}, label=ref.label)
            drawn.append(ref.value)
    _set_limits(ax, panel, drawn)
    ax.set_title(panel.title, fontsize=10)
    ax.set_xlabel("step")
    ax.set_ylabel(panel.ylabel, fontsize=9)
    ax.grid(alpha=0.25)
    if len(panel.series) > 1 or drawn:  # a lone series is named by the title
        ax.legend(fontsize=7, loc="best")


def _last_values(records: Sequence[dict], keys: Sequence[tuple[str, str]]) -> list[Reference]:
    """A reference line per (key, label) at the key's last finite value in the records."""
    lines = []
    for key, label in keys:
        values = _series(records, key)[1]
        values = values[np.isfinite(values)]
        if len(values):
            lines.append(Reference(float(values[-1]), f"{label} ({values[-1]:.3g})"))
    return lines


def _set_limits(ax, panel: _Panel, reference_values: Sequence[float]) -> None:
    """The panel's fixed bounds, widened so that every reference line stays in view, with a
    small margin so that markers on a bound (0 modes, a fraction of 1) are not cut in half."""
    if panel.log:
        _log_axis(ax)
        return
    if panel.integer:
        from matplotlib.ticker import MaxNLocator

        ax.yaxis.set_major_locator(MaxNLocator(integer=True, steps=[1, 2, 5, 10]))
    lo, hi = ax.get_ylim()
    want_lo, want_hi = panel.ylim
    top = max([hi, *reference_values]) if want_hi is None else max([want_hi, *reference_values])
    bottom = min([lo, *reference_values]) if want_lo is None else \
        min([want_lo, *reference_values])
    margin = 0.04 * (top - bottom or 1.0)
    if want_lo is not None:
        bottom -= margin
    if want_hi is not None or (reference_values and top == max(reference_values)):
        top += margin
    ax.set_ylim(bottom, top)


def _log_axis(ax) -> None:
    """A log y axis ticked at 1, 2 and 5 times powers of ten, labelled as plain numbers."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    ax.set_yscale("log")
    ax.yaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
    ax.yaxis.set_minor_formatter(NullFormatter())
