"""`ganjax sample`: write samples of a trained run as .npy or PNG."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from ganjax.cli.flags import add_runtime_flags, apply_runtime_flags
from ganjax.cli.report import open_run
from ganjax.errors import EXIT_CONFIG_ERROR

FORMATS = (".npy", ".png")


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Adds the `sample` command to `subparsers`."""
    sample = subparsers.add_parser(
        "sample", help="write samples of a trained run",
        description="Sample the generator of a run's checkpoint (the EMA generator when the run "
                    "kept one). .npy holds images as float32 NHWC in [0, 1] (toys: coordinates).")
    sample.add_argument("--workdir", required=True, help="the run's folder")
    sample.add_argument("--step", type=int, default=None,
                        help="checkpoint step (default: the newest good one)")
    sample.add_argument("--num", type=int, default=64, help="number of samples")
    sample.add_argument("--seed", type=int, default=0, help="noise seed")
    sample.add_argument("--out", default=None,
                        help="output .npy or .png (default: WORKDIR/samples/"
                             "step_<step>_seed_<seed>.png)")
    sample.add_argument("--labels", type=int_list, default=None,
                        help="conditional models: comma-separated classes; sample i gets "
                             "labels[i %% len(labels)] (e.g. --num 20 --labels 0,1,...,9 gives "
                             "two of each)")
    sample.add_argument("--codes", type=int_list, default=None,
                        help="InfoGAN: values of the first categorical code, cycled like "
                             "--labels")
    sample.add_argument("--raw_generator", action="store_true",
                        help="sample the raw generator even when an EMA one exists")
    add_runtime_flags(sample)
    return sample


def int_list(text: str) -> list[int]:
    """"0,1,2" -> [0, 1, 2]; argparse turns the ValueError into a one-line usage error."""
    try:
        values = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: expected comma-separated integers, e.g. "
                                         f"0,1,2") from None
    if not values:
        raise argparse.ArgumentTypeError("expected at least one integer, e.g. 0,1,2")
    return values


def default_samples_path(workdir: str, step: int, seed: int) -> str:
    """Where samples go without --out: inside the run, named by checkpoint step and seed."""
    return os.path.join(workdir, "samples", f"step_{step:07d}_seed_{seed}.png")


def run(args: argparse.Namespace) -> int:
    """Runs `ganjax sample`; returns the process exit code."""
    if args.out is not None and os.path.splitext(args.out)[1].lower() not in FORMATS:
        print(f"ganjax: error: --out {args.out}: use a .npy or .png file", file=sys.stderr)
        return EXIT_CONFIG_ERROR
    if args.num < 1:
        print(f"ganjax: error: --num {args.num}: must be >= 1", file=sys.stderr)
        return EXIT_CONFIG_ERROR
    apply_runtime_flags(args)
    from ganjax.run.sampling import generate, generator_label, write_samples

    run_, code = open_run(args.workdir, args.step)
    if code is not None:
        return code
    use_ema = not args.raw_generator
    try:
        samples = generate(run_, args.num, args.seed, use_ema=use_ema, labels=args.labels,
                           codes=args.codes)
    except ValueError as e:
        print(f"ganjax: error: --labels/--codes: {e}", file=sys.stderr)
        return EXIT_CONFIG_ERROR
    out = args.out or default_samples_path(args.workdir, run_.step, args.seed)
    path = os.path.abspath(write_samples(run_, samples, out))
    print(f"ganjax: wrote {len(samples)} samples of the {generator_label(run_, use_ema)} "
          f"generator at step {run_.step} to {path}")
    return 0
