"""`ganjax sweep`: many runs of one experiment, vectorized where they share a program.

    ganjax sweep --config experiments/ring8.py --sweep 'seed=0:8' --workdir W
    ganjax sweep --config experiments/gaussian_1d.py --sweep 'optim.g_lr=3e-4,1e-3' \\
        --sweep 'seed=0:4' --workdir W                     # a product: 8 points, one program
    ganjax sweep --config experiments/ring8.py --workdir W  # the file's get_sweep()
    ganjax sweep --workdir W --group 2                     # one group of W's sweep (jobs)
    ganjax sweep --collect W                               # tables and figures, at any time

Launchers: `inline` (default: the groups one after another, here), `local` (parallel
processes, one GPU each where there are GPUs), `slurm` (one job per group through submitit),
and `--emit-jobs` (a shell file with one command per group, for any other scheduler).
"""

from __future__ import annotations

import argparse
import os
import time
from typing import Any

from ganjax.cli.flags import add_runtime_flags, apply_runtime_flags, experiment_name
from ganjax.cli.report import call_reporting, report
from ganjax.errors import EXIT_INTERRUPTED


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Adds the `sweep` command to `subparsers`."""
    p = subparsers.add_parser(
        "sweep", help="train a sweep of configs (vectorized where possible)",
        description="Train every point of a sweep; points that differ only in seeds and numeric "
                    "hyperparameters train as one vectorized program. Base overrides: "
                    "--config.KEY=VALUE.")
    p.add_argument("--config", default=None, metavar="SPEC",
                   help="experiment file (experiments/X.py[:variant]) or bundled name")
    p.add_argument("--sweep", action="append", default=[], metavar="KEY=VALUES",
                   help="an axis: 'optim.d_lr=1e-4,3e-4', 'seed=0:8' (range), "
                        "'optim.g_lr=log:1e-4:1e-2:5'; repeated flags form a product "
                        "(default: the file's get_sweep())")
    p.add_argument("--workdir", default=None,
                   help="sweep folder (default: runs/<experiment>_sweep_<time>); re-running "
                        "the same sweep there resumes it and skips finished points")
    p.add_argument("--vectorize", action=argparse.BooleanOptionalAction, default=True,
                   help="train each group of compatible points as one vmapped program "
                        "(default: on)")
    p.add_argument("--max_replicas", type=int, default=0, metavar="N",
                   help="split vectorized groups larger than N (memory); 0 = no limit")
    p.add_argument("--group", type=int, action="append", default=None, metavar="G",
                   help="train only group G of the sweep in --workdir (what launcher jobs run)")
    p.add_argument("--launcher", choices=("inline", "local", "slurm"), default="inline")
    p.add_argument("--processes", type=int, default=0, metavar="N",
                   help="--launcher local: parallel processes (default: one per GPU, else 2)")
    p.add_argument("--emit_jobs", "--emit-jobs", action="store_true", dest="emit_jobs",
                   help="write W/jobs.sh, one command per group, and train nothing")
    p.add_argument("--collect", default=None, metavar="W",
                   help="only write W's results.csv, results.md and figures")
    p.add_argument("--no_collect", action="store_true",
                   help="do not tabulate at the end (launcher jobs)")
    p.add_argument("--stop_at", type=int, default=None, metavar="STEP",
                   help=f"checkpoint every point at STEP and exit with code {EXIT_INTERRUPTED}")
    slurm = p.add_argument_group("--launcher slurm (submitit)")
    slurm.add_argument("--partition", default="")
    slurm.add_argument("--gpus_per_job", type=int, default=1)
    slurm.add_argument("--cpus_per_job", type=int, default=4)
    slurm.add_argument("--time_min", type=int, default=240)
    slurm.add_argument("--mem_gb", type=float, default=0)
    slurm.add_argument("--slurm", action="append", default=[], metavar="KEY=VALUE",
                       help="any other submitit/SLURM parameter, e.g. slurm_account=proj")
    slurm.add_argument("--submitit_cluster", default="slurm",
                       choices=("slurm", "local", "debug", "auto"),
                       help="submitit's executor (local: processes here, for tests)")
    slurm.add_argument("--no_wait", action="store_true",
                       help="submit and exit; collect later with --collect W")
    add_runtime_flags(p)
    return p


def run(args: argparse.Namespace, overrides: dict[str, str]) -> int:
    """Runs `ganjax sweep`; returns the process exit code."""
    apply_runtime_flags(args)
    from ganjax.sweep import driver

    if args.collect:
        return _collect(args.collect)
    if args.config is None and args.workdir is None:
        from ganjax.errors import ConfigError

        return report(ConfigError("ganjax sweep needs --config SPEC (with --sweep axes or the "
                                  "file's get_sweep()), --workdir W of an existing sweep, or "
                                  "--collect W"))
    if args.config is None:  # a job of an existing sweep
        sweep_plan, code = call_reporting(lambda: driver.open_plan(args.workdir))
    else:
        workdir = args.workdir or os.path.join(
            "runs", f"{experiment_name(args.config)}_sweep_{time.strftime('%Y%m%d-%H%M%S')}")
        sweep_plan, code = call_reporting(lambda: driver.plan(
            args.config, overrides, args.sweep, workdir, args.vectorize, args.max_replicas))
    if code is not None:
        return code
    for line in driver.describe(sweep_plan):
        print(line, flush=True)
    groups = args.group if args.group is not None else list(range(len(sweep_plan.groups)))
    if args.emit_jobs:
        from ganjax.sweep.launchers import emit_jobs

        path = emit_jobs(sweep_plan.workdir, groups)
        print(f"ganjax: sweep: wrote {path}, one command per group; run them anywhere, then "
              f"`ganjax sweep --collect {sweep_plan.workdir}`")
        return 0
    code = _launch(args, sweep_plan, groups)
    if code:
        return code
    return 0 if args.no_collect else _collect(sweep_plan.workdir)


def _launch(args: argparse.Namespace, sweep_plan: Any, groups: list[int]) -> int:
    from ganjax.sweep import driver, launchers

    if args.launcher == "inline":
        _, code = call_reporting(lambda: driver.run_groups(sweep_plan, groups,
                                                           stop_at=args.stop_at))
        return code or 0
    if args.launcher == "local":
        processes = args.processes or launchers.visible_gpus() or 2
        codes = launchers.run_local(sweep_plan.workdir, groups, processes)
        failed = [g for g, c in zip(groups, codes) if c]
        if failed:
            print(f"ganjax: sweep: group(s) {failed} failed; see {sweep_plan.workdir}/logs/, "
                  f"fix, and run the same command again (finished points are skipped)")
            return 1
        return 0
    params, code = call_reporting(lambda: launchers.slurm_parameters(
        args.partition, args.gpus_per_job, args.cpus_per_job, args.time_min, args.mem_gb,
        args.slurm))
    if code is not None:
        return code
    jobs = launchers.submit(sweep_plan.workdir, groups, params, args.submitit_cluster)
    print(f"ganjax: sweep: submitted {len(jobs)} job(s): "
          f"{', '.join(str(j.job_id) for j in jobs)} (logs in "
          f"{sweep_plan.workdir}/{launchers.SLURM_DIR}/)")
    if args.no_wait:
        print(f"ganjax: sweep: collect the results with `ganjax sweep --collect "
              f"{sweep_plan.workdir}`")
        return 0
    failed = []
    for g, job in zip(groups, jobs):
        try:
            job.result()
        except Exception as e:  # submitit re-raises the job's failure, whatever it was
            failed.append(g)
            print(f"ganjax: sweep: group {g} (job {job.job_id}) failed: "
                  f"{str(e).strip().splitlines()[-1] if str(e).strip() else type(e).__name__}")
    return 1 if failed else 0


def _collect(workdir: str) -> int:
    from ganjax.sweep import driver
    from ganjax.sweep.results import collect

    sweep_plan, code = call_reporting(lambda: driver.open_plan(workdir))
    if code is not None:
        return code
    out = collect(sweep_plan.points, workdir, sweep_plan.record["swept_keys"],
                  title=f"sweep of {sweep_plan.record['config']}")
    rows = out["rows"]
    done = sum(r["status"] == "finished" for r in rows)
    if out["mean_table"].count("\n") <= 30:
        print(out["mean_table"])
    print(f"ganjax: sweep: {done}/{len(rows)} points finished; tables in "
          f"{os.path.join(workdir, 'results.md')} and results.csv, aggregate.csv; figures in "
          f"{os.path.join(workdir, 'figures')}/")
    return 0
