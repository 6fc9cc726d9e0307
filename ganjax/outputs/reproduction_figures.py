"""PNG figures of paper reproductions that no single run draws: curves of several runs against
the value a paper says they should reach.

Plotting only (numpy and matplotlib): the recipes of experiments/reproductions read the series
from the runs' metrics.jsonl and pass them in.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np

from ganjax.outputs.figures import _pyplot, _save

Series = tuple[Sequence[float], Sequence[float]]  # (steps, values)


def curves_with_target_figure(series: Mapping[str, Series], target: float, target_label: str,
                              title: str, ylabel: str, xlabel: str = "training step",
                              dashed: Mapping[str, Series] | None = None) -> Any:
    """The Figure of one line per entry of `series` (label -> (steps, values)), the entries of
    `dashed` as dashed lines in the same colours (matched by order), and a horizontal line at
    `target` labelled `target_label`."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.0, 3.8), layout="constrained")
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for i, (label, (steps, values)) in enumerate(series.items()):
        ax.plot(np.asarray(steps), np.asarray(values, np.float64), lw=1.2,
                color=colours[i % len(colours)], label=label,
                marker="o" if len(steps) <= 30 else None, ms=3)
    for i, (label, (steps, values)) in enumerate((dashed or {}).items()):
        ax.plot(np.asarray(steps), np.asarray(values, np.float64), lw=1.0, ls="--",
                color=colours[i % len(colours)], label=label, alpha=0.8)
    ax.axhline(target, color="0.3", ls=":", lw=1.2, label=target_label)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="lower right")
    return fig


def plot_curves_with_target(series: Mapping[str, Series], target: float, target_label: str,
                            title: str, ylabel: str, path: str, xlabel: str = "training step",
                            dashed: Mapping[str, Series] | None = None) -> str:
    """Saves `curves_with_target_figure` as a PNG at `path`; returns `path`."""
    return _save(curves_with_target_figure(series, target, target_label, title, ylabel, xlabel,
                                           dashed), path, dpi=110)
