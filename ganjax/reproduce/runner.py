"""Running one reproduction: load its recipe, run it in a Context, write its report."""

from __future__ import annotations

import os
import time
from typing import Callable

from ganjax.errors import ConfigError
from ganjax.reproduce.context import DEFAULT_MNIST, Context
from ganjax.reproduce.recipe import load_run, read_recipe
from ganjax.reproduce.report import write_report


def default_workdir(name: str, quick: bool) -> str:
    """runs/reproductions/<name>[_quick]: the folder a reproduction resumes in by default."""
    return os.path.join("runs", "reproductions", f"{name}{'_quick' if quick else ''}")


def check_seeds(seeds: int | None) -> None:
    """ConfigError for a seed count below 1 (None: the recipe's own)."""
    if seeds is not None and seeds < 1:
        raise ConfigError(f"--seeds {seeds}: must be >= 1")


def reproduce(name: str, workdir: str | None = None, quick: bool = False,
              seeds: int | None = None, log: Callable[[str], None] = print,
              mnist: str = DEFAULT_MNIST) -> Context:
    """Runs reproduction `name` (resuming what its folder holds) and writes report.md and
    results.json there; returns the finished Context. `mnist`: the data.source of the MNIST
    runs (e.g. npz:FILE or mnist_idx:DIR offline)."""
    recipe = read_recipe(name)
    check_seeds(seeds)
    n_seeds = seeds if seeds is not None else (1 if quick else recipe.seeds)
    run = load_run(recipe)
    ctx = Context(recipe, workdir or default_workdir(name, quick), quick, n_seeds, log, mnist)
    log(f"ganjax: reproduce {name} ({'quick' if quick else 'full'}, {n_seeds} seed"
        f"{'s' if n_seeds > 1 else ''}; expected {recipe.quick_time if quick else recipe.full_time}"
        f"); results in {ctx.workdir}")
    start = time.perf_counter()
    run(ctx)
    path = write_report(ctx, time.perf_counter() - start)
    log(f"ganjax: reproduce {name}: report in {path}")
    return ctx
