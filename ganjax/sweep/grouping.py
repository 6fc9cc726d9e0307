"""Which sweep points can train as one vectorized program.

Two points share a group when their configs are equal apart from the seed and the numeric
hyperparameters that live in the state as arrays (`TrainState.hparams`: learning rates, Adam's
betas, SGD momentum, the penalty weight, the EMA decay, the weight clip, term weights). Anything
else changes the compiled program (architecture, loss, penalty kind, batch size, d_steps, steps,
data) and starts another group, as does switching a hyperparameter on or off where that
switches a piece of the program (EMA decay 0, weight clip 0, SGD momentum 0).
"""

from __future__ import annotations

import json
from typing import Any, Sequence

import ml_collections

from ganjax import config as config_lib
from ganjax.data import example_shape
from ganjax.engine.build import build_gan
from ganjax.sweep.points import Point


def state_hparam_keys(config: ml_collections.ConfigDict) -> set[str]:
    """The config keys whose values are arrays in this config's training state."""
    return set(build_gan(config, example_shape(config)).hparam_values)


def structure_key(config: ml_collections.ConfigDict, hparam_keys: set[str]) -> str:
    """What must be equal for two configs to share a compiled program."""
    values = config.to_dict()
    values.pop("seed", None)
    for key in hparam_keys:
        *parents, leaf = key.split(".")
        node = values
        for part in parents:
            node = node[part]
        node.pop(leaf, None)
    o = config.optim
    switches = {"ema": o.ema_decay > 0, "weight_clip": o.d_weight_clip > 0,
                "momentum": o.name == "sgd" and o.momentum > 0}
    return json.dumps({"config": values, "switches": switches}, sort_keys=True, default=list)


def can_vectorize(config: ml_collections.ConfigDict) -> bool:
    """Whether points of this config can be stacked (toy data: sampled on device)."""
    return config_lib.is_toy(config)


def group_points(points: Sequence[Point], vectorize: bool = True,
                 max_replicas: int = 0) -> list[list[int]]:
    """Lists of point indices, in order of first appearance; each list trains as one program
    (`vectorize` and toy data), else one point per group. `max_replicas` > 0 splits larger
    groups (memory)."""
    groups: dict[str, list[int]] = {}
    for p in points:
        if vectorize and can_vectorize(p.config):
            key = structure_key(p.config, state_hparam_keys(p.config))
        else:
            key = f"alone-{p.index}"
        groups.setdefault(key, []).append(p.index)
    out: list[list[int]] = []
    for members in groups.values():
        size = max_replicas or len(members)
        out += [members[i:i + size] for i in range(0, len(members), size)]
    return out


def describe_groups(points: Sequence[Point], groups: Sequence[Sequence[int]]) -> list[str]:
    """One line per group: its size and what its points differ in."""
    lines = []
    for g, members in enumerate(groups):
        varying: dict[str, Any] = {}
        for i in members:
            for k, v in points[i].overrides.items():
                varying.setdefault(k, set()).add(json.dumps(v, default=list))
        swept = ", ".join(f"{k} ({len(v)} values)" for k, v in varying.items() if len(v) > 1)
        lines.append(f"group {g}: {len(members)} point(s)"
                     f"{'; varying ' + swept if swept else ''}")
    return lines
