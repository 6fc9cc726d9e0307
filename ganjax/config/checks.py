"""Small helpers for checks that fail with one line naming the key and what is allowed."""

from __future__ import annotations

import difflib
from typing import Iterable

import ml_collections

from ganjax.errors import ConfigError

ConfigDict = ml_collections.ConfigDict


def positive_numbers(values) -> bool:
    """Whether `values` is a non-empty tuple (or list) of numbers > 0, e.g. kernel bandwidths."""
    return (isinstance(values, (tuple, list)) and len(values) >= 1
            and all(isinstance(v, (int, float)) and v > 0 for v in values))


def layer_widths(values, min_layers: int = 0) -> bool:
    """Whether `values` is a tuple (or list) of at least `min_layers` integer widths >= 1."""
    return (isinstance(values, (tuple, list)) and len(values) >= min_layers
            and all(isinstance(w, int) and not isinstance(w, bool) and w >= 1 for w in values))


def check_same_keys(config: ConfigDict, reference: ConfigDict, prefix: str = "config") -> None:
    """Experiments may change values, not invent keys: a typo in a config file fails here."""
    for key in config.keys():
        if key not in reference:
            raise ConfigError(f"{prefix}.{key}: unknown key; {suggest(key, reference.keys())}")
        if isinstance(config[key], ConfigDict):
            check_same_keys(config[key], reference[key], f"{prefix}.{key}")


def suggest(key: str, options: Iterable[str]) -> str:
    """"did you mean 'x'? valid keys: ..." for an unknown `key`."""
    options = sorted(options)
    close = difflib.get_close_matches(key, options, n=1)
    hint = f"did you mean {close[0]!r}? " if close else ""
    return f"{hint}valid keys: {', '.join(options)}"


def one_of(options: Iterable[str]) -> str:
    """"must be one of a, b, c"."""
    return f"must be one of {', '.join(options)}"


def require(ok: bool, key: str, allowed: str, config: ConfigDict) -> None:
    """Raises ConfigError "config.<key>=<value>: <allowed>" unless `ok`."""
    if not ok:
        value = config
        for part in key.split("."):
            value = value[part]
        raise ConfigError(f"config.{key}={value!r}: {allowed}")


