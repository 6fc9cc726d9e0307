"""`ganjax` command line: train (and resume) an experiment, sample and evaluate a trained run.

Imports of JAX and the library happen inside the commands, so that `ganjax --help` is instant and
XLA flags can be set before JAX starts.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from typing import Any, Callable

from ganjax.evaluation.command import add_eval_parser, cmd_eval

EXIT_CONFIG_ERROR = 2  # bad config, data or arguments
EXIT_DIVERGED = 3  # NaN/Inf in a loss or a parameter
EXIT_WORKDIR = 4  # the workdir holds a run that this one must not mix with
EXIT_CHECKPOINT = 5  # no checkpoint can be restored
EXIT_DISTRIBUTED = 6  # the processes of a multi-process run cannot start together or disagree
EXIT_INTERRUPTED = 75  # stopped by SIGTERM/SIGINT or --stop_at after a checkpoint: rerun to resume


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


# (exception type, label, exit code): how a command reports each failure it expects.
Failures = tuple[tuple[type, str, int], ...]


def call_reporting(call: Callable[[], Any], failures: Failures) -> tuple[Any, int | None]:
    """(call(), None); or, for an exception listed in `failures`, one line
    `ganjax: <label>: <message>` on stderr and (None, its exit code)."""
    try:
        return call(), None
    except tuple(kind for kind, _, _ in failures) as e:
        label, code = next((label, code) for kind, label, code in failures if isinstance(e, kind))
        print(f"ganjax: {label}: {e}", file=sys.stderr)
        return None, code


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


def _apply_runtime_flags(args: argparse.Namespace) -> None:
    """XLA flags and the compilation cache; before the first computation."""
    from ganjax import runtime

    runtime.set_xla_cpu_fusion(args.xla_cpu_ynn_fusion)
    if not args.no_compilation_cache:
        runtime.enable_compilation_cache(args.compilation_cache)


def _cmd_train(args: argparse.Namespace, overrides: dict[str, str]) -> int:
    _apply_runtime_flags(args)
    from ganjax import config as config_lib
    from ganjax import parallel

    try:
        config = config_lib.apply_overrides(config_lib.load_config(args.config), overrides)
        config_lib.validate(config)
    except config_lib.ConfigError as e:
        print(f"ganjax: config error: {e}", file=sys.stderr)
        return EXIT_CONFIG_ERROR
    try:
        parallel.initialize(args.coordinator_address, args.num_processes, args.process_id,
                            timeout_s=args.distributed_timeout)
    except parallel.DistributedError as e:
        print(f"ganjax: distributed error: {e}", file=sys.stderr)
        return EXIT_DISTRIBUTED
    from ganjax import train as train_lib
    from ganjax.checkpoint import CheckpointError

    name = _experiment_name(args.config)
    workdir = args.workdir or os.path.join("runs", f"{name}_{time.strftime('%Y%m%d-%H%M%S')}")
    if parallel.is_main_process():
        print(f"ganjax: training {name} for {config.train.steps} steps on "
              f"{parallel.describe_devices()}; results in {workdir}", flush=True)
    failures = ((config_lib.ConfigError, "config error", EXIT_CONFIG_ERROR),
                (train_lib.DataError, "data error", EXIT_CONFIG_ERROR),
                (train_lib.DivergenceError, "error", EXIT_DIVERGED),
                (train_lib.WorkdirError, "error", EXIT_WORKDIR),
                (CheckpointError, "checkpoint error", EXIT_CHECKPOINT),
                (train_lib.Interrupted, "interrupted", EXIT_INTERRUPTED),
                (parallel.DistributedError, "distributed error", EXIT_DISTRIBUTED))
    summary, code = call_reporting(lambda: train_lib.train(
        config, workdir, name=name, overwrite=args.overwrite, stop_at=args.stop_at), failures)
    if code is not None:
        return code
    if not parallel.is_main_process():
        return 0
    metrics = "  ".join(f"{k} {v:.4g}" for k, v in summary.items()
                        if k.startswith("eval/") and isinstance(v, (int, float)))
    print(f"ganjax: done in {summary['wall_time_s']:.1f} s; {metrics}")
    print(f"ganjax: results in {os.path.abspath(workdir)} (summary.json, metrics.jsonl, "
          f"figures/final.png)")
    return 0


def _cmd_sample(args: argparse.Namespace) -> int:
    _apply_runtime_flags(args)
    from ganjax import config as config_lib
    from ganjax.checkpoint import CheckpointError
    from ganjax.evaluation.evaluator import uses_ema
    from ganjax.run_dir import load_run
    from ganjax.sampling import FORMATS, generate, write_samples

    if os.path.splitext(args.out)[1].lower() not in FORMATS:
        print(f"ganjax: error: --out {args.out}: use a .npy or .png file", file=sys.stderr)
        return EXIT_CONFIG_ERROR
    if args.num < 1:
        print(f"ganjax: error: --num {args.num}: must be >= 1", file=sys.stderr)
        return EXIT_CONFIG_ERROR
    try:
        run = load_run(args.workdir, args.step)
    except config_lib.ConfigError as e:
        print(f"ganjax: config error: {args.workdir}/config.json: {e}", file=sys.stderr)
        return EXIT_CONFIG_ERROR
    except CheckpointError as e:
        print(f"ganjax: checkpoint error: {e}", file=sys.stderr)
        return EXIT_CHECKPOINT
    use_ema = not args.raw_generator
    samples = generate(run, args.num, args.seed, use_ema=use_ema)
    path = write_samples(run, samples, args.out)
    which = "EMA" if uses_ema(run.state, use_ema) else "raw"
    print(f"ganjax: wrote {len(samples)} samples of the {which} generator at step {run.step} "
          f"to {path}")
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
                       help="output folder (default: runs/<experiment>_<time>); a workdir with "
                            "checkpoints is resumed")
    train.add_argument("--overwrite", action="store_true",
                       help="start afresh in a non-empty workdir; the old run is renamed to "
                            "<workdir>.replaced-<time>, never deleted")
    train.add_argument("--stop_at", type=int, default=None, metavar="STEP",
                       help=f"checkpoint at STEP and exit with code {EXIT_INTERRUPTED} (run the "
                            f"same command again to continue), e.g. to fit a job time limit")
    _add_runtime_flags(train)
    multi = train.add_argument_group(
        "several processes (hosts)", "one data-parallel program over the devices of all "
        "processes; on TPU pods and SLURM these are detected when left out")
    multi.add_argument("--coordinator_address", default=None, metavar="HOST:PORT",
                       help="process 0's host and a free port, the same for every process")
    multi.add_argument("--num_processes", type=int, default=None)
    multi.add_argument("--process_id", type=int, default=None, help="0 .. num_processes-1")
    multi.add_argument("--distributed_timeout", type=int, default=300, metavar="SECONDS",
                       help="give up when the processes have not all connected by then")

    sample = commands.add_parser(
        "sample", help="write samples of a trained run",
        description="Sample the generator of a run's checkpoint (the EMA generator when the run "
                    "kept one). .npy holds images as float32 NHWC in [0, 1] (toys: coordinates).")
    sample.add_argument("--workdir", required=True, help="the run's folder")
    sample.add_argument("--step", type=int, default=None,
                        help="checkpoint step (default: the newest good one)")
    sample.add_argument("--num", type=int, default=64, help="number of samples")
    sample.add_argument("--seed", type=int, default=0, help="noise seed")
    sample.add_argument("--out", default="samples.png", help="output .npy or .png")
    sample.add_argument("--raw_generator", action="store_true",
                        help="sample the raw generator even when an EMA one exists")
    _add_runtime_flags(sample)
    add_eval_parser(commands)
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
    if args.command == "sample":
        if overrides:
            parser.error("sample takes no --config overrides (it uses the run's config.json)")
        return _cmd_sample(args)
    if args.command == "eval":
        if overrides:
            parser.error("eval takes no --config overrides (it uses the run's config.json)")
        return cmd_eval(args)
    parser.error(f"unknown command {args.command}")
    return EXIT_CONFIG_ERROR


if __name__ == "__main__":
    sys.exit(main())
