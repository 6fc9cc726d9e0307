"""The PNG bar chart of `ganjax features`: linear-probe test accuracy per feature set and label
count, with the spread over labelled draws as error bars and each mean written on its bar."""

from __future__ import annotations

import os
from typing import Any, Mapping, Sequence

import numpy as np


def _pyplot():
    """matplotlib with the file-only backend, imported when a figure is drawn."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def features_figure(results: Mapping[str, Mapping[str, Any]], labels: Mapping[str, str],
                    label_counts: Sequence[int], title: str) -> Any:
    """Grouped bars: one group per label count, one bar per feature set (`labels`: set -> its
    legend text), height = mean test accuracy, error bar = std over seeds."""
    plt = _pyplot()
    names = [n for n in labels if n in results]
    fig, ax = plt.subplots(figsize=(2.2 + 1.6 * len(label_counts), 4.2))
    width = 0.8 / max(len(names), 1)
    groups = np.arange(len(label_counts))
    for i, name in enumerate(names):
        by = results[name]["by_labels"]
        means = [by[str(n)]["mean"] for n in label_counts]
        stds = [by[str(n)]["std"] for n in label_counts]
        bars = ax.bar(groups + (i - (len(names) - 1) / 2) * width, means, width, yerr=stds,
                      capsize=3, label=f"{labels[name]} ({results[name]['dims']} dims)")
        for bar, mean in zip(bars, means):
            ax.text(bar.get_x() + bar.get_width() / 2, mean / 2, f"{mean:.3f}", rotation=90,
                    ha="center", va="center", fontsize=8, color="white")
    ax.set_xticks(groups, [f"{n:,} labels" for n in label_counts])
    ax.set_ylabel("test accuracy (linear probe)")
    ax.set_ylim(0, 1)
    ax.set_title(title, fontsize=10)
    ax.grid(axis="y", alpha=0.3)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.12), fontsize=8, frameon=False)
    return fig


def plot_features(results: Mapping[str, Mapping[str, Any]], labels: Mapping[str, str],
                  label_counts: Sequence[int], title: str, path: str) -> str:
    """Saves `features_figure` as a PNG at `path` (creating its folder); returns `path`."""
    plt = _pyplot()
    fig = features_figure(results, labels, label_counts, title)
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)
    return path
