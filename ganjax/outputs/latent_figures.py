"""PNG figures of latent walks (`ganjax latent`): labelled image grids, and for 2-D toy runs the
interpolation paths drawn over the generator's samples.

Plotting only: the latents and images come from `ganjax.run.latent_walks`. A grid's rows and
columns are labelled (class, code value, interpolation t) and its axes say what varies; an
optional caption under each cell carries a per-cell fact (e.g. a classifier's label).
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from ganjax.outputs.figures import _pyplot, _save, image_grid

_CELL_INCHES = 0.62  # side of one image on the page, whatever its resolution


def labelled_grid_figure(images: np.ndarray, row_labels: Sequence[str],
                         column_labels: Sequence[str], row_axis: str, column_axis: str,
                         title: str, captions: Sequence[Sequence[str]] | None = None,
                         note: str | None = None) -> Any:
    """The Figure of a [rows, columns, H, W, C] grid of images in [-1, 1], each row and column
    labelled, `captions[r][c]` written under cell (r, c), and `note` under the grid."""
    images = np.asarray(images, np.float32)
    if images.ndim != 5:
        raise ValueError(f"a latent grid is [rows, columns, H, W, C] images; got shape "
                         f"{images.shape} (toy runs are drawn by toy_paths_figure)")
    rows, columns, h, w, _ = images.shape
    if len(row_labels) != rows or len(column_labels) != columns:
        raise ValueError(f"{len(row_labels)} row and {len(column_labels)} column labels for a "
                         f"{rows} x {columns} grid")
    gap = max(h // 2, 3) if captions is not None else 0  # white pixels under each row
    row_strips = [image_grid(images[r], columns) for r in range(rows)]
    strip_h = row_strips[0].shape[0]
    blank = np.full((gap,) + row_strips[0].shape[1:], 255, np.uint8)
    canvas = np.concatenate([part for strip in row_strips for part in (strip, blank)])
    plt = _pyplot()
    width = columns * _CELL_INCHES + 1.6
    height = canvas.shape[0] * _CELL_INCHES / (h + 1) + 1.0 + (0.3 if note else 0.0)
    fig, ax = plt.subplots(figsize=(width, height))
    ax.imshow(canvas[..., 0] if canvas.shape[-1] == 1 else canvas, cmap="gray", vmin=0,
              vmax=255, interpolation="nearest")
    row_top = [r * (strip_h + gap) for r in range(rows)]
    ax.set_yticks([top + 1 + h / 2 - 0.5 for top in row_top], list(row_labels), fontsize=7)
    ax.set_xticks([1 + c * (w + 1) + w / 2 - 0.5 for c in range(columns)],
                  list(column_labels), fontsize=7, rotation=45 if columns > 10 else 0)
    ax.xaxis.tick_top()
    ax.xaxis.set_label_position("top")
    ax.tick_params(length=0)
    for side in ax.spines.values():
        side.set_visible(False)
    ax.set_xlabel(column_axis, fontsize=8)
    ax.set_ylabel(row_axis, fontsize=8)
    if captions is not None:
        for r, line in enumerate(captions):
            for c, text in enumerate(line):
                ax.text(1 + c * (w + 1) + w / 2 - 0.5, row_top[r] + strip_h + gap / 2 - 0.5,
                        text, ha="center", va="center", fontsize=5.5)
    ax.set_title(title, fontsize=9, pad=10)
    if note:
        ax.annotate(note, xy=(0.5, 0), xycoords="axes fraction", xytext=(0, -6),
                    textcoords="offset points", ha="center", va="top", fontsize=7, wrap=True)
    return fig


def plot_labelled_grid(images: np.ndarray, row_labels: Sequence[str],
                       column_labels: Sequence[str], row_axis: str, column_axis: str,
                       title: str, path: str, captions: Sequence[Sequence[str]] | None = None,
                       note: str | None = None) -> str:
    """Saves `labelled_grid_figure` as a PNG at `path`; returns `path`."""
    return _save(labelled_grid_figure(images, row_labels, column_labels, row_axis, column_axis,
                                      title, captions, note), path, dpi=120)


def toy_paths_figure(samples: np.ndarray, paths: np.ndarray, row_labels: Sequence[str],
                     title: str, note: str | None = None) -> Any:
    """A 2-D toy run's interpolations: G's samples [N, 2] in grey, each path [T, 2] of `paths`
    [rows, T, 2] a line from its start (circle) to its end (square)."""
    samples, paths = np.asarray(samples), np.asarray(paths)
    if samples.ndim != 2 or samples.shape[1] != 2 or paths.ndim != 3 or paths.shape[2] != 2:
        raise ValueError(f"interpolation paths are drawn for 2-D toy data only; got samples "
                         f"{samples.shape} and paths {paths.shape}")
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7.2, 5.2), layout="constrained")
    ax.scatter(*samples.T, s=2, c="0.6", alpha=0.4, label=f"G samples ({len(samples):,})",
               zorder=1)
    colors = plt.get_cmap("tab10")
    for i, (path, label) in enumerate(zip(paths, row_labels)):
        color = colors(i % 10)
        ax.plot(*path.T, "-", marker=".", ms=4, lw=1.2, color=color, label=label, zorder=3)
        ax.plot(*path[0], "o", ms=6, color=color, zorder=4)
        ax.plot(*path[-1], "s", ms=6, color=color, zorder=4)
    ax.set_aspect("equal")
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    ax.set_title(title, fontsize=9)
    fig.legend(loc="outside right upper", fontsize=7, frameon=False,
               title="path: circle t=0, square t=1", title_fontsize=7)
    if note:
        ax.annotate(note, xy=(0.5, 0), xycoords="axes fraction", xytext=(0, -30),
                    textcoords="offset points", ha="center", va="top", fontsize=7)
    return fig


def plot_toy_paths(samples: np.ndarray, paths: np.ndarray, row_labels: Sequence[str],
                   title: str, path: str, note: str | None = None) -> str:
    """Saves `toy_paths_figure` as a PNG at `path`; returns `path`."""
    return _save(toy_paths_figure(samples, paths, row_labels, title, note), path, dpi=110)
