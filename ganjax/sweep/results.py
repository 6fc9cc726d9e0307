"""A sweep's tables: one row per point, and the mean over seeds of every other swept setting.

Written to the sweep folder: `results.csv` and `results.md` (per point: the swept values as
columns, status, final eval metrics), `aggregate.csv` (per setting: n, mean, standard error of
the mean, min and max of every metric over its seeds; diverged points are counted, not
averaged) and `figures/<metric>.png` (the metric against each swept value, every point and the
mean +- standard error). Read from the points' summary.json files alone, so it can run at any
time, even while jobs are still training (`ganjax sweep --collect W`).
"""

from __future__ import annotations

import csv
import json
import math
import os
from typing import Any, Sequence

import numpy as np

from ganjax.outputs import tables
from ganjax.outputs.sweep_figures import plot_metric_against
from ganjax.outputs.tables import mean_sem
from ganjax.outputs.writers import read_json, write_text_atomically
from ganjax.sweep.group import DIVERGED_FILE, point_status
from ganjax.sweep.points import Point, short_key

SEED = "seed"


def point_row(point: Point, sweep_dir: str) -> dict[str, Any]:
    """{name, status, swept values, eval/* numbers, step} of one point."""
    status = point_status(point, sweep_dir)
    row: dict[str, Any] = {"point": point.name, "status": status, **point.overrides}
    workdir = point.workdir(sweep_dir)
    summary = read_json(os.path.join(workdir, "summary.json")) or {}
    if status == "diverged":
        info = read_json(os.path.join(workdir, DIVERGED_FILE)) or {}
        row["step"] = info.get("diverged_at_step")
        return row
    row["step"] = summary.get("step")
    for key, value in summary.items():
        if key.startswith("eval/") and _is_number(value):
            row[key.removeprefix("eval/")] = float(value)
    return row


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def metric_names(rows: Sequence[dict[str, Any]], swept: Sequence[str]) -> list[str]:
    """The numeric result columns of `rows`, in first-seen order."""
    fixed = {"point", "status", "step", *swept}
    names: dict[str, None] = {}
    for row in rows:
        names.update({k: None for k, v in row.items() if k not in fixed and _is_number(v)})
    return list(names)


def aggregate(rows: Sequence[dict[str, Any]], swept: Sequence[str],
              metrics: Sequence[str]) -> list[dict[str, Any]]:
    """One row per setting of the swept keys other than the seed: n finished, n diverged, and
    mean / sem / min / max over the finished seeds of every metric."""
    settings = [k for k in swept if k != SEED]
    groups: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        key = json.dumps([row.get(k) for k in settings], default=list)
        groups.setdefault(key, []).append(row)
    out = []
    for members in groups.values():
        done = [r for r in members if r["status"] == "finished"]
        agg: dict[str, Any] = {k: members[0].get(k) for k in settings}
        agg["n"] = len(done)
        agg["diverged"] = sum(r["status"] == "diverged" for r in members)
        agg["pending"] = sum(r["status"] == "pending" for r in members)
        for m in metrics:
            vals = np.array([r[m] for r in done if _is_number(r.get(m))], float)
            vals = vals[np.isfinite(vals)]
            stats = _stats(vals)
            agg.update({f"{m}_{k}": v for k, v in stats.items()})
        out.append(agg)
    return out


def _stats(vals: np.ndarray) -> dict[str, float]:
    if not len(vals):
        return {"mean": math.nan, "sem": math.nan, "min": math.nan, "max": math.nan}
    mean, sem, _ = mean_sem(vals)
    return {"mean": mean, "sem": sem, "min": float(vals.min()), "max": float(vals.max())}


def _format(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return "" if math.isnan(value) else f"{value:.4g}"
    if isinstance(value, (list, tuple)):
        return "x".join(_format(v) for v in value)
    return str(value)


def markdown_table(rows: Sequence[dict[str, Any]], columns: Sequence[str],
                   titles: Sequence[str] | None = None) -> str:
    """A GitHub markdown table of `rows` restricted to `columns`."""
    return tables.markdown_table(list(titles or columns),
                                 [[_format(r.get(c)) for c in columns] for r in rows])


def _write_csv(path: str, rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> None:
    tmp = path + ".tmp"
    with open(tmp, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(columns)
        for r in rows:
            writer.writerow([_format(r.get(c)) if isinstance(r.get(c), (list, tuple))
                             else ("" if r.get(c) is None else r.get(c)) for c in columns])
    os.replace(tmp, path)


def collect(points: Sequence[Point], sweep_dir: str, swept: Sequence[str],
            title: str = "sweep") -> dict[str, Any]:
    """Writes the tables and figures of a sweep; returns {rows, aggregate, figures, metrics,
    mean_table (the markdown of the mean +- sem table)}."""
    rows = [point_row(p, sweep_dir) for p in points]
    metrics = metric_names(rows, swept)
    columns = ["point", "status", *swept, "step", *metrics]
    _write_csv(os.path.join(sweep_dir, "results.csv"), rows, columns)
    agg = aggregate(rows, swept, metrics)
    settings = [k for k in swept if k != SEED]
    agg_columns = [*settings, "n", "diverged", "pending",
                   *[f"{m}_{s}" for m in metrics for s in ("mean", "sem", "min", "max")]]
    _write_csv(os.path.join(sweep_dir, "aggregate.csv"), agg, agg_columns)
    summary_cols = [*settings, "n", "diverged", *[f"{m}_mean" for m in metrics]]
    mean_sem = [{**a, **{f"{m}_mean": _mean_pm(a, m) for m in metrics}} for a in agg]
    finished = sum(r["status"] == "finished" for r in rows)
    mean_table = markdown_table(mean_sem, summary_cols,
                                [short_key(k) for k in settings] + ["n", "diverged"] + metrics)
    text = [f"# {title}", "",
            f"{len(rows)} points: {finished} finished, "
            f"{sum(r['status'] == 'diverged' for r in rows)} diverged, "
            f"{sum(r['status'] == 'pending' for r in rows)} pending. Written by "
            f"`ganjax sweep --collect` from the points' summary.json files.", "",
            "## Mean +- standard error over seeds", "", mean_table, "", "## Every point", "",
            markdown_table(rows, columns, [short_key(c) for c in columns]), ""]
    figures = []
    if finished:
        for m in metrics[:12]:
            path = os.path.join(sweep_dir, "figures", f"{m.replace('/', '_')}.png")
            figures.append(plot_metric_against(rows, m, swept, path, f"{title}: {m}"))
    text += [f"![{os.path.basename(f)}](figures/{os.path.basename(f)})" for f in figures]
    write_text_atomically(os.path.join(sweep_dir, "results.md"), "\n".join(text) + "\n")
    return {"rows": rows, "aggregate": agg, "figures": figures, "metrics": metrics,
            "mean_table": mean_table}


def _mean_pm(agg: dict[str, Any], metric: str) -> str:
    mean, sem = agg.get(f"{metric}_mean"), agg.get(f"{metric}_sem")
    if mean is None or math.isnan(mean):
        return ""
    return f"{mean:.4g}" if sem is None or math.isnan(sem) else f"{mean:.4g} +- {sem:.2g}"
