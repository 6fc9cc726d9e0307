"""Finding and reading reproduction recipes (the files of experiments/reproductions/).

A recipe file states what it reproduces in module-level constants, read here from its source
with `ast` (listing imports nothing and runs nothing):

  PAPER       the paper and the figure or table, e.g. "Goodfellow et al. 2014, Fig. 1"
  COMPARES    what is compared, in a few words
  FULL_TIME   expected time of the full version on a 2-core CPU, e.g. "~12 min"
  QUICK_TIME  the same for --quick
  SEEDS       the number of seeds of the full version (--seeds overrides it)

and `run(ctx)`, which trains and evaluates through the `ganjax.reproduce.context.Context` it is
given. The docstring's first line is the reproduction's title.
"""

from __future__ import annotations

import ast
import dataclasses
import importlib.util
import os
from typing import Any, Callable

from ganjax.errors import ConfigError

PACKAGE = "ganjax.experiments.reproductions"
REQUIRED = ("PAPER", "COMPARES", "FULL_TIME", "QUICK_TIME")


@dataclasses.dataclass(frozen=True)
class Recipe:
    """What a recipe file states about itself, and its path."""

    name: str
    title: str
    paper: str
    compares: str
    full_time: str
    quick_time: str
    seeds: int
    path: str


def recipes_dir() -> str:
    """The folder of the bundled recipes, found without importing them."""
    return list(importlib.util.find_spec(PACKAGE).submodule_search_locations)[0]


def recipe_names() -> list[str]:
    """Every bundled recipe: the files of the folder not starting with `_`."""
    return sorted(f[:-3] for f in os.listdir(recipes_dir())
                  if f.endswith(".py") and not f.startswith("_"))


def read_recipe(name: str) -> Recipe:
    """The recipe `name` as its file states it; ConfigError for an unknown name or a file that
    lacks a constant."""
    path = os.path.join(recipes_dir(), f"{name}.py")
    if not os.path.exists(path):
        raise ConfigError(f"no reproduction named {name!r}; known: {', '.join(recipe_names())} "
                          f"(`ganjax reproduce --list` describes them)")
    with open(path, encoding="utf-8") as f:
        tree = ast.parse(f.read(), path)
    constants: dict[str, Any] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and \
                isinstance(node.targets[0], ast.Name):
            try:
                constants[node.targets[0].id] = ast.literal_eval(node.value)
            except ValueError:
                continue
    missing = [key for key in REQUIRED if key not in constants]
    if missing:
        raise ConfigError(f"{path}: a reproduction states {', '.join(REQUIRED)}; missing: "
                          f"{', '.join(missing)}")
    doc = ast.get_docstring(tree) or name
    return Recipe(name, doc.strip().splitlines()[0].rstrip("."), constants["PAPER"],
                  constants["COMPARES"], constants["FULL_TIME"], constants["QUICK_TIME"],
                  int(constants.get("SEEDS", 1)), path)


def load_run(recipe: Recipe) -> Callable[[Any], None]:
    """The recipe module's `run(ctx)`."""
    spec = importlib.util.spec_from_file_location(f"{PACKAGE}.{recipe.name}", recipe.path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    run = getattr(module, "run", None)
    if not callable(run):
        raise ConfigError(f"{recipe.path}: a reproduction defines run(ctx)")
    return run
