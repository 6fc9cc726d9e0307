"""`ganjax` command line: one module per command, shared flags.

Commands: `train` (train.py), `sample` (sample.py), `eval` (eval.py), `list` (catalog.py: the
bundled experiments and their variants), `config` (show_config.py: an experiment's resolved
config, every key), `train-classifier` (train_classifier.py: the evaluation CNN of a
dataset), `features` (features.py: a trained D's features under a linear classifier) and
`latent` (latent.py: interpolations, class rows, InfoGAN code sweeps), `sweep` (sweep.py: many
runs, vectorized where they share a program), `reproduce` (reproduce.py: paper
reproductions, their reports and the gallery) and `playground` (playground.py: a local web page
that trains toy GANs live, `ganjax.playground`). `train`, `config`, `train-classifier` and
`playground` take `--config.KEY=VALUE` overrides.

JAX and the library are imported inside the commands, so that `ganjax --help` is instant and
XLA flags can be set before JAX starts; `list` imports no JAX at all. Exit codes come from the
one table in `ganjax.errors`.
"""

from __future__ import annotations

import argparse
import sys

from ganjax.cli import catalog as list_command
from ganjax.cli import eval as eval_command
from ganjax.cli import features as features_command
from ganjax.cli import latent as latent_command
from ganjax.cli import playground as playground_command
from ganjax.cli import reproduce as reproduce_command
from ganjax.cli import sample as sample_command
from ganjax.cli import show_config as config_command
from ganjax.cli import sweep as sweep_command
from ganjax.cli import train as train_command
from ganjax.cli import train_classifier as train_classifier_command
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
    list_command.add_parser(commands)
    config_command.add_parser(commands)
    train_classifier_command.add_parser(commands)
    features_command.add_parser(commands)
    latent_command.add_parser(commands)
    sweep_command.add_parser(commands)
    reproduce_command.add_parser(commands)
    playground_command.add_parser(commands)
    return parser


def _join_override_values(argv: list[str]) -> list[str]:
    """`--config.a.b v` as `--config.a.b=v`, so that argparse never takes `v` for a positional
    (`ganjax config --config.train.steps 7 ring8`)."""
    joined, i = [], 0
    while i < len(argv):
        arg = argv[i]
        if arg.startswith("--config.") and "=" not in arg and i + 1 < len(argv):
            joined.append(f"{arg}={argv[i + 1]}")
            i += 2
        else:
            joined.append(arg)
            i += 1
    return joined


def main(argv: list[str] | None = None) -> int:
    """Parses `argv` and runs the command; returns the process exit code."""
    parser = build_parser()
    argv = sys.argv[1:] if argv is None else list(argv)
    args, extra = parser.parse_known_args(_join_override_values(argv))
    if args.command is None:
        parser.print_help()
        return 0
    overrides = split_overrides(extra, parser)
    if args.command == "train":
        return train_command.run(args, overrides)
    if args.command == "config":
        return config_command.run(args, overrides)
    if args.command == "train-classifier":
        return train_classifier_command.run(args, overrides)
    if args.command == "sweep":
        return sweep_command.run(args, overrides)
    if args.command == "playground":
        return playground_command.run(args, overrides)
    if overrides:
        uses = {"list": "it lists the experiments",
                "reproduce": "a reproduction fixes its own configs"}.get(
                    args.command, "it uses the run's config.json")
        parser.error(f"{args.command} takes no --config overrides ({uses})")
    if args.command == "list":
        return list_command.run(args)
    if args.command == "sample":
        return sample_command.run(args)
    if args.command == "features":
        return features_command.run(args)
    if args.command == "latent":
        return latent_command.run(args)
    if args.command == "reproduce":
        return reproduce_command.run(args)
    return eval_command.run(args)
