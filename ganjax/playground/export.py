"""A playground setup as `ganjax train` takes it: a command line and an experiment file.

The command starts from a bundled experiment (the one the setup was imported from, else the
plain GAN of its data: ring8:vanilla, grid25:vanilla, gaussian_1d) and adds `--config.KEY=VALUE` for
every key that differs, each value written as `ganjax config` prints it. The file is an
experiment like those in experiments/: `get_config()` starts from `base_config()` and sets every
key that differs from it, so `ganjax train --config <file>` trains the same config.

Drawn points have no source in ganjax: the file carries them and registers them as the toy
source "drawn" (`ganjax.registry.register`) when it is loaded, so only the file form exists for
them. (`ganjax sample`/`eval` read a run's config.json without the file, so they do not know
"drawn"; train such runs for their metrics and figures.)
"""

from __future__ import annotations

import datetime
import os
from typing import Any

import ml_collections

from ganjax import config as config_lib
from ganjax.cli.show_config import flag_value
from ganjax.playground.session import Setup
from ganjax.playground.settings import DATASET_EXPERIMENT, DRAWN, get


def base_spec(setup: Setup) -> str:
    """The bundled experiment the command starts from: the imported one, else the plain GAN
    of the setup's data (ring8:vanilla, grid25:vanilla, gaussian_1d)."""
    return setup.base or DATASET_EXPERIMENT.get(setup.config.data.source, "ring8:vanilla")


def _spec_text(spec: str, cwd: str) -> str:
    """`experiments/ring8.py[:variant]` where that file is there (a ganjax checkout), else the
    bundled name, which `ganjax train` finds wherever ganjax is installed."""
    name, colon, variant = spec.partition(":")
    path = f"experiments/{name}.py"
    return f"{path}{colon}{variant}" if os.path.exists(os.path.join(cwd, path)) else spec


def _changes(old: ml_collections.ConfigDict,
             new: ml_collections.ConfigDict) -> list[tuple[str, Any]]:
    """(key, value in `new`) of every key whose value differs, tuples kept as tuples."""
    return [(key, get(new, key)) for key, _, _ in
            config_lib.config_diff(old.to_dict(), new.to_dict())]


def file_name(setup: Setup) -> str:
    """`playground_<experiment>.py`, or `playground_drawn.py`."""
    if setup.config.data.source == DRAWN:
        return "playground_drawn.py"
    return f"playground_{base_spec(setup).replace(':', '_')}.py"


def train_command(setup: Setup, cwd: str | None = None) -> str:
    """The `ganjax train` line of the setup (for drawn data: of its exported file)."""
    if setup.config.data.source == DRAWN:
        return f"ganjax train --config {file_name(setup)}"
    spec = base_spec(setup)
    overrides = _changes(config_lib.load_config(spec), setup.config)
    flags = [f"--config.{key}={flag_value(value)}" for key, value in overrides]
    return " ".join(["ganjax train --config", _spec_text(spec, cwd or os.getcwd()), *flags])


def experiment_file(setup: Setup, cwd: str | None = None) -> str:
    """The setup as an experiment file: `get_config()`, and for drawn data its points."""
    config = setup.config
    drawn = config.data.source == DRAWN
    stamp = datetime.datetime.now().strftime("%Y-%m-%d %H:%M")
    what = (f"{len(setup.points or ())} drawn points" if drawn
            else f"from {base_spec(setup)}")
    lines = [f'"""A ganjax playground setup ({what}, exported {stamp}).', "",
             f"  ganjax train --config {file_name(setup)}"]
    if not drawn:
        lines += ["", "is the same run as", "", f"  {train_command(setup, cwd)}"]
    else:
        lines += ["", "The drawn points are the centres of equal-weight Gaussians of std "
                  "data.std; this file", "registers them as the toy source 'drawn' when "
                  "ganjax loads it."]
    lines += ['"""', ""]
    if drawn:
        lines += ["import numpy as np", "", "from ganjax import registry"]
    lines += ["from ganjax.config import base_config"]
    if drawn:
        lines += ["from ganjax.data.toy import GaussianMixture", "",
                  "# The points drawn in the playground, (x, y) each.", "POINTS = ("]
        lines += [f"    ({x!r}, {y!r})," for x, y in
                  ((round(x, 4), round(y, 4)) for x, y in setup.points or ())]
        lines += [")", "", "", "def drawn_points(data):",
                  '    """The drawn points as a toy source: a Gaussian of data.std on each."""',
                  "    return GaussianMixture(np.array(POINTS, np.float64), data.std)", "", "",
                  'registry.register("toy", "drawn", drawn_points)']
    lines += ["", "", "def get_config():", f"    c = base_config({config.model.name!r})"]
    for key, value in _changes(config_lib.base_config(config.model.name), config):
        lines.append(f"    c.{key} = {value!r}")
    lines += ["    return c", ""]
    return "\n".join(lines)


def save(setup: Setup, folder: str) -> str:
    """Writes the experiment file into `folder` (created if needed); returns its path.
    An existing file is never replaced: a number is added to the name."""
    os.makedirs(folder, exist_ok=True)
    stem, ext = os.path.splitext(file_name(setup))
    path, n = os.path.join(folder, stem + ext), 1
    while os.path.exists(path):
        n += 1
        path = os.path.join(folder, f"{stem}_{n}{ext}")
    with open(path, "x", encoding="utf-8") as f:
        f.write(experiment_file(setup))
    return path
