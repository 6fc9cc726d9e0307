"""`ganjax features`: how well a trained D's conv features classify images under a linear classifier
(Radford et al. 2015, section 5.1), next to raw pixels and a randomly initialised D.

Writes <workdir>/features.json (accuracies per seed, chosen C, layers tapped, protocol) and
<workdir>/figures/features.png. The protocol is described in `ganjax.evaluation.d_features`.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from typing import Any

from ganjax.cli.flags import add_runtime_flags, apply_runtime_flags
from ganjax.cli.report import call_reporting
from ganjax.errors import EXIT_CONFIG_ERROR


def _int_list(text: str) -> list[int]:
    try:
        values = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: expected comma-separated integers, e.g. "
                                         f"100,1000") from None
    if not values:
        raise argparse.ArgumentTypeError(f"{text!r}: give at least one integer")
    return values


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Adds the `features` command to `subparsers`."""
    parser = subparsers.add_parser(
        "features", help="linear probe on a trained D's conv features (DCGAN section 5.1)",
        description="Max-pool every conv layer of the run's discriminator to 4x4, fit a linear "
                    "classifier on a few class-balanced labelled training images and score it on a "
                    "test set, next to raw pixels and the same D with random weights. Writes "
                    "WORKDIR/features.json and WORKDIR/figures/features.png.")
    parser.add_argument("--workdir", required=True, help="the run's folder")
    parser.add_argument("--step", type=int, default=None,
                        help="checkpoint step (default: the newest good one)")
    parser.add_argument("--labels", type=_int_list, default=[100, 1000], metavar="N,N",
                        help="labelled training images per fit, class-balanced "
                             "(default 100,1000)")
    parser.add_argument("--seeds", type=_int_list, default=[0, 1, 2], metavar="S,S",
                        help="seeds of the labelled draws (default 0,1,2)")
    parser.add_argument("--test-data", dest="test_data", default=None, metavar="SPEC",
                        help="test images, a data.source spec (default: the run's source; its "
                             "'test' split for mnist_idx: and tfds:, else held-out rows of "
                             "the training split)")
    parser.add_argument("--test-split", dest="test_split", default=None, metavar="SPLIT",
                        help="split of --test-data (default 'test' for mnist_idx: and tfds:, "
                             "'train' for digits, npz: and folder:)")
    parser.add_argument("--test-num", dest="test_num", type=int, default=None, metavar="N",
                        help="score on the first N test images only (default: all)")
    add_runtime_flags(parser)
    return parser


def format_table(result: dict[str, Any]) -> str:
    """One row per feature set: its width and mean +- std test accuracy per label count."""
    from ganjax.evaluation.d_features import FEATURE_LABELS

    counts = result["protocol"]["label_counts"]
    width = max(len(v) for v in FEATURE_LABELS.values())
    head = f"  {'features':<{width}}  {'dims':>6}" + "".join(
        f"  {f'{n:,} labels':>15}" for n in counts)
    lines = [head]
    for name, res in result["results"].items():
        cells = "".join(f"  {res['by_labels'][str(n)]['mean']:>7.4f} ± "
                        f"{res['by_labels'][str(n)]['std']:.4f}" for n in counts)
        lines.append(f"  {FEATURE_LABELS[name]:<{width}}  {res['dims']:>6}{cells}")
    test = result["protocol"]["test"]
    lines.append(f"  test: {test['count']} images of {test['source']} ({test['rows']}); "
                 f"mean ± std over seeds {result['protocol']['seeds']}")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    """Runs `ganjax features`; returns the process exit code."""
    bad = [n for n in args.labels if n < 2] + ([args.test_num] if args.test_num is not None
                                               and args.test_num < 1 else [])
    if bad:
        print(f"ganjax: error: --labels and --test-num must be positive (>= 2 labels); got "
              f"{bad[0]}", file=sys.stderr)
        return EXIT_CONFIG_ERROR
    apply_runtime_flags(args)
    from ganjax.evaluation.d_features import FEATURE_LABELS, default_test_data, run_d_features
    from ganjax.outputs.feature_figures import plot_features
    from ganjax.run.reopen import load_run

    start = time.perf_counter()
    log = lambda text: print(f"ganjax: {text}", file=sys.stderr)  # noqa: E731
    run_, code = call_reporting(lambda: load_run(args.workdir, args.step),
                                ((ValueError, "error", EXIT_CONFIG_ERROR),))
    if code is not None:
        return code
    test = default_test_data(run_.config, args.test_data, args.test_split)
    also = ((ValueError, "error", EXIT_CONFIG_ERROR), (OSError, "error", EXIT_CONFIG_ERROR))
    result, code = call_reporting(lambda: run_d_features(
        run_.config, run_.gan, run_.state, args.labels, args.seeds, test, args.test_num, log),
        also)
    if code is not None:
        return code
    result = {"step": run_.step, "workdir": os.path.abspath(args.workdir), **result,
              "wall_time_s": time.perf_counter() - start}
    path = os.path.join(args.workdir, "features.json")
    with open(path, "w", encoding="utf-8") as f:
        json.dump(result, f, indent=2)
    name = os.path.basename(os.path.abspath(args.workdir))
    figure = plot_features(result["results"], FEATURE_LABELS, args.labels,
                           f"{name}, step {run_.step}: linear probe on 4x4-max-pooled features, "
                           f"test {result['protocol']['test']['count']} images",
                           os.path.join(args.workdir, "figures", "features.png"))
    print(f"ganjax: D features of {args.workdir} at step {run_.step} "
          f"({len(result['layers'])} conv layers: "
          f"{', '.join(t['layer'] for t in result['layers'])})")
    print(format_table(result))
    print(f"ganjax: wrote {path} and {figure}")
    return 0
