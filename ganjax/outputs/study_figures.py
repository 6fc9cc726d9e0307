"""Figures of comparative studies (the image reproductions): distributions per setup, mode
histograms, and per-seed values paired across setups.

* `plot_boxes`: one box per setup of a metric's values (every sweep point, or one per seed), a
  panel per way of picking the values, every value drawn over its box; the "who wins?" figure of
  a study of many settings per setup (Lucic et al. 2018, Fig. 4).
* `plot_mode_histogram`: how often each of K modes is hit, modes sorted by count, one line per
  setup and the count a uniform sampler expects (Stacked MNIST's 1,000 modes).
* `plot_paired`: each seed's value under every setup, joined by a line, so that a difference
  smaller than the spread between seeds can still be seen to be consistent (or not).
"""

from __future__ import annotations

import math
from typing import Mapping, Sequence

import numpy as np

from ganjax.outputs.figures import _pyplot, _save

DPI = 110


def _finite(values: Sequence[float]) -> np.ndarray:
    vals = np.asarray([v for v in values if v is not None], float)
    return vals[np.isfinite(vals)]


def plot_boxes(panels: Sequence[tuple[str, Mapping[str, Sequence[float]]]], path: str,
               ylabel: str, title: str) -> str:
    """Writes a PNG of one panel per (panel title, {setup: values}): a box per setup (median,
    quartiles, whiskers at 1.5 IQR) with every finite value jittered over it and the count
    below; returns `path`. Setups with no finite value get an empty slot marked "none"."""
    plt = _pyplot()
    fig, axes = plt.subplots(1, len(panels), figsize=(5.2 * len(panels), 3.8), squeeze=False)
    for ax, (panel_title, groups) in zip(axes[0], panels):
        names = list(groups)
        data = [_finite(groups[name]) for name in names]
        positions = np.arange(1, len(names) + 1)
        filled = [i for i, d in enumerate(data) if len(d)]
        if filled:
            ax.boxplot([data[i] for i in filled], positions=positions[filled], widths=0.55,
                       showfliers=False, medianprops={"color": "tab:red"})
        for i, values in enumerate(data):
            if not len(values):
                ax.text(positions[i], 0.5, "none", ha="center", fontsize=8,
                        transform=ax.get_xaxis_transform())
                continue
            jitter = np.linspace(-0.12, 0.12, len(values)) if len(values) > 1 else np.zeros(1)
            ax.scatter(positions[i] + jitter, values, s=12, color="tab:blue", alpha=0.6,
                       zorder=3)
        ax.set_xticks(positions, [f"{n}\n(n={len(d)})" for n, d in zip(names, data)],
                      fontsize=8)
        ax.set_xlim(0.4, len(names) + 0.6)
        ax.set_title(panel_title, fontsize=9)
        ax.set_ylabel(ylabel)
        ax.grid(alpha=0.3, axis="y")
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return _save(fig, path, DPI)


def plot_mode_histogram(counts: Mapping[str, Sequence[int]], path: str, title: str) -> str:
    """Writes a PNG of each setup's per-mode counts sorted in decreasing order (x: mode rank,
    y: samples, log scale) with the uniform expectation (total / K) as a dashed line; returns
    `path`. All setups must have the same number of modes K."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 3.6))
    num_modes = {len(c) for c in counts.values()}
    if len(num_modes) != 1:
        raise ValueError(f"every setup needs the same number of modes; got {sorted(num_modes)}")
    k = num_modes.pop()
    for name, c in counts.items():
        c = np.sort(np.asarray(c, float))[::-1]
        covered = int(np.count_nonzero(c))
        ax.plot(np.arange(1, k + 1), np.where(c > 0, c, np.nan), lw=1.4,
                drawstyle="steps-post", marker="o" if covered <= 20 else None, ms=3,
                label=f"{name}: {covered} of {k} modes, {int(c.sum())} samples")
        ax.axhline(c.sum() / k, color=ax.lines[-1].get_color(), ls="--", lw=0.8)
    ax.set_yscale("log")
    ax.set_xlabel("mode, sorted by count (unhit modes are not drawn)")
    ax.set_ylabel("samples in the mode")
    ax.set_xlim(1, k)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="lower left")
    ax.set_title(title + "\n(dashed: the count of a uniform sampler)", fontsize=9)
    fig.tight_layout()
    return _save(fig, path, DPI)


def plot_paired(values: Mapping[str, Sequence[float]], seeds: Sequence[int], path: str,
                ylabel: str, title: str) -> str:
    """Writes a PNG with the setups on the x axis and each seed's values across them joined by
    a grey line (labelled by seed), the mean +- standard error per setup in red; returns
    `path`. `values[setup][i]` is seed `seeds[i]`'s value (NaN: missing)."""
    plt = _pyplot()
    names = list(values)
    table = np.asarray([[float(v) for v in values[n]] for n in names], float)  # [setup, seed]
    fig, ax = plt.subplots(figsize=(1.6 + 1.7 * len(names), 3.8))
    x = np.arange(len(names))
    for j, seed in enumerate(seeds):
        ax.plot(x, table[:, j], color="0.6", lw=0.9, marker="o", ms=3.5, zorder=2)
        last = np.flatnonzero(np.isfinite(table[:, j]))
        if len(last):
            ax.annotate(str(seed), (x[last[-1]], table[last[-1], j]), textcoords="offset points",
                        xytext=(5, 0), fontsize=7, color="0.4")
    for i in range(len(names)):
        row = _finite(table[i])
        if len(row):
            sem = row.std(ddof=1) / math.sqrt(len(row)) if len(row) > 1 else 0.0
            ax.errorbar([x[i] + 0.08], [row.mean()], yerr=[sem], color="tab:red", marker="s",
                        ms=5, capsize=4, zorder=3)
    ax.set_xticks(x, names, fontsize=8)
    ax.set_xlim(-0.4, len(names) - 0.4)
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3, axis="y")
    ax.set_title(title + "\n(grey: one seed; red: mean +- sem)", fontsize=9)
    fig.tight_layout()
    return _save(fig, path, DPI)
