"""`ganjax config`: print an experiment's resolved config, every key, after --config overrides.

One `key = value` line per field, keys sorted as in the run's config.json. Each value is written
the way `--config.KEY=VALUE` takes it on a shell command line (strings quoted only where the shell
needs it, tuples as `128,128`, bools as true/false), so any line can be pasted back as a flag and
gives the same value. `--json` prints the config.json a run with these settings writes instead.
"""

from __future__ import annotations

import argparse
import shlex
from typing import Any

from ganjax.cli.catalog import print_lines
from ganjax.cli.report import report


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Adds the `config` command to `subparsers` (from `parser.add_subparsers()`)."""
    show = subparsers.add_parser(
        "config", help="print an experiment's resolved config, every key",
        usage="ganjax config [-h] [--diff | --json] SPEC [--config.KEY=VALUE ...]",
        description="Print the config `ganjax train --config SPEC` would run, after any "
                    "--config.KEY=VALUE overrides: one `key = value` line per field, each "
                    "value as --config.KEY=VALUE takes it.")
    show.add_argument("spec", metavar="SPEC",
                      help="bundled name (ring8, ring8:vanilla; see `ganjax list`) or "
                           "experiments/X.py[:variant]")
    output = show.add_mutually_exclusive_group()
    output.add_argument("--diff", action="store_true",
                        help="only the keys whose value differs from the base config of the "
                             "same model (what the experiment and the overrides set)")
    output.add_argument("--json", action="store_true",
                        help="the config as JSON, as a run writes it to config.json")
    return show


def flag_value(value: Any) -> str:
    """`value` as the VALUE of `--config.KEY=VALUE` on a shell line, parsing back to `value`."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return shlex.quote(value)
    if isinstance(value, (tuple, list)):
        text = ",".join(repr(v) for v in value)
        return shlex.quote(text + "," if len(value) == 1 else text)
    return shlex.quote(repr(value))


def leaves(tree: dict[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    """(dotted key, value) of every field of a config's dict, in its (sorted) key order."""
    out = []
    for key, value in tree.items():
        if isinstance(value, dict):
            out += leaves(value, f"{prefix}{key}.")
        else:
            out.append((f"{prefix}{key}", value))
    return out


def resolve(spec: str, overrides: dict[str, str]) -> Any:
    """The validated config of `spec` with `overrides`, as `ganjax train` builds it."""
    from ganjax import config as config_lib

    return config_lib.validate(
        config_lib.apply_overrides(config_lib.load_config(spec), overrides))


def config_lines(spec: str, overrides: dict[str, str], diff: bool = False) -> list[str]:
    """The lines `ganjax config SPEC` prints; ConfigError for a bad spec, key or value."""
    from ganjax import config as config_lib

    config = resolve(spec, overrides)
    fields = leaves(config.to_dict())
    if not diff:
        return [f"# {spec}: every key; set any with --config.KEY=VALUE"] + \
               [f"{key} = {flag_value(value)}" for key, value in fields]
    base = dict(leaves(config_lib.base_config(config.model.name).to_dict()))
    changed = [(key, value) for key, value in fields if value != base.get(key)]
    width = max((len(f"{key} = {flag_value(value)}") for key, value in changed), default=0)
    return [f"# {spec}: the keys that differ from base_config(model={config.model.name!r})"] + \
           [f"{f'{key} = {flag_value(value)}':<{width}}  # base: {flag_value(base[key])}"
            for key, value in changed]


def run(args: argparse.Namespace, overrides: dict[str, str]) -> int:
    """Runs `ganjax config`; returns the process exit code."""
    from ganjax import config as config_lib
    from ganjax.errors import ConfigError

    try:
        lines = [config_lib.to_json(resolve(args.spec, overrides))] if args.json else \
            config_lines(args.spec, overrides, diff=args.diff)
    except ConfigError as e:
        return report(e)
    print_lines(lines)
    return 0
