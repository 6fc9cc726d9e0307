"""What a reproduction recipe runs in: its folder, its seeds, and the pieces of its report.

`run(ctx)` of a recipe trains with `ctx.train` (one `ganjax train` run) and `ctx.sweep` (one
`ganjax sweep`), computes anything else with `ctx.cached`, and states its results with
`ctx.compare` (ours against the paper, mean +- standard error over seeds), `ctx.table`,
`ctx.figure`, `ctx.protocol`, `ctx.text` and `ctx.number`. Every training run and sweep lives in
the reproduction's folder and resumes there, and every cached computation is stored as JSON, so
running the same reproduction again picks up where it stopped and a finished one only rewrites
its report. Each step records the exact command that reproduces it alone, for the report.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import shutil
import time
from typing import Any, Callable, Sequence

import numpy as np

from ganjax.errors import ConfigError
from ganjax.outputs.tables import mean_sem
from ganjax.outputs.writers import jsonable, read_json, write_text_atomically
from ganjax.reproduce.recipe import Recipe


def _finished_run(workdir: str, config: Any) -> dict[str, Any] | None:
    """The summary of a run in `workdir` that trained to the end with `config`, else None."""
    summary = read_json(os.path.join(workdir, "summary.json"))
    if summary is None or summary.get("step") != config.train.steps:
        return None
    return summary if _same_config(read_json(os.path.join(workdir, "config.json")),
                                   config) else None


def _same_config(saved: Any, config: Any) -> bool:
    """Whether a run's saved config.json is `config`: fields ganjax added since the run was made
    take their defaults (which leave behaviour unchanged), as when a run resumes."""
    from ganjax import config as config_lib

    if not isinstance(saved, dict):
        return False
    try:
        return not config_lib.config_diff(config_lib.from_dict(saved).to_dict(),
                                          config.to_dict())
    except ConfigError:  # a key this version does not know: not the same config
        return False


def format_override(value: Any) -> str:
    """A config value as `--config.KEY=VALUE` takes it (true/false for booleans)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (tuple, list)):
        return ",".join(format_override(v) for v in value)
    return str(value)


def format_mean_sem(mean: float, sem: float, n: int, digits: int = 4) -> str:
    """"0.961 +- 0.004 (n=10)", "0.961" for one value, "n/a" for none."""
    if n == 0 or math.isnan(mean):
        return "n/a"
    if n == 1 or math.isnan(sem):
        return f"{mean:.{digits}g}"
    return f"{mean:.{digits}g} +- {sem:.2g} (n={n})"


def difference_sign(differences: Sequence[float], within: float = 2.0) -> tuple[str, str]:
    """(sign, "mean +- sem (n=...)") of per-seed differences: "+" or "-" when their mean is more
    than `within` standard errors from zero, "0" when it is not (no difference beyond the seed
    spread), "?" below two seeds (no spread to judge by)."""
    mean, sem, n = mean_sem(differences)
    said = format_mean_sem(mean, sem, n, digits=3)
    if n < 2:
        return "?", said
    if abs(mean) <= within * sem:
        return "0", said
    return ("+" if mean > 0 else "-"), said


@dataclasses.dataclass
class Comparison:
    """One row of an ours-against-the-paper table."""

    table: str
    row: str
    metric: str
    values: list[float]
    paper: str
    note: str = ""

    def ours(self) -> str:
        return format_mean_sem(*mean_sem(self.values))


DEFAULT_MNIST = "tfds:mnist"


class Context:
    """The reproduction `recipe` running in `workdir` (see the module docstring)."""

    def __init__(self, recipe: Recipe, workdir: str, quick: bool, seeds: int,
                 log: Callable[[str], None] = print, mnist: str = DEFAULT_MNIST):
        self.recipe, self.workdir, self.quick = recipe, workdir, quick
        self.mnist = mnist
        self.seeds = list(range(seeds))
        self.log = log
        self.commands: list[str] = []
        self.comparisons: list[Comparison] = []
        self.tables: list[tuple[str, list[str], list[list[Any]]]] = []
        self.figures: list[tuple[str, str]] = []
        self.protocols: dict[str, str] = {}
        self.texts: list[str] = []
        self.numbers: dict[str, Any] = {}
        self.step_times: dict[str, float] = read_json(self._timings_path()) or {}
        os.makedirs(workdir, exist_ok=True)

    # -- where things go ------------------------------------------------------------------------

    def path(self, *parts: str) -> str:
        """A path inside the reproduction's folder; its parent folder is created."""
        path = os.path.join(self.workdir, *parts)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        return path

    def _timings_path(self) -> str:
        return os.path.join(self.workdir, "cache", "step_times.json")

    def _timed(self, label: str, work: Callable[[], Any]) -> Any:
        """work(), its seconds added to `label`'s time even when it is interrupted (Ctrl-C, an
        error): the work it did is resumed from, so its time belongs to the results too."""
        start = time.perf_counter()
        try:
            return work()
        finally:
            self._add_time(label, time.perf_counter() - start)

    def _add_time(self, label: str, seconds: float) -> None:
        self.step_times[label] = self.step_times.get(label, 0.0) + seconds
        self._save_times()

    def _forget_time(self, label: str) -> None:
        """Drops `label`'s time, on disk too: a sweep trained afresh that is then interrupted
        must not resume on top of the time of the results it replaced."""
        if self.step_times.pop(label, None) is not None:
            self._save_times()

    def _save_times(self) -> None:
        write_text_atomically(self.path("cache", "step_times.json"),
                              json.dumps(self.step_times, indent=1) + "\n")

    def _time_of_finished_sweep(self, workdir: str, points: Sequence[Any]) -> float:
        """The seconds a sweep that ran outside this reproduction took (`ganjax sweep` into its
        folder, which a reproduction then reads back as done), from its points' summaries: a
        vectorized group's time is shared by its replicas, so each point adds its share."""
        total = 0.0
        for point in points:
            summary = read_json(os.path.join(point.workdir(workdir), "summary.json"))
            if summary and "wall_time_s" in summary:
                share = summary.get("sweep", {}).get("replicas_in_group", 1)
                total += float(summary["wall_time_s"]) / max(int(share), 1)
        return total

    # -- running --------------------------------------------------------------------------------

    def mnist_overrides(self) -> dict[str, str]:
        """{"data.source": the MNIST this reproduction uses} (`--mnist`; TFDS's full MNIST by
        default), noted once in the report."""
        note = (f"MNIST used: `{self.mnist}`" + (" (the full TFDS MNIST)" if self.mnist ==
                                                 DEFAULT_MNIST else
                                                 " (not the full TFDS MNIST: numbers are not "
                                                 "the paper's protocol on all 60,000 digits)"))
        self.text(note)
        return {"data.source": self.mnist}

    def train(self, label: str, spec: str, overrides: dict[str, Any] | None = None,
              share: Sequence[str] = ()) -> dict[str, Any]:
        """`ganjax train --config spec --config.K=V ...` in W/runs/<label>; its summary.json.
        A run finished with the same config is read back; an unfinished one resumes from its
        checkpoints, and one made with another config is refused by `train` (it names the
        keys that differ). `share`: reproductions that train this very run too; a finished one
        in a sibling folder (same parent, same --quick) is copied instead of trained again,
        and its training time counts here as well."""
        from ganjax import config as config_lib
        from ganjax.run.loop import train

        texts = {k: format_override(v) for k, v in (overrides or {}).items()}
        workdir = os.path.join(self.workdir, "runs", label)
        self.commands.append(" ".join(["ganjax train --config", spec, *[
            f"--config.{k}={v}" for k, v in texts.items()], "--workdir", workdir]))
        config = config_lib.validate(config_lib.apply_overrides(config_lib.load_config(spec),
                                                                texts))
        summary = _finished_run(workdir, config)
        if summary is not None:  # finished with this very config; anything else goes to train()
            if summary.get("copied_from"):
                self._note_copy(summary["copied_from"])
            return summary
        if not os.path.exists(workdir):
            for name in share:
                copied = self._copy_finished_run(name, label, config)
                if copied is not None:
                    return copied
        self.log(f"ganjax: reproduce {self.recipe.name}: training {label} ({spec})")
        os.makedirs(os.path.dirname(workdir), exist_ok=True)
        return self._timed(label, lambda: train(config, workdir, name=label))

    def _copy_finished_run(self, name: str, label: str, config: Any) -> dict[str, Any] | None:
        """Reproduction `name`'s finished run `label` with this config, copied into W/runs (its
        summary, now pointing at the copy's figure), or None when it has none."""
        mine = os.path.basename(os.path.normpath(self.workdir))
        if not mine.startswith(self.recipe.name):
            return None  # a --workdir of another name: no siblings to look for
        sibling = os.path.join(os.path.dirname(os.path.normpath(self.workdir)),
                               name + mine[len(self.recipe.name):])
        source = os.path.join(sibling, "runs", label)
        summary = _finished_run(source, config)
        if summary is None:
            return None
        workdir = os.path.join(self.workdir, "runs", label)
        partial = workdir + ".copying"
        shutil.rmtree(partial, ignore_errors=True)  # a copy cut off earlier
        shutil.copytree(source, partial)
        if summary.get("figure"):
            summary["figure"] = os.path.abspath(os.path.join(
                workdir, "figures", os.path.basename(summary["figure"])))
        summary["copied_from"] = os.path.abspath(source)
        write_text_atomically(os.path.join(partial, "summary.json"),
                              json.dumps(jsonable(summary), indent=2))
        os.replace(partial, workdir)
        self._add_time(label, float(summary.get("wall_time_s") or 0.0))
        self._note_copy(summary["copied_from"])
        self.log(f"ganjax: reproduce {self.recipe.name}: {label} copied from {source}")
        return summary

    def _note_copy(self, source: str) -> None:
        """The report's paragraph on runs copied from another reproduction's folder."""
        parent = os.path.dirname(os.path.dirname(source))
        self.text(f"Runs that `{os.path.basename(parent)}` trained with the same config were "
                  f"copied from {os.path.relpath(parent)} instead of trained again; their "
                  f"training time counts here too.")

    def sweep(self, label: str, spec: str, axes: Sequence[str],
              overrides: dict[str, Any] | None = None, max_replicas: int = 0
              ) -> dict[str, Any]:
        """`ganjax sweep --config spec --sweep AXIS ... --config.K=V` in W/sweeps/<label>
        (vectorized where points share a program, in groups of at most `max_replicas` if > 0);
        what `ganjax.sweep.results.collect` returns (rows of every point, the aggregate over
        seeds, figures)."""
        from ganjax.sweep import driver
        from ganjax.sweep.results import collect

        texts = {k: format_override(v) for k, v in (overrides or {}).items()}
        workdir = os.path.join(self.workdir, "sweeps", label)
        self.commands.append(" ".join(["ganjax sweep --config", spec,
                                       *[f"--sweep '{a}'" for a in axes],
                                       *[f"--config.{k}={v}" for k, v in texts.items()],
                                       *([f"--max_replicas {max_replicas}"] if max_replicas
                                         else []),
                                       "--workdir", workdir]))
        plan = driver.plan(spec, texts, list(axes), workdir, max_replicas=max_replicas)
        statuses = [driver.point_status(p, workdir) for p in plan.points]
        if "pending" in statuses:
            self.log(f"ganjax: reproduce {self.recipe.name}: sweep {label} "
                     f"({len(plan.points)} points)")
            if not any(os.path.exists(p.workdir(workdir)) for p in plan.points):
                # A new sweep (or one whose folder was cleared for a changed recipe): the time
                # of the runs it replaces no longer belongs to the report's results. A sweep
                # with any point's folder resumes, and so does its time.
                self._forget_time(label)
            self._timed(label, lambda: driver.run_groups(plan, log=self.log))
        elif label not in self.step_times:  # run before, by `ganjax sweep`: count its own time
            self._add_time(label, self._time_of_finished_sweep(workdir, plan.points))
        return collect(plan.points, workdir, plan.record["swept_keys"], title=label)

    def cached(self, label: str, compute: Callable[[], Any]) -> Any:
        """compute(), stored as W/cache/<label>.json: computed once, read back on re-runs."""
        path = self.path("cache", f"{label}.json")
        stored = read_json(path)
        if stored is not None:
            return stored
        value = jsonable(self._timed(label, compute))
        write_text_atomically(path, json.dumps(value) + "\n")
        return value

    # -- reporting ------------------------------------------------------------------------------

    def compare(self, table: str, row: str, metric: str, ours: float | Sequence[float],
                paper: str = "", note: str = "") -> None:
        """A row of table `table`: our `metric` for `row` (one value or one per seed: mean +-
        sem) beside the paper's (as the paper prints it; "" when it has none)."""
        values = [float(ours)] if np.isscalar(ours) else [float(v) for v in ours]
        self.comparisons.append(Comparison(table, row, metric, values, paper, note))

    def table(self, title: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        """Any other table of the report."""
        self.tables.append((title, list(columns), [list(r) for r in rows]))

    def figure(self, path: str, caption: str) -> None:
        """A figure (a PNG inside the folder) and what it shows."""
        self.figures.append((os.path.relpath(path, self.workdir), caption))

    def protocol(self, metric: str, text: str) -> None:
        """How `metric` is measured (samples, splits, thresholds), for the report."""
        self.protocols[metric] = text

    def text(self, markdown: str) -> None:
        """A paragraph of the report (findings, caveats: which data was used); a paragraph
        already there is not repeated."""
        if markdown not in self.texts:
            self.texts.append(markdown)

    def number(self, key: str, value: Any) -> None:
        """A number for results.json (what tests and the gallery read)."""
        self.numbers[key] = jsonable(value)
