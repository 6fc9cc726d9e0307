"""The points of a sweep: their overrides, names, folders and validated configs.

A sweep is defined once, from an experiment file's `get_sweep()` or from `--sweep` flags, then
written to `<workdir>/sweep.json`, so that every later command on the same workdir (a re-run, a
launcher's job, `--collect`) sees exactly the same points in the same order. Each point trains
in `<workdir>/points/<name>/`, a normal run folder: `ganjax sample/eval --workdir` work on it.
"""

from __future__ import annotations

import dataclasses
import inspect
import json
import os
import re
from typing import Any, Sequence

import ml_collections

from ganjax import config as config_lib
from ganjax.config.loading import load_experiment_module
from ganjax.errors import ConfigError, WorkdirError
from ganjax.outputs.writers import write_text_atomically
from ganjax.config.sweep_space import from_flags

SWEEP_FILE = "sweep.json"
POINTS_DIR = "points"


@dataclasses.dataclass(frozen=True)
class Point:
    """One configuration of a sweep."""

    index: int
    name: str  # folder name: "003_d_lr=0.001_seed=2"
    overrides: dict[str, Any]  # the swept values of this point
    config: ml_collections.ConfigDict  # base config + base overrides + these, validated

    def workdir(self, sweep_dir: str) -> str:
        return os.path.join(sweep_dir, POINTS_DIR, self.name)


def as_text(value: Any) -> str:
    """A swept value as a `--config.KEY=` text (the config layer types and checks it)."""
    if isinstance(value, str):
        return value
    if isinstance(value, (tuple, list)):
        return repr(tuple(value))
    return repr(value)


def short_key(key: str) -> str:
    """`optim.d_lr` -> `d_lr`: the last part, for folder names and column titles."""
    return key.rsplit(".", 1)[-1]


def point_name(index: int, overrides: dict[str, Any]) -> str:
    """`003_d_lr=0.001_seed=2`: the index first (unique, sortable), then the swept values."""
    parts = [f"{short_key(k)}={_compact(v)}" for k, v in sorted(overrides.items())]
    name = "_".join([f"{index:03d}", *parts])
    name = re.sub(r"[^A-Za-z0-9_.=+\-]", "", name)
    return name[:120]


def _compact(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, (tuple, list)):
        return "x".join(_compact(v) for v in value)
    return str(value)


def load_sweep_function(spec: str) -> list[dict[str, Any]] | None:
    """The points of the experiment file's `get_sweep([arg])`, or None when it has none."""
    arg = spec.partition(":")[2]
    get_sweep = getattr(load_experiment_module(spec), "get_sweep", None)
    if get_sweep is None:
        return None
    takes_arg = bool(inspect.signature(get_sweep).parameters)
    points = get_sweep(arg) if arg and takes_arg else get_sweep()
    return [dict(p) for p in points]


def define_points(spec: str, base_overrides: dict[str, str],
                  flags: Sequence[str]) -> list[dict[str, Any]]:
    """The override dicts of a sweep: from `--sweep` flags when there are any, else from the
    experiment file's `get_sweep()`; ConfigError when neither gives points."""
    if flags:
        points = from_flags(flags)
    else:
        points = load_sweep_function(spec)
        if points is None:
            raise ConfigError(f"--config {spec} defines no get_sweep(); give the points with "
                              f"--sweep KEY=VALUES (e.g. --sweep 'seed=0:8')")
    if not points:
        raise ConfigError(f"the sweep of --config {spec} has no points")
    clash = sorted(set(base_overrides) & set().union(*points))
    if clash:
        raise ConfigError(f"{', '.join(clash)} is both overridden (--config.) and swept; "
                          f"drop one of them")
    return points


def build_points(spec: str, base_overrides: dict[str, str],
                 overrides: Sequence[dict[str, Any]]) -> list[Point]:
    """Validated Points; the first invalid one fails, naming the point and the key, before
    anything runs."""
    base = config_lib.apply_overrides(config_lib.load_config(spec), base_overrides)
    points = []
    for index, values in enumerate(overrides):
        try:
            text = {k: as_text(v) for k, v in values.items()}
            config = config_lib.validate(config_lib.apply_overrides(base, text))
        except ConfigError as e:
            shown = ", ".join(f"{k}={v!r}" for k, v in values.items())
            raise ConfigError(f"sweep point {index} ({shown}): {e}") from None
        points.append(Point(index, point_name(index, values), dict(values), config))
    return points


def sweep_record(spec: str, base_overrides: dict[str, str], points: Sequence[Point],
                 groups: Sequence[Sequence[int]]) -> dict[str, Any]:
    """What sweep.json holds: enough to rebuild every point and group."""
    return {"config": spec, "overrides": dict(base_overrides),
            "swept_keys": swept_keys(points),
            "points": [{"index": p.index, "name": p.name, "overrides": p.overrides}
                       for p in points],
            "groups": [list(g) for g in groups]}


def swept_keys(points: Sequence[Point]) -> list[str]:
    """The keys some point sets, in first-seen order."""
    keys: dict[str, None] = {}
    for p in points:
        keys.update(dict.fromkeys(p.overrides))
    return list(keys)


def read_record(sweep_dir: str) -> dict[str, Any] | None:
    """sweep.json of `sweep_dir`, or None when the folder holds no sweep yet."""
    path = os.path.join(sweep_dir, SWEEP_FILE)
    if not os.path.exists(path):
        return None
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, json.JSONDecodeError) as e:
        raise WorkdirError(f"{path} is unreadable ({e}); move it aside or choose a new "
                           f"--workdir") from None


def write_record(sweep_dir: str, record: dict[str, Any]) -> None:
    """Writes sweep.json; a different sweep already in `sweep_dir` is refused (never mixed)."""
    old = read_record(sweep_dir)
    if old is not None and _comparable(old) != _comparable(record):
        raise WorkdirError(f"{sweep_dir} holds another sweep ({SWEEP_FILE} differs: config, "
                           f"overrides or points); choose a new --workdir, or run "
                           f"`ganjax sweep --collect {sweep_dir}` to tabulate the old one")
    os.makedirs(sweep_dir, exist_ok=True)
    write_text_atomically(os.path.join(sweep_dir, SWEEP_FILE),
                          json.dumps(record, indent=2, default=list))


def _comparable(record: dict[str, Any]) -> str:
    keep = {k: record.get(k) for k in ("config", "overrides", "points")}
    return json.dumps(keep, sort_keys=True, default=list)


def points_from_record(record: dict[str, Any]) -> list[Point]:
    """The Points of a sweep.json (configs rebuilt and validated again)."""
    return build_points(record["config"], record["overrides"],
                        [p["overrides"] for p in record["points"]])
