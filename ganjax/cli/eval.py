"""`ganjax eval`: the argparse sub-command that evaluates a run and writes eval_<step>.json.

JAX and the library are imported inside `run`, like the other commands, so that building
the parser stays instant.
"""

from __future__ import annotations

import argparse
from typing import Any

from ganjax.cli.flags import add_runtime_flags, apply_runtime_flags
from ganjax.cli.report import call_reporting
from ganjax.errors import EXIT_CONFIG_ERROR


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Adds the `eval` command to `subparsers` (from `parser.add_subparsers()`)."""

    parser = subparsers.add_parser(
        "eval", help="evaluate a trained run (FID, KID, IS, Parzen, mode coverage)",
        description="Evaluate a checkpoint of a run: FID, KID, IS, precision/recall and "
                    "density/coverage on FID Inception features (with --fid_weights), the "
                    "Parzen-window log-likelihood and class coverage for image runs; mode "
                    "coverage, FID and KID on coordinates for toy runs. Writes "
                    "<workdir>/eval_<step>.json with the protocol used.")
    parser.add_argument("--workdir", required=True, help="the run's folder")
    parser.add_argument("--step", type=int, default=None,
                        help="checkpoint step (default: the newest good one)")
    parser.add_argument("--num_samples", type=int, default=None, metavar="N",
                        help="generated (and real reference) samples; default 10000 for images, "
                             "2500 for toys")
    parser.add_argument("--fid_weights", default=None, metavar="PATH",
                        help="pytorch-fid's pt_inception-2015-12-05-6726825d.pth (or a .npz "
                             "converted from it); without it FID/KID/IS are left out")
    parser.add_argument("--seed", type=int, default=0,
                        help="noise seed of the samples (with --noise sample)")
    parser.add_argument("--noise", choices=("sample", "training"), default="sample",
                        help="sample: fresh noise from --seed (default); training: the run's "
                             "training-time eval noise, which reproduces summary.json's eval/* "
                             "for toy runs")
    parser.add_argument("--raw_generator", action="store_true",
                        help="evaluate the raw generator even when an EMA one exists")
    parser.add_argument("--cache_dir", default=None, metavar="DIR",
                        help="cache of real-data features (default $GANJAX_CACHE or "
                             "~/.cache/ganjax/fid_stats)")
    add_runtime_flags(parser)
    return parser


def _number(value: Any) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def format_report(result: dict[str, Any]) -> str:
    """A short table: one `metric = value` line each, the protocol line, then any notes."""
    metrics = result["metrics"]
    width = max(len(k) for k in metrics) if metrics else 0
    lines = [f"  {k:<{width}} = {_number(v)}" for k, v in metrics.items()]
    p = result["protocol"]
    features = p.get("feature_network") or "none"
    noise = "training-time eval noise" if p["seed"] is None else f"seed {p['seed']}"
    sha = p.get("feature_weights_sha256")
    lines.append(
        f"  protocol: step {p['checkpoint_step']}, {p['generator']} generator, {noise}, "
        f"{p['num_generated']} generated vs {p['num_reference']} real "
        f"({p['reference_source']}{', ' + p['reference_split'] if p['reference_split'] else ''})"
        f", features: {features.split(':')[0]}{f' (sha256 {sha[:12]})' if sha else ''}, "
        f"ganjax {p['ganjax_version']}")
    lines.extend(f"  note: {note}" for note in result.get("notes", []))
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    """Runs `ganjax eval`; returns the process exit code."""
    apply_runtime_flags(args)
    from ganjax.run.evaluate import evaluate_run, write_eval

    # Beyond ganjax's own errors: a bad --num_samples or dataset (ValueError), files gone (OSError).
    also = ((ValueError, "error", EXIT_CONFIG_ERROR), (OSError, "error", EXIT_CONFIG_ERROR))
    result, code = call_reporting(lambda: evaluate_run(
        args.workdir, args.step, args.num_samples, args.fid_weights, args.seed,
        use_ema=not args.raw_generator, cache_dir=args.cache_dir, noise=args.noise), also)
    if code is not None:
        return code
    path = write_eval(args.workdir, result)
    print(f"ganjax: evaluated {args.workdir} at step {result['step']} "
          f"in {result['wall_time_s']:.1f} s")
    print(format_report(result))
    if args.noise == "sample":
        print("ganjax: note: fresh noise (--seed); summary.json's eval/* used the training-time "
              "eval noise, so they differ by sampling noise; --noise training reproduces them")
    print(f"ganjax: wrote {path}")
    return 0
