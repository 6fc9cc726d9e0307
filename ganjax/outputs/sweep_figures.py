"""A sweep's figure of one metric: a panel per swept key, every point and the mean +- sem."""

from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np

from ganjax.outputs.figures import _pyplot, _save


def _axis_keys(swept: Sequence[str]) -> list[str]:
    """The keys to plot against: every swept key but the seed, or the seed alone."""
    keys = [k for k in swept if k != "seed"]
    return keys or list(swept)


def _positions(values: Sequence[Any]) -> tuple[np.ndarray, list[str] | None, bool]:
    """(x positions, tick labels for categorical values or None, log scale?)."""
    if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
        x = np.asarray(values, float)
        log = bool(np.all(x > 0) and x.max() / x.min() >= 10)
        return x, None, log
    labels = sorted({str(v) for v in values})
    return np.array([labels.index(str(v)) for v in values], float), labels, False


def metric_against_figure(rows: Sequence[dict[str, Any]], metric: str, swept: Sequence[str],
                          title: str) -> Any:
    """The Figure: x = a swept value, y = `metric` of each finished point (dots) and the mean
    +- standard error over the points sharing that value (line with error bars)."""
    plt = _pyplot()
    keys = _axis_keys(swept)
    done = [r for r in rows if r.get("status") == "finished" and
            isinstance(r.get(metric), (int, float)) and math.isfinite(r[metric])]
    fig, axes = plt.subplots(1, len(keys), figsize=(4.2 * len(keys), 3.4), squeeze=False)
    for ax, key in zip(axes[0], keys):
        values = [r.get(key) for r in done]
        y = np.array([r[metric] for r in done], float)
        if not done:
            ax.text(0.5, 0.5, "no finished points", ha="center", transform=ax.transAxes)
            continue
        if key == "seed":  # seeds are replicas, not a setting: their spread at one position
            _draw_seed_spread(ax, values, y, metric)
            continue
        x, labels, log = _positions(values)
        ax.scatter(x, y, s=14, color="tab:blue", alpha=0.55, label="points", zorder=3)
        xs = np.unique(x)
        means = np.array([y[x == v].mean() for v in xs])
        sems = np.array([y[x == v].std(ddof=1) / math.sqrt((x == v).sum())
                         if (x == v).sum() > 1 else 0.0 for v in xs])
        ax.errorbar(xs, means, yerr=sems, color="tab:red", marker="o", ms=4, capsize=3,
                    label="mean +- sem", zorder=4)
        if log:
            ax.set_xscale("log")
            ax.minorticks_off()
        if labels is None and len(xs) <= 8:  # tick exactly the swept values
            ax.set_xticks(xs, [f"{v:.3g}" for v in xs])
        if labels is not None:
            ax.set_xticks(range(len(labels)), labels, rotation=20)
        ax.set_xlabel(key)
        ax.set_ylabel(metric)
        ax.grid(alpha=0.3)
    axes[0][0].legend(fontsize=8, loc="best")
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def _draw_seed_spread(ax, seeds: Sequence[Any], y: np.ndarray, metric: str) -> None:
    """Every seed's value (labelled) and the mean +- sem over them."""
    jitter = np.linspace(-0.15, 0.15, len(y)) if len(y) > 1 else np.zeros(1)
    ax.scatter(jitter, y, s=16, color="tab:blue", alpha=0.7, label="seeds", zorder=3)
    for x, v, seed in zip(jitter, y, seeds):
        ax.annotate(str(seed), (x, v), textcoords="offset points", xytext=(4, 2), fontsize=7)
    sem = y.std(ddof=1) / math.sqrt(len(y)) if len(y) > 1 else 0.0
    ax.errorbar([0.35], [y.mean()], yerr=[sem], color="tab:red", marker="o", ms=5, capsize=4,
                label=f"mean +- sem ({len(y)} seeds)", zorder=4)
    ax.set_xlim(-0.5, 0.8)
    ax.set_xticks([])
    ax.set_xlabel(f"{len(y)} seeds")
    ax.set_ylabel(metric)
    ax.grid(alpha=0.3)


def plot_metric_against(rows: Sequence[dict[str, Any]], metric: str, swept: Sequence[str],
                        path: str, title: str) -> str:
    """Writes `metric_against_figure` as a PNG; returns its path."""
    return _save(metric_against_figure(rows, metric, swept, title), path, dpi=110)
