"""The Dirac-GAN figure (Mescheder et al. 2018, Fig. 1-3): one panel per training method, its
vector field over (theta, psi) with the simultaneous and alternating gradient-descent paths.

It draws what `ganjax.reproduce.dirac.run_all` returns (plain lists and floats), so that this
layer computes nothing about GANs itself.
"""

from __future__ import annotations

import math
from typing import Any, Mapping

import numpy as np

from ganjax.outputs.figures import _pyplot, _save

_RULE_STYLES = {
    "simultaneous": {"color": "tab:blue", "label": "simultaneous GD"},
    "alternating": {"color": "tab:orange", "label": "alternating GD (G first)"},
}
_COLUMNS = 4


def plot_dirac(results: Mapping[str, Any], path: str, title: str) -> str:
    """Saves `dirac_figure(results, title)` as a PNG at `path`; returns `path`."""
    return _save(dirac_figure(results, title), path, dpi=110)


def dirac_figure(results: Mapping[str, Any], title: str) -> Any:
    """The Figure behind `plot_dirac`: a grid of panels, one per method of `results`, and a
    last cell with the legend."""
    plt = _pyplot()
    methods = results["methods"]
    cells = len(methods) + 1
    rows = math.ceil(cells / _COLUMNS)
    columns = min(_COLUMNS, cells)
    fig, axes = plt.subplots(rows, columns, figsize=(3.6 * columns, 3.7 * rows),
                             layout="constrained", squeeze=False)
    flat = list(axes.ravel())
    for ax, entry in zip(flat, methods.values()):
        _method_panel(ax, entry)
    handles, labels = flat[0].get_legend_handles_labels()
    for ax in flat[len(methods):]:
        ax.axis("off")
    flat[len(methods)].legend(handles, labels, loc="center", frameon=False, fontsize=9,
                              title=_setup_note(results.get("setup", {})), title_fontsize=8)
    fig.suptitle(title, fontsize=11)
    return fig


def _setup_note(setup: Mapping[str, Any]) -> str:
    """One line per setting of the run (start, step size, steps), for the legend's title."""
    parts = []
    if "start" in setup:
        parts.append("start (θ, ψ) = ({:g}, {:g})".format(*setup["start"]))
    if "step" in setup and "steps" in setup:
        parts.append(f"{setup['steps']} steps of h = {setup['step']:g}")
    return "\n".join(parts)


def _method_panel(ax: Any, entry: Mapping[str, Any]) -> None:
    """One method: its field, the clipping band if any, both paths, start and equilibrium."""
    field = entry["field"]
    theta, psi = np.meshgrid(np.asarray(field["theta"]), np.asarray(field["psi"]))
    ax.quiver(theta, psi, np.asarray(field["dtheta"]), np.asarray(field["dpsi"]),
              color="0.55", angles="xy", width=0.004)
    lo, hi = float(np.min(field["theta"])), float(np.max(field["theta"]))
    clip = float(entry.get("clip", 0.0))
    if clip > 0:
        for band in ((clip, hi), (lo, -clip)):
            ax.axhspan(*band, color="0.2", alpha=0.12, lw=0)
    start = None
    distances = []
    for rule, style in _RULE_STYLES.items():
        if rule not in entry:
            continue
        points = np.asarray(entry[rule]["trajectory"])
        start = points[0]
        ax.plot(points[:, 0], points[:, 1], "-", lw=1.1, **style)
        distances.append(f"{rule[:3]} {entry[rule]['final_distance']:.3g}")
    if start is not None:
        ax.plot(*start, "o", color="tab:red", ms=6, label="start", zorder=5)
    ax.plot(0.0, 0.0, "*", color="black", ms=10, label="equilibrium (0, 0)", zorder=5)
    ax.set_xlim(lo, hi)
    ax.set_ylim(float(np.min(field["psi"])), float(np.max(field["psi"])))
    ax.set_aspect("equal")
    ax.set_xlabel("θ (generator)")
    ax.set_ylabel("ψ (discriminator)")
    ax.set_title(f"{entry['label']}\nfinal distance: " + ", ".join(distances), fontsize=9)
