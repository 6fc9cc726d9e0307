"""`ganjax` command line: train (more commands arrive with their issues).

Imports of JAX and the library happen inside the commands, so that `ganjax --help` is instant and
XLA flags can be set before JAX starts.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

EXIT_CONFIG_ERROR = 2
EXIT_DIVERGED = 3
EXIT_WORKDIR = 4


def _split_overrides(extra: list[str], parser: argparse.ArgumentParser) -> dict[str, str]:
    """`--config.a.b=v` and `--config.a.b v` into {"a.b": "v"}; anything else is an error."""
    overrides, i = {}, 0
    while i < len(extra):
        arg = extra[i]
        if not arg.startswith("--config."):
            parser.error(f"unrecognized argument {arg!r} (overrides look like --config.optim.g_lr=1e-4)")
        key, eq, value = arg[len("--config."):].partition("=")
        if not eq:
            if i + 1 >= len(extra):
                parser.error(f"{arg} needs a value")
            i, value = i + 1, extra[i + 1]
        overrides[key] = value
        i += 1
    return overrides


def _experiment_name(spec: str) -> str:
    path, _, arg = spec.partition(":")
    base = os.path.splitext(os.path.basename(path))[0]
    return f"{base}-{arg}" if arg else base


def _add_runtime_flags(parser: argparse.ArgumentParser) -> None:
    from ganjax.runtime import DEFAULT_CACHE_DIR

    parser.add_argument("--compilation_cache", default=os.environ.get(
        "GANJAX_COMPILATION_CACHE", DEFAULT_CACHE_DIR), metavar="DIR",
        help="persistent JAX compilation cache (default %(default)s; env GANJAX_COMPILATION_CACHE)")
    parser.add_argument("--no_compilation_cache", action="store_true",
                        help="compile from scratch every time")
    parser.add_argument("--xla_cpu_ynn_fusion", action="store_true",
                        help="keep XLA:CPU's YNNPACK fusion (ganjax turns it off: faster GAN steps)")


def _cmd_train(args: argparse.Namespace, overrides: dict[str, str]) -> int:
    from ganjax import runtime

    runtime.set_xla_cpu_fusion(args.xla_cpu_ynn_fusion)
    from ganjax import config as config_lib

    try:
        config = config_lib.apply_overrides(config_lib.load_config(args.config), overrides)
        config_lib.validate(config)
    except config_lib.ConfigError as e:
        print(f"ganjax: config error: {e}", file=sys.stderr)
        return EXIT_CONFIG_ERROR
    if not args.no_compilation_cache:
        runtime.enable_compilation_cache(args.compilation_cache)
    from ganjax import train as train_lib

    name = _experiment_name(args.config)
    workdir = args.workdir or os.path.join("runs", f"{name}_{time.strftime('%Y%m%d-%H%M%S')}")
    print(f"ganjax: training {name} for {config.train.steps} steps; results in {workdir}",
          flush=True)
    try:
        summary = train_lib.train(config, workdir, name=name)
    except train_lib.DivergenceError as e:
        print(f"ganjax: error: {e}", file=sys.stderr)
        return EXIT_DIVERGED
    except train_lib.WorkdirError as e:
        print(f"ganjax: error: {e}", file=sys.stderr)
        return EXIT_WORKDIR
    except train_lib.DataError as e:
        print(f"ganjax: data error: {e}", file=sys.stderr)
        return EXIT_CONFIG_ERROR
    metrics = "  ".join(f"{k} {v:.4g}" for k, v in summary.items()
                        if k.startswith("eval/") and v is not None)
    print(f"ganjax: done in {summary['wall_time_s']:.1f} s; {metrics}")
    print(f"ganjax: results in {os.path.abspath(workdir)} (summary.json, metrics.jsonl, "
          f"figures/final.png)")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ganjax", description="Pure-functional GAN experiments in JAX.")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    train = commands.add_parser(
        "train", help="train an experiment config",
        description="Train an experiment. Override any config field with --config.KEY=VALUE, "
                    "e.g. --config.optim.g_lr=1e-4 --config.train.steps=2000.")
    train.add_argument("--config", default="ring8", metavar="SPEC",
                       help="experiment file (experiments/X.py[:variant]) or bundled name "
                            "(default: %(default)s)")
    train.add_argument("--workdir", default=None,
                       help="output folder (default: runs/<experiment>_<time>)")
    _add_runtime_flags(train)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    overrides = _split_overrides(extra, parser)
    if args.command == "train":
        return _cmd_train(args, overrides)
    parser.error(f"unknown command {args.command}")
    return EXIT_CONFIG_ERROR


if __name__ == "__main__":
    sys.exit(main())
