"""`ganjax train-classifier`: train (or find in the cache) the digit classifier of an experiment.

The classifier (`ganjax.evaluation.digit_classifier`) is what evaluation uses to score
conditional and InfoGAN samples; it is trained on first use anyway. This command trains it ahead
of time for the data of `--config SPEC [--config.KEY=VALUE ...]` and says how good it is: its
held-out accuracy, its accuracy on the source's test split when there is one, and, with
`--test_source SPEC`, on the test split of another source (MNIST trained from an .npz subset,
tested on the official t10k IDX files).
"""

from __future__ import annotations

import argparse
from typing import Any

from ganjax.cli.flags import add_runtime_flags, apply_runtime_flags
from ganjax.cli.report import call_reporting, report


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Adds the `train-classifier` command to `subparsers` (from `parser.add_subparsers()`)."""
    parser = subparsers.add_parser(
        "train-classifier", help="train (or find cached) the digit classifier used by evaluation",
        description="Train the CNN classifier that scores conditional and InfoGAN samples on the "
                    "data of an experiment (override with --config.KEY=VALUE, e.g. "
                    "--config.data.source=npz:FILE), or find it in the cache; print its "
                    "held-out and test accuracy and where it is cached.")
    parser.add_argument("--config", default="dcgan_digits", metavar="SPEC",
                        help="experiment file (experiments/X.py[:variant]) or bundled name "
                             "(default: %(default)s)")
    parser.add_argument("--steps", type=int, default=None, metavar="N",
                        help="Adam steps of batch 128 (default: the evaluation's, "
                             "digit_classifier.DEFAULT_STEPS)")
    parser.add_argument("--seed", type=int, default=None,
                        help="initialisation and batch-order seed (default: the evaluation's)")
    parser.add_argument("--test_source", default=None, metavar="SPEC",
                        help="also score on the 'test' split of this data source, preprocessed "
                             "like the run's data, e.g. mnist_idx:DIR")
    parser.add_argument("--cache_dir", default=None, metavar="DIR",
                        help="cache folder (default $GANJAX_CACHE or ~/.cache/ganjax/fid_stats)")
    add_runtime_flags(parser)
    return parser


def run(args: argparse.Namespace, overrides: dict[str, str]) -> int:
    """Runs `ganjax train-classifier`; returns the process exit code."""
    apply_runtime_flags(args)
    from ganjax import config as config_lib
    from ganjax.errors import ConfigError, DataError

    try:
        config = config_lib.validate(
            config_lib.apply_overrides(config_lib.load_config(args.config), overrides))
        if config_lib.is_toy(config):
            raise ConfigError(f"--config {args.config}: data.source={config.data.source} is a toy "
                              f"distribution with no images; give an image experiment "
                              f"(dcgan_digits, dcgan_mnist) or --config.data.source")
        if args.steps is not None and args.steps < 1:
            raise ConfigError(f"--steps {args.steps}: give at least 1")
    except ConfigError as e:
        return report(e)
    from ganjax.evaluation import digit_classifier

    steps = digit_classifier.DEFAULT_STEPS if args.steps is None else args.steps
    seed = digit_classifier.DEFAULT_SEED if args.seed is None else args.seed
    classifier, code = call_reporting(lambda: digit_classifier.load_digit_classifier(
        config, args.cache_dir, steps=steps, seed=seed))
    if code is not None:
        return code
    found = "found in the cache" if classifier.from_cache else "trained and cached"
    print(f"ganjax: digit classifier {found}: {classifier.path}")
    print(f"ganjax: held-out accuracy {classifier.accuracy:.4f} "
          f"({classifier.num_held_out} rows of {config.data.source}, split {config.data.split})")
    if classifier.test_accuracy is not None:
        print(f"ganjax: test accuracy {classifier.test_accuracy:.4f} "
              f"({classifier.num_test} rows of {config.data.source}, split test)")
    if args.test_source:
        other = config.copy_and_resolve_references()
        other.data.source = args.test_source
        try:
            scored = digit_classifier.accuracy_on_test_split(classifier, other)
        except (OSError, ValueError) as e:
            return report(DataError(f"--test_source {args.test_source}: {e}"))
        if scored is None:
            return report(DataError(f"--test_source {args.test_source}: has no 'test' split "
                                    f"that can be opened; give a source with one, e.g. "
                                    f"mnist_idx:DIR or tfds:mnist"))
        print(f"ganjax: test accuracy {scored[0]:.4f} ({scored[1]} rows of {args.test_source}, "
              f"split test)")
    print(f"ganjax: {classifier.description}")
    return 0
