"""Sweeps as code: small helpers that build the list of points (override dicts) of a sweep.

A sweep is a list of points; a point is a dict {dotted config key: value}. An axis is a sweep
over one or a few keys; `product` and `zip_axes` combine axes, as in big_vision's sweeps:

    def get_sweep():
        return product(values("optim.d_lr", [1e-4, 3e-4, 1e-3]), seeds(8))

    def get_sweep():  # 16 random learning-rate pairs, reproducible from the draw's seed
        return product(zip_axes(log_uniform("optim.g_lr", 1e-4, 1e-2, 16, seed=0),
                                log_uniform("optim.d_lr", 1e-4, 1e-2, 16, seed=1)), seeds(3))

The command line builds the same from `--sweep 'optim.d_lr=1e-4,3e-4,1e-3' --sweep 'seed=0:8'`
(`parse_axis`; repeated flags form a product). Values stay Python values here; the config layer
types and checks them when a point is applied (`ganjax.sweep.points`).
"""

from __future__ import annotations

import ast
import itertools
import math
from typing import Any, Iterable, Sequence

import numpy as np

from ganjax.errors import ConfigError

Point = dict[str, Any]
Axis = list[Point]


def values(key: str, choices: Iterable[Any]) -> Axis:
    """One point per value of `key`."""
    axis = [{key: v} for v in choices]
    if not axis:
        raise ConfigError(f"sweep over {key}: no values")
    return axis


def seeds(count: int, start: int = 0) -> Axis:
    """`count` seeds from `start`: the replicas a table averages over."""
    return values("seed", range(start, start + count))


def linspace(key: str, low: float, high: float, count: int) -> Axis:
    """`count` evenly spaced values of `key` from `low` to `high`, both included."""
    return values(key, [float(v) for v in np.linspace(low, high, count)])


def logspace(key: str, low: float, high: float, count: int) -> Axis:
    """`count` values of `key` evenly spaced in log scale from `low` to `high` (both > 0)."""
    _check_positive(key, low, high)
    return values(key, [float(v) for v in np.geomspace(low, high, count)])


def uniform(key: str, low: float, high: float, count: int, seed: int = 0) -> Axis:
    """`count` random draws of `key` from U(low, high); the same `seed` gives the same draws."""
    draws = np.random.default_rng(seed).uniform(low, high, count)
    return values(key, [float(v) for v in draws])


def log_uniform(key: str, low: float, high: float, count: int, seed: int = 0) -> Axis:
    """`count` random draws of `key` whose log is uniform on [log low, log high] (learning
    rates, penalty weights); reproducible from `seed`."""
    _check_positive(key, low, high)
    draws = np.exp(np.random.default_rng(seed).uniform(math.log(low), math.log(high), count))
    return values(key, [float(v) for v in draws])


def product(*axes: Sequence[Point]) -> Axis:
    """Every combination of one point from each axis (the last axis varies fastest)."""
    points = [{}]
    for axis in axes:
        points = [{**p, **q} for p in points for q in axis]
    return _checked(points)


def zip_axes(*axes: Sequence[Point]) -> Axis:
    """The i-th points of every axis merged: axes of one length that move together."""
    lengths = {len(a) for a in axes}
    if len(lengths) > 1:
        raise ConfigError(f"zip_axes of axes of different lengths {sorted(lengths)}")
    return _checked([dict(itertools.chain.from_iterable(p.items() for p in ps))
                     for ps in zip(*axes)])


def _checked(points: Axis) -> Axis:
    for p in points:
        if not isinstance(p, dict):
            raise ConfigError(f"a sweep point must be a dict of config keys, got {p!r}")
    return points


def _check_positive(key: str, low: float, high: float) -> None:
    if not (low > 0 and high > 0):
        raise ConfigError(f"sweep over {key}: a log scale needs low and high > 0, got "
                          f"{low}, {high}")


def _literal(text: str) -> Any:
    """A value as written on the command line: a Python literal, else the text itself."""
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def parse_axis(flag: str) -> Axis:
    """One `--sweep` flag as an axis.

    `key=v1,v2,v3` lists values; `key=a:b` (or `a:b:step`) is range(a, b[, step]) of integers,
    e.g. `seed=0:8`; `key=log:1e-4:1e-2:5` and `key=lin:0:1:5` are log- and evenly-spaced
    values; several keys separated by `;` move together (`optim.g_lr=1e-4,1e-3;optim.d_lr=4e-4,
    4e-3`).
    """
    axes = [_parse_one(part.strip(), flag) for part in flag.split(";") if part.strip()]
    if not axes:
        raise ConfigError(f"--sweep {flag!r}: expected KEY=VALUES, e.g. 'seed=0:8'")
    return axes[0] if len(axes) == 1 else zip_axes(*axes)


def _parse_one(text: str, flag: str) -> Axis:
    key, sep, spec = text.partition("=")
    key = key.strip().removeprefix("config.").removeprefix("--config.")
    if not sep or not key or not spec.strip():
        raise ConfigError(f"--sweep {flag!r}: expected KEY=VALUES, e.g. 'seed=0:8' or "
                          f"'optim.d_lr=1e-4,3e-4'")
    spec = spec.strip()
    kind, _, rest = spec.partition(":")
    try:
        if kind in ("log", "lin"):
            low, high, count = rest.split(":")
            maker = logspace if kind == "log" else linspace
            return maker(key, float(low), float(high), int(count))
        if ":" in spec and "," not in spec and not spec.startswith(("(", "[", "'", '"')):
            bounds = [int(v) for v in spec.split(":")]
            if len(bounds) not in (2, 3):
                raise ValueError("a range is a:b or a:b:step")
            return values(key, range(*bounds))
    except ValueError as e:
        raise ConfigError(f"--sweep {flag!r}: {e}; ranges are 'a:b[:step]' of integers, "
                          f"'log:low:high:count' or 'lin:low:high:count'") from None
    if spec.startswith(("(", "[")):  # one tuple/list value per element of a list of them
        parsed = _literal(spec)
        if isinstance(parsed, list) and all(isinstance(v, (tuple, list)) for v in parsed):
            return values(key, [tuple(v) for v in parsed])
    return values(key, [_literal(v.strip()) for v in spec.split(",") if v.strip()])


def from_flags(flags: Sequence[str]) -> Axis:
    """The product of the axes of repeated `--sweep` flags."""
    return product(*(parse_axis(f) for f in flags))
