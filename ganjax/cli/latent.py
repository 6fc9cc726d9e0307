"""`ganjax latent`: latent-space figures of a trained run (interpolations, classes, InfoGAN codes,
latent arithmetic), written as labelled PNG grids.

Kinds that do not apply to the run are skipped with a note: classes needs a conditional
generator, codes InfoGAN's continuous codes, arithmetic an unconditional image generator and a
labelled dataset for the digit classifier. Toy runs get the interpolation kind only, as paths
over the generator's samples (2-D data). What each figure shows is described in
`ganjax.run.latent_walks`.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any, Callable, Sequence

from ganjax.cli.flags import add_runtime_flags, apply_runtime_flags
from ganjax.cli.report import open_run
from ganjax.errors import EXIT_CONFIG_ERROR

KINDS = ("interpolation", "classes", "codes", "arithmetic")  # = latent_walks.KINDS
TOY_SAMPLES = 2000  # G's samples behind a toy run's interpolation paths

Log = Callable[[str], None]


def _kinds(text: str) -> list[str]:
    kinds = [part.strip() for part in text.split(",") if part.strip()]
    unknown = [k for k in kinds if k not in KINDS]
    if unknown or not kinds:
        raise argparse.ArgumentTypeError(f"{text!r}: kinds are comma-separated names among "
                                         f"{', '.join(KINDS)}")
    return kinds


def _at_least(minimum: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r}: expected an integer") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"{value}: must be at least {minimum}")
        return value
    return parse


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Adds the `latent` command to `subparsers`."""
    parser = subparsers.add_parser(
        "latent", help="latent-space figures of a trained run",
        description="Draw latent walks of a run's generator (the EMA one when the run kept "
                    "one): interpolations between noise vectors (slerp for Gaussian noise, "
                    "linear for uniform), one row per class (conditional models), InfoGAN's "
                    "codes swept over [-2, 2], and the mean noise of the samples a digit "
                    "classifier puts in each class. Writes OUT/latent_<kind>.png.")
    parser.add_argument("--workdir", required=True, help="the run's folder")
    parser.add_argument("--step", type=int, default=None,
                        help="checkpoint step (default: the newest good one)")
    parser.add_argument("--kind", type=_kinds, default=list(KINDS), metavar="K,K",
                        help=f"figures to draw, among {','.join(KINDS)} (default: all that apply)")
    parser.add_argument("--seed", type=int, default=0, help="noise seed (default 0)")
    parser.add_argument("--out", default=None, metavar="DIR",
                        help="folder of the PNGs (default WORKDIR/figures)")
    parser.add_argument("--pairs", type=_at_least(1), default=8,
                        help="interpolation rows of an unconditional model (default 8)")
    parser.add_argument("--steps", type=_at_least(2), default=10,
                        help="interpolation columns, t = 0 .. 1 (default 10)")
    parser.add_argument("--columns", type=_at_least(1), default=10,
                        help="z's of the classes figure (default 10)")
    parser.add_argument("--sweep", type=_at_least(2), default=9,
                        help="values of each InfoGAN continuous code in [-2, 2] (default 9)")
    parser.add_argument("--arithmetic_samples", type=_at_least(1), default=2000, metavar="N",
                        help="samples labelled by the classifier for the class means "
                             "(default 2000)")
    parser.add_argument("--raw_generator", action="store_true",
                        help="use the raw generator even when an EMA one exists")
    add_runtime_flags(parser)
    return parser


def figure_path(out_dir: str, name: str) -> str:
    """OUT/latent_<name>.png (name: a kind, or codes_c<j> for one continuous code)."""
    return os.path.join(out_dir, f"latent_{name}.png")


def skip_reason(run: Any, kind: str) -> str | None:
    """Why `kind` does not apply to `run`, or None when it does (arithmetic's labelled dataset
    is checked when the classifier is loaded)."""
    from ganjax import config as config_lib

    spec = run.gan.latent
    if config_lib.is_toy(run.config):
        if kind != "interpolation":
            return "toy runs get the interpolation figure only (the others are image grids)"
        if len(run.gan.data_shape) != 1 or run.gan.data_shape[0] != 2:
            return "interpolation paths are drawn for 2-D toy data only"
        return None
    if kind == "classes" and not spec.num_classes:
        return "the generator is not conditional (model.num_classes = 0)"
    if kind == "codes" and not spec.code_dim:
        return "the generator has no InfoGAN continuous codes (model.info_continuous = 0)"
    if kind == "arithmetic" and spec.conditional:
        return ("it averages z alone, and this generator also takes labels or codes (the "
                "classes and codes figures show what they do)")
    return None


def _title(run: Any, generator: str, what: str) -> str:
    name = os.path.basename(os.path.abspath(run.workdir))
    return f"{name}, step {run.step} ({generator} G): {what}"


def write_figures(run: Any, kinds: Sequence[str], seed: int, out_dir: str, *,
                  use_ema: bool = True, pairs: int = 8, steps: int = 10, columns: int = 10,
                  sweep: int = 9, arithmetic_samples: int = 2000,
                  classifier: Callable[[Any], Any] | None = None,
                  log: Log = print) -> dict[str, str]:
    """Draws the applicable `kinds` of `run` into `out_dir`; returns {figure name: path}.

    `classifier(config)` gives the arithmetic kind's classifier (anything with
    `.predict(images in [0, 1]) -> labels` and `.num_classes`); default: the run's digit
    classifier (`ganjax.evaluation.digit_classifier`), trained and cached on first use. Skipped
    kinds are reported through `log`, one line each.
    """
    from ganjax import config as config_lib
    from ganjax.errors import DataError
    from ganjax.outputs.latent_figures import plot_labelled_grid, plot_toy_paths
    from ganjax.run import latent_walks

    decoder = latent_walks.Decoder(run, use_ema)
    generator = "EMA" if decoder.uses_ema else "raw"
    applicable = []
    for kind in kinds:
        reason = skip_reason(run, kind)
        if reason:
            log(f"ganjax: skipping {kind}: {reason}")
        else:
            applicable.append(kind)
    written: dict[str, str] = {}
    grids = latent_walks.grids_for(run.gan.latent, applicable, seed, pairs, steps, columns,
                                   sweep)
    for name, grid in grids.items():
        if config_lib.is_toy(run.config):
            background = decoder(latent_walks.prior_latent(
                run.gan.latent, latent_walks.kind_rng(seed, "toy samples"), TOY_SAMPLES))
            paths = decoder.grid(grid)
            written[name] = plot_toy_paths(background, paths, grid.row_labels,
                                           _title(run, generator, grid.title),
                                           figure_path(out_dir, name), grid.description)
        else:
            written[name] = plot_labelled_grid(
                decoder.grid(grid), grid.row_labels, grid.column_labels, grid.row_axis,
                grid.column_axis, _title(run, generator, grid.title), figure_path(out_dir, name),
                note=grid.description)
        log(f"ganjax: wrote {written[name]}")
    if "arithmetic" in applicable:
        path = _write_arithmetic(run, decoder, generator, seed, out_dir, arithmetic_samples,
                                 classifier, log, DataError)
        if path:
            written["arithmetic"] = path
    return written


def _write_arithmetic(run: Any, decoder: Any, generator: str, seed: int, out_dir: str, num: int,
                      classifier: Callable[[Any], Any] | None, log: Log,
                      data_error: type) -> str | None:
    """The arithmetic figure, or None (with a note) when the run's data has no labels."""
    from ganjax.outputs.latent_figures import plot_labelled_grid
    from ganjax.run import latent_walks

    if classifier is None:
        from ganjax.evaluation.digit_classifier import load_digit_classifier

        classifier = lambda config: load_digit_classifier(config, log=log)  # noqa: E731
    try:
        model = classifier(run.config)
    except data_error as e:
        log(f"ganjax: skipping arithmetic: it needs a classifier of the run's labelled data: {e}")
        return None
    k = int(model.num_classes)
    result = latent_walks.arithmetic(decoder, model.predict, k,
                                     latent_walks.kind_rng(seed, "arithmetic"), num)
    counts, labels = result.means.counts, result.decoded_labels
    captions = [[f"n={counts[c]}, CNN {labels[0, c]}" if counts[c] else "no samples"
                 for c in range(k)],
                [f"CNN {labels[1, c]}" if counts[c] else "" for c in range(k)]]
    if result.pair is not None:
        t = latent_walks.fractions(k)
        captions.append([f"t={t[c]:.2g}, CNN {labels[2, c]}" for c in range(k)])
    kept = (latent_walks.class_kept_fraction(result, 0),
            latent_walks.class_kept_fraction(result, 1))
    note = (f"{result.grid.description}. Under each cell: n = samples averaged, CNN = the "
            f"classifier's label of the decoded image; it keeps the class of {kept[0]:.0%} of "
            f"the decoded means ({kept[1]:.0%} rescaled)")
    path = plot_labelled_grid(result.images, result.grid.row_labels, result.grid.column_labels,
                              result.grid.row_axis, result.grid.column_axis,
                              _title(run, generator, result.grid.title),
                              figure_path(out_dir, "arithmetic"), captions,
                              note=note)
    present = int((counts > 0).sum())
    log(f"ganjax: arithmetic: {num} samples over {present} of {k} classes; the classifier "
        f"gives the decoded mean z its class for {kept[0]:.0%} of them, {kept[1]:.0%} rescaled")
    log(f"ganjax: wrote {path}")
    return path


def run(args: argparse.Namespace) -> int:
    """Runs `ganjax latent`; returns the process exit code."""
    apply_runtime_flags(args)

    run_, code = open_run(args.workdir, args.step)
    if code is not None:
        return code
    out_dir = args.out or os.path.join(args.workdir, "figures")
    try:
        written = write_figures(run_, args.kind, args.seed, out_dir,
                                use_ema=not args.raw_generator, pairs=args.pairs,
                                steps=args.steps, columns=args.columns, sweep=args.sweep,
                                arithmetic_samples=args.arithmetic_samples,
                                log=lambda text: print(text, file=sys.stderr))
    except ValueError as e:
        print(f"ganjax: error: {e}", file=sys.stderr)
        return EXIT_CONFIG_ERROR
    if not written:
        print(f"ganjax: error: none of --kind {','.join(args.kind)} applies to this run",
              file=sys.stderr)
        return EXIT_CONFIG_ERROR
    print(f"ganjax: wrote {len(written)} latent figure(s) of {args.workdir} at step "
          f"{run_.step} to {os.path.abspath(out_dir)}")
    return 0
