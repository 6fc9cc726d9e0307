"""`ganjax list`: the bundled experiments and their variants, with the times their docs state.

Everything comes from the experiment files' source (`ganjax.config.loading.experiment_variants`):
nothing is run, so listing imports no JAX and takes no time.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

WIDTH = 100  # longer summaries are cut to fit a terminal line
NO_TIME = "time not stated"


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Adds the `list` command to `subparsers` (from `parser.add_subparsers()`)."""
    return subparsers.add_parser(
        "list", help="list the bundled experiments and their variants",
        description="List every bundled experiment (with the first line of its docstring) and "
                    "every variant, as --config takes it, with the time its docstring states.")


def print_lines(lines: list[str]) -> None:
    """Prints `lines` to stdout; a reader that stops early (`| head`) ends the output quietly."""
    try:
        print("\n".join(lines), flush=True)
    except BrokenPipeError:
        # Python would report the pipe again when it flushes stdout at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def _fit(line: str) -> str:
    return line if len(line) <= WIDTH else line[:WIDTH - 3].rstrip() + "..."


def catalog_lines() -> list[str]:
    """The lines `ganjax list` prints: per experiment a header, then one indented line per
    variant (spec, stated time, description), in columns aligned across all experiments."""
    from ganjax.config.loading import (bundled_experiments, defines_sweep, experiment_summary,
                                       experiment_variants)

    entries = [(name, experiment_summary(name), experiment_variants(name))
               for name in bundled_experiments()]
    name_width = max(len(name) for name, _, _ in entries)
    spec_width = max(len(v.spec) for _, _, variants in entries for v in variants)
    time_width = max(len(v.time or NO_TIME) for _, _, variants in entries for v in variants)
    lines = []
    for name, summary, variants in entries:
        lines.append(_fit(f"{name:<{name_width}}  {summary}".rstrip()))
        for v in variants:
            lines.append(_fit(f"  {v.spec:<{spec_width}}  {v.time or NO_TIME:<{time_width}}  "
                              f"{v.description}".rstrip()))
    lines.append("")
    lines.append("Train one with `ganjax train --config SPEC`; show its every setting with "
                 "`ganjax config SPEC`.")
    swept = [name for name, _, _ in entries if defines_sweep(name)]
    if swept:
        lines.append(_fit(f"Sweeps of their own (get_sweep()): {', '.join(swept)}; "
                          f"train one with `ganjax sweep --config NAME`."))
    return lines


def run(args: argparse.Namespace) -> int:
    """Runs `ganjax list`; returns the process exit code."""
    del args
    print_lines(catalog_lines())
    return 0
