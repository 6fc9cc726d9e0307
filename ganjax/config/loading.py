"""Loading experiment files, command-line overrides, JSON round trips and config differences."""

from __future__ import annotations

import ast
import dataclasses
import importlib
import importlib.util
import inspect
import json
import os
import re
from typing import Any

import ml_collections

from ganjax.config.base import RESUMABLE_CHANGES, base_config
from ganjax.config.checks import check_same_keys, suggest
from ganjax.errors import ConfigError

ConfigDict = ml_collections.ConfigDict


def _experiments_dir() -> str:
    """The folder of the bundled experiments (installed as ganjax.experiments), found without
    importing it: experiment files sit above the config layer."""
    return list(importlib.util.find_spec("ganjax.experiments").submodule_search_locations)[0]


def bundled_experiments() -> list[str]:
    """The names of the bundled experiments (`ring8`, ...): files not starting with `_`."""
    return sorted(f[:-3] for f in os.listdir(_experiments_dir())
                  if f.endswith(".py") and not f.startswith("_"))


def experiment_path(spec: str) -> str:
    """The file of `path/to/file.py[:arg]` or of a bundled name (`ring8[:arg]`); ConfigError
    when there is none."""
    path = spec.partition(":")[0]
    if not path.endswith(".py"):
        bundled = os.path.join(_experiments_dir(), path + ".py")
        if not os.path.exists(bundled):
            raise ConfigError(f"--config {spec}: no experiment named {path!r}; bundled "
                              f"experiments: {', '.join(bundled_experiments())} (or give a "
                              f"path to a .py file)")
        path = bundled
    if not os.path.exists(path):
        raise ConfigError(f"--config {spec}: file {path} does not exist")
    return path


@dataclasses.dataclass(frozen=True)
class Variant:
    """One way to run an experiment, as its module docstring states it."""

    name: str  # get_config's argument; "" when get_config takes none
    spec: str  # what --config takes: "ring8" for the default variant, "ring8:vanilla" otherwise
    description: str  # the docstring line's comment less the time: "plain non-saturating GAN"
    time: str | None  # e.g. "~1 min" from "(~1 min)" in that comment; None where none is stated
    default: bool  # what get_config() gives without an argument


# `ganjax train --config experiments/ring8.py:vanilla    # plain non-saturating GAN (~1 min)`
_VARIANT_LINE = re.compile(r"ganjax train --config\s+(?P<spec>\S+)(?P<rest>.*)$")
_TIME = re.compile(r"\((?P<time>~[^()]*)\)")


def _experiment_source(spec: str) -> tuple[str, ast.Module]:
    path = experiment_path(spec)
    with open(path, encoding="utf-8") as f:
        return path, ast.parse(f.read(), path)


def experiment_summary(spec: str) -> str:
    """The first line of an experiment's module docstring ("" when it has none)."""
    doc = ast.get_docstring(_experiment_source(spec)[1]) or ""
    return doc.strip().splitlines()[0].strip() if doc.strip() else ""


def defines_sweep(spec: str) -> bool:
    """Whether an experiment file defines `get_sweep()` (read from its source, not run)."""
    tree = _experiment_source(spec)[1]
    return any(isinstance(node, ast.FunctionDef) and node.name == "get_sweep"
               for node in tree.body)


def experiment_variants(spec: str) -> list[Variant]:
    """The variants of an experiment (bundled name or file), the default first, read from its
    source without running it (so without JAX): the default is get_config's default argument,
    the others are the docstring's `ganjax train --config <this file>:<variant>  # ...` lines.

    A line's comment is the variant's description; a parenthesised part starting with `~` in
    it is the stated time. The first line of each variant counts (later ones show overrides).
    """
    path, tree = _experiment_source(spec)
    stem = os.path.splitext(os.path.basename(path))[0]
    base = spec.partition(":")[0]
    get_config = next((node for node in tree.body if isinstance(node, ast.FunctionDef)
                       and node.name == "get_config"), None)
    arguments = get_config.args if get_config is not None else None
    takes_variant = bool(arguments and arguments.args)
    default = ""
    if takes_variant and len(arguments.defaults) == len(arguments.args):
        value = arguments.defaults[0]  # the first parameter's default
        if isinstance(value, ast.Constant) and isinstance(value.value, str):
            default = value.value
    found: dict[str, tuple[str, str | None]] = {}
    for line in (ast.get_docstring(tree) or "").splitlines():
        match = _VARIANT_LINE.search(line)
        if not match:
            continue
        file_part, _, name = match["spec"].partition(":")
        if os.path.splitext(os.path.basename(file_part))[0] != stem:
            continue  # a command of another experiment
        if name and not takes_variant:
            continue  # load_config refuses it
        name = name or default
        comment = match["rest"].partition("#")[2].strip()
        time = _TIME.search(comment)
        description = (_TIME.sub("", comment) if time else comment).strip(" ,;")
        found.setdefault(name, (description, time["time"].strip() if time else None))
    found.setdefault(default, ("", None))
    names = [default] + [n for n in found if n != default]
    return [Variant(name=n, spec=f"{base}:{n}" if n != default else base,
                    description=found[n][0], time=found[n][1], default=n == default)
            for n in names]


def load_experiment_module(spec: str) -> Any:
    """The experiment file of `spec` run as a module (its get_config, get_sweep, ...)."""
    module_spec = importlib.util.spec_from_file_location("_ganjax_experiment",
                                                         experiment_path(spec))
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    return module


def load_config(spec: str | None = None) -> ConfigDict:
    """Loads `path/to/file.py[:arg]` or a bundled experiment name (`ring8`, `ring8:vanilla`)."""
    spec = spec or "ring8"
    path_part, _, arg = spec.partition(":")
    path = experiment_path(spec)
    module = load_experiment_module(spec)
    if not hasattr(module, "get_config"):
        raise ConfigError(f"--config {spec}: {path} defines no get_config()")
    if arg and not inspect.signature(module.get_config).parameters:
        raise ConfigError(f"--config {spec}: {os.path.basename(path)} has no variants "
                          f"(its get_config takes no argument); use --config {path_part}")
    try:
        config = module.get_config(arg) if arg else module.get_config()
    except ValueError as e:  # the experiment's own check of its argument: an unknown variant
        known = [v.name for v in experiment_variants(spec) if v.name]
        if arg and arg not in known and len(known) > 1:  # the docstring lists them
            raise ConfigError(f"--config {spec}: unknown variant {arg!r}; known: "
                              f"{', '.join(known)}") from None
        raise ConfigError(f"--config {spec}: {e}") from None
    check_same_keys(config, base_config(config.model.name))
    return config


def _article(noun: str) -> str:
    """'an int', 'a float', 'a tuple': the noun with its indefinite article."""
    return f"{'an' if noun[0] in 'aeiou' else 'a'} {noun}"


def _parse_value(text: str, current: Any, key: str) -> Any:
    """Parses a command-line value to the type of the field it replaces."""
    if isinstance(current, bool):
        lowered = text.lower()
        if lowered in ("true", "1", "yes"):
            return True
        if lowered in ("false", "0", "no"):
            return False
        raise ConfigError(f"--config.{key}={text}: expected a bool (true/false)")
    if isinstance(current, str):
        return text
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError):
        if isinstance(current, (tuple, list)):
            value = tuple(ast.literal_eval(v) for v in text.split(",") if v)
        else:
            raise ConfigError(f"--config.{key}={text}: expected {_article(type(current).__name__)}, "
                              f"got an unparsable value") from None
    if isinstance(current, float) and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if isinstance(current, (tuple, list)):
        value = tuple(value) if isinstance(value, (tuple, list)) else (value,)
        return value
    if current is not None and type(value) is not type(current):
        raise ConfigError(f"--config.{key}={text}: expected {_article(type(current).__name__)}, "
                          f"got {type(value).__name__}")
    return value


def apply_overrides(config: ConfigDict, overrides: dict[str, str]) -> ConfigDict:
    """Applies `{"optim.g_lr": "1e-4"}` to a copy of `config`, typed like the fields they replace."""
    config = ml_collections.ConfigDict(config.to_dict())
    if "model.name" in overrides and overrides["model.name"] != config.model.name:
        config = switch_model(config, overrides["model.name"])
    for dotted, text in overrides.items():
        *parents, leaf = dotted.split(".")
        node, path = config, "config"
        for part in parents:
            if part not in node or not isinstance(node[part], ConfigDict):
                raise ConfigError(f"--config.{dotted}: unknown key {path}.{part}; "
                                  f"{suggest(part, node.keys())}")
            node, path = node[part], f"{path}.{part}"
        if leaf not in node or isinstance(node[leaf], ConfigDict):
            raise ConfigError(f"--config.{dotted}: unknown key; {suggest(leaf, node.keys())}")
        node[leaf] = _parse_value(text, node[leaf], dotted)
    return config




def to_json(config: ConfigDict) -> str:
    """The resolved config as stable, human-readable JSON (written to workdir/config.json)."""
    return json.dumps(config.to_dict(), indent=2, sort_keys=True, default=list)


def _flatten(tree: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat = {}
    for key, value in tree.items():
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = list(value) if isinstance(value, tuple) else value
    return flat


def config_diff(old: dict[str, Any], new: dict[str, Any]) -> list[tuple[str, Any, Any]]:
    """(key, old value, new value) for every field that differs between two config dicts."""
    a, b = _flatten(old), _flatten(new)
    return [(k, a.get(k), b.get(k)) for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)]


def check_resumable(old: dict[str, Any], new: ConfigDict) -> list[tuple[str, Any, Any]]:
    """The allowed differences of `new` from the run's saved config; ConfigError for any other.

    The saved config is read with `from_dict`, so fields added to ganjax after the run was
    started take their defaults (which leave behaviour unchanged) on both sides: a run from an
    older version resumes under a newer one.
    """
    diff = config_diff(from_dict(old).to_dict(), new.to_dict())
    unsafe = [d for d in diff if not d[0].startswith(RESUMABLE_CHANGES)]
    if unsafe:
        changes = "; ".join(f"{k}: {a!r} -> {b!r}" for k, a, b in unsafe)
        raise ConfigError(f"cannot resume with a different config ({changes}); only "
                          f"{', '.join(RESUMABLE_CHANGES)}* may change. Use the run's "
                          f"config.json, or start a new --workdir")
    return diff


def switch_model(config: ConfigDict, model: str) -> ConfigDict:
    """`config` with another model: the shared model fields kept, the model's own fields replaced
    by the new model's defaults (so `--config.model.name=dcgan` works on a toy experiment's
    config, and then fails validation only where the data does not fit)."""
    fresh = base_config(model)
    shared = {k: v for k, v in config.model.items() if k in ("noise", "noise_dim")}
    values = config.to_dict()
    values["model"] = {**fresh.model.to_dict(), **shared}
    return ml_collections.ConfigDict(values)


def from_dict(values: dict[str, Any]) -> ConfigDict:
    """A config from its JSON form (a run's config.json): lists become tuples where the base has
    tuples; unknown keys are refused as in experiment files."""
    config = base_config(values.get("model", {}).get("name", "mlp"))
    check_same_keys(ml_collections.ConfigDict(values), config)

    def fill(node: ConfigDict, new: dict[str, Any]) -> None:
        for key, value in new.items():
            if isinstance(value, dict):
                fill(node[key], value)
            else:
                node[key] = tuple(value) if isinstance(node[key], tuple) else value

    fill(config, values)
    return config
