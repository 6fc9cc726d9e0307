"""`ganjax train`: train (or resume) an experiment config in a workdir."""

from __future__ import annotations

import argparse
import os
import time
from typing import Any

from ganjax.cli.flags import add_runtime_flags, apply_runtime_flags, experiment_name
from ganjax.cli.report import call_reporting, report
from ganjax.errors import EXIT_INTERRUPTED


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Adds the `train` command to `subparsers` (from `parser.add_subparsers()`)."""
    train = subparsers.add_parser(
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
    add_runtime_flags(train)
    multi = train.add_argument_group(
        "several processes (hosts)", "one data-parallel program over the devices of all "
        "processes; on TPU pods and SLURM these are detected when left out")
    multi.add_argument("--coordinator_address", default=None, metavar="HOST:PORT",
                       help="process 0's host and a free port, the same for every process")
    multi.add_argument("--num_processes", type=int, default=None)
    multi.add_argument("--process_id", type=int, default=None, help="0 .. num_processes-1")
    multi.add_argument("--distributed_timeout", type=int, default=300, metavar="SECONDS",
                       help="give up when the processes have not all connected by then")
    return train


def run(args: argparse.Namespace, overrides: dict[str, str]) -> int:
    """Runs `ganjax train`; returns the process exit code."""
    apply_runtime_flags(args)
    from ganjax import config as config_lib
    from ganjax.errors import ConfigError, DistributedError

    try:
        config = config_lib.validate(
            config_lib.apply_overrides(config_lib.load_config(args.config), overrides))
    except ConfigError as e:
        return report(e)
    from ganjax import parallel

    try:
        parallel.initialize(args.coordinator_address, args.num_processes, args.process_id,
                            timeout_s=args.distributed_timeout)
    except DistributedError as e:
        return report(e)
    from ganjax.run.loop import train

    name = experiment_name(args.config)
    workdir = args.workdir or os.path.join("runs", f"{name}_{time.strftime('%Y%m%d-%H%M%S')}")

    def announce() -> None:  # after the data, model and config checks, before any file
        if parallel.is_main_process():
            print(f"ganjax: training {name} for {config.train.steps} steps on "
                  f"{parallel.describe_devices()}; results in {workdir}", flush=True)

    summary, code = call_reporting(lambda: train(
        config, workdir, name=name, overwrite=args.overwrite, stop_at=args.stop_at,
        announce=announce))
    if code is not None:
        return code
    if not parallel.is_main_process():
        return 0
    metrics = "  ".join(f"{k} {v:.4g}" for k, v in summary.items()
                        if k.startswith("eval/") and isinstance(v, (int, float))
                        and not isinstance(v, bool))
    if "reevaluated_at" in summary:
        print(f"ganjax: evaluated again (summary.json keeps the training record); {metrics}")
    else:
        rate = summary["steps_per_s"]
        print(f"ganjax: done in {summary['wall_time_s']:.1f} s "
              f"({summary['train_time_s']:.1f} s training"
              f"{f' at {rate:.1f} steps/s' if rate else ''}, {summary['compile_time_s']:.1f} s "
              f"compiling, {summary['eval_time_s']:.1f} s evaluating); {metrics}")
    print(f"ganjax: look at {summary['figure']} first (the samples at step {summary['step']}); "
          f"numbers in {os.path.abspath(workdir)}: summary.json, metrics.jsonl, "
          f"figures/curves.png")
    return 0


