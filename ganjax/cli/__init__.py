"""`ganjax` command line: one module per command (`train`, `sample`, `eval`), shared flags.

JAX and the library are imported inside the commands, so that `ganjax --help` is instant and
XLA flags can be set before JAX starts. Exit codes come from the one table in `ganjax.errors`.
"""

from __future__ import annotations

import argparse

from ganjax.cli import eval as eval_command
from ganjax.cli import sample as sample_command
from ganjax.cli import train as train_command
from ganjax.cli.flags import split_overrides
from ganjax.errors import (EXIT_CHECKPOINT, EXIT_CONFIG_ERROR, EXIT_DISTRIBUTED, EXIT_DIVERGED,
                           EXIT_INTERRUPTED, EXIT_WORKDIR)

__all__ = ["EXIT_CHECKPOINT", "EXIT_CONFIG_ERROR", "EXIT_DISTRIBUTED", "EXIT_DIVERGED",
           "EXIT_INTERRUPTED", "EXIT_WORKDIR", "build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    """The `ganjax` parser with every command."""
    parser = argparse.ArgumentParser(
        prog="ganjax", description="Pure-functional GAN experiments in JAX.")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    train_command.add_parser(commands)
    sample_command.add_parser(commands)
    eval_command.add_parser(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Parses `argv` and runs the command; returns the process exit code."""
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    overrides = split_overrides(extra, parser)
    if args.command == "train":
        return train_command.run(args, overrides)
    if overrides:
        parser.error(f"{args.command} takes no --config overrides (it uses the run's config.json)")
    if args.command == "sample":
        return sample_command.run(args)
    return eval_command.run(args)
