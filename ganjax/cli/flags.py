"""Flags and argument handling shared by every command: overrides, runtime flags, run names."""

from __future__ import annotations

import argparse
import os

from ganjax.run.runtime import DEFAULT_CACHE_DIR, enable_compilation_cache, set_xla_cpu_fusion


def split_overrides(extra: list[str], parser: argparse.ArgumentParser) -> dict[str, str]:
    """`--config.a.b=v` and `--config.a.b v` into {"a.b": "v"}; anything else is an error."""
    overrides, i = {}, 0
    while i < len(extra):
        arg = extra[i]
        if not arg.startswith("--config."):
            parser.error(f"unrecognized argument {arg!r} (overrides look like "
                         f"--config.optim.g_lr=1e-4)")
        key, eq, value = arg[len("--config."):].partition("=")
        if not eq:
            if i + 1 >= len(extra):
                parser.error(f"{arg} needs a value")
            i, value = i + 1, extra[i + 1]
        overrides[key] = value
        i += 1
    return overrides


def experiment_name(spec: str) -> str:
    """`experiments/ring8.py:vanilla` -> `ring8-vanilla`, for default workdirs and titles."""
    path, _, arg = spec.partition(":")
    base = os.path.splitext(os.path.basename(path))[0]
    return f"{base}-{arg}" if arg else base


def add_runtime_flags(parser: argparse.ArgumentParser) -> None:
    """--compilation_cache, --no_compilation_cache and --xla_cpu_ynn_fusion."""
    parser.add_argument("--compilation_cache", default=os.environ.get(
        "GANJAX_COMPILATION_CACHE", DEFAULT_CACHE_DIR), metavar="DIR",
        help="persistent JAX compilation cache (default %(default)s; env GANJAX_COMPILATION_CACHE)")
    parser.add_argument("--no_compilation_cache", action="store_true",
                        help="compile from scratch every time")
    parser.add_argument("--xla_cpu_ynn_fusion", action="store_true",
                        help="keep XLA:CPU's YNNPACK fusion (ganjax turns it off: faster GAN steps)")


def apply_runtime_flags(args: argparse.Namespace) -> None:
    """XLA flags and the compilation cache; before the first computation."""
    set_xla_cpu_fusion(args.xla_cpu_ynn_fusion)
    if not args.no_compilation_cache:
        enable_compilation_cache(args.compilation_cache)
