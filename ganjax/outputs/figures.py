"""PNG figures: toy densities with D's output, 2-D samples over D's surface, training curves."""

from __future__ import annotations

import dataclasses
import os
from typing import Any, Sequence

import numpy as np


@dataclasses.dataclass(frozen=True)
class ToyPanel:
    """What a toy figure shows: real and generated samples, and optionally D on a grid."""

    real: np.ndarray  # [N, dim]
    fake: np.ndarray  # [M, dim]
    d_grid: np.ndarray | None = None  # points where D was evaluated: [P, dim]
    d_prob: np.ndarray | None = None  # sigmoid(D) at those points: [P]


def _pyplot():
    """matplotlib with the file-only backend, imported when a figure is drawn."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_toy(result: ToyPanel, source: Any, path: str, title: str) -> str:
    """The eval figure for a 1-D or 2-D toy distribution (`source`: a `GaussianMixture`, for its
    density, modes and std); returns `path`."""
    plt = _pyplot()
    if source.dim == 1:
        fig = _plot_1d(plt, result, source, title)
    else:
        fig = _plot_2d(plt, result, source, title)
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)
    return path


def _plot_1d(plt, result, source, title):
    """Goodfellow et al. 2014, Fig. 1: data density, generator density and D(x) over x."""
    fig, ax = plt.subplots(figsize=(7, 4))
    xs = np.linspace(*_range_1d(source, result.fake), 400)
    ax.plot(xs, source.density(xs[:, None]), "k:", lw=2, label="data density")
    ax.hist(result.fake.ravel(), bins=80, range=(xs[0], xs[-1]), density=True, histtype="step",
            color="tab:green", lw=1.5, label="generator density")
    if result.d_prob is not None:
        ax.plot(result.d_grid[:, 0], result.d_prob, "--", color="tab:blue", lw=1.5,
                label="D(x)")
    ax.axhline(0.5, color="grey", lw=0.5)
    ax.set_xlabel("x")
    ax.set_title(title)
    ax.legend(loc="upper left", fontsize=8)
    return fig


def _range_1d(source, fake):
    lo = min(source.centers.min() - 4 * source.std, np.percentile(fake, 0.5))
    hi = max(source.centers.max() + 4 * source.std, np.percentile(fake, 99.5))
    return lo, hi


def _plot_2d(plt, result, source, title):
    """Real and generated samples, and D's probability surface under the generated ones."""
    panels = 2 if result.d_prob is not None else 1
    fig, axes = plt.subplots(1, panels, figsize=(5.2 * panels, 5), squeeze=False)
    ax = axes[0, 0]
    ax.scatter(*result.real.T, s=2, c="tab:blue", alpha=0.4, label="real")
    ax.scatter(*result.fake.T, s=2, c="tab:red", alpha=0.4, label="generated")
    ax.scatter(*source.centers.T, s=30, marker="x", c="k", label="modes")
    ax.set_aspect("equal")
    ax.legend(loc="upper right", fontsize=8, markerscale=3)
    ax.set_title(title)
    if result.d_prob is not None:
        ax = axes[0, 1]
        side = int(round(np.sqrt(len(result.d_grid))))
        xs = result.d_grid[:, 0].reshape(side, side)
        ys = result.d_grid[:, 1].reshape(side, side)
        surface = ax.contourf(xs, ys, result.d_prob.reshape(side, side), levels=np.linspace(0, 1, 21),
                              cmap="coolwarm")
        fig.colorbar(surface, ax=ax, label="D(x)")
        ax.scatter(*result.fake.T, s=1, c="k", alpha=0.3)
        ax.set_aspect("equal")
        ax.set_title("D(x) and generated samples")
    return fig


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
    plt = _pyplot()
    grid = image_grid(np.asarray(images))
    fig, ax = plt.subplots(figsize=(6, 6 * grid.shape[0] / grid.shape[1] + 0.4))
    ax.imshow(grid[..., 0] if grid.shape[-1] == 1 else grid, cmap="gray", vmin=0, vmax=255,
              interpolation="nearest")
    ax.set_title(title, fontsize=10)
    ax.axis("off")
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    fig.savefig(path, dpi=100, bbox_inches="tight")
    plt.close(fig)
    return path


def plot_curves(records: Sequence[dict], path: str,
                keys: Sequence[str] = ("train/d_loss", "train/g_loss")) -> str:
    """Training curves from metrics.jsonl records, plus every eval/ metric in its own panel."""
    plt = _pyplot()
    eval_keys = sorted({k for r in records for k, v in r.items()  # numbers, not a protocol dict
                        if k.startswith("eval/") and not isinstance(v, (dict, list, str))})
    panels = [list(keys)] + [[k] for k in eval_keys]
    cols = min(len(panels), 3)
    rows = -(-len(panels) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.5 * cols, 3.2 * rows), squeeze=False)
    for ax, group in zip(axes.ravel(), panels):
        for key in group:
            points = [(r["step"], r[key]) for r in records if r.get(key) is not None]
            if points:
                ax.plot(*zip(*points), label=key, lw=1)
        ax.set_xlabel("step")
        if ax.get_lines():
            ax.legend(fontsize=8)
    for ax in axes.ravel()[len(panels):]:
        ax.axis("off")
    fig.tight_layout()
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
