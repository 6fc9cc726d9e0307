"""`ganjax reproduce`: run a paper reproduction and write its report; list them; the gallery.

    ganjax reproduce --list                          # what there is, with full-version times
    ganjax reproduce mescheder2018_dirac             # full version in runs/reproductions/NAME
    ganjax reproduce veegan2017_table1_grid --quick  # reduced, every artefact (tests)
    ganjax reproduce goodfellow2014_fig1 --seeds 4 --workdir W
    ganjax reproduce mirza2014_cgan --mnist npz:mnist-train.npz   # offline MNIST
    ganjax reproduce --gallery                       # docs/reproductions.md from the reports

Re-running a reproduction resumes it (finished runs, sweep points and computations are read
back) and rewrites its report.
"""

from __future__ import annotations

import argparse
from typing import Any

from ganjax.cli.catalog import print_lines
from ganjax.cli.flags import add_runtime_flags, apply_runtime_flags
from ganjax.cli.report import call_reporting, report


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Adds the `reproduce` command to `subparsers`."""
    p = subparsers.add_parser(
        "reproduce", help="reproduce a paper's figure or table; our numbers beside the paper's",
        description="Train and evaluate what a paper did, under its protocol, and write "
                    "W/report.md (ours vs the paper, mean +- sem over seeds), figures and "
                    "results.json. Re-running resumes.")
    p.add_argument("name", nargs="?", help="a reproduction (see --list)")
    p.add_argument("--list", action="store_true", help="list the reproductions")
    p.add_argument("--quick", action="store_true",
                   help="a reduced version that still writes every artefact (minutes)")
    p.add_argument("--seeds", type=int, default=None, metavar="N",
                   help="number of seeds (default: the reproduction's; 1 with --quick)")
    p.add_argument("--workdir", default=None,
                   help="folder (default: runs/reproductions/NAME, or NAME_quick)")
    p.add_argument("--mnist", default="tfds:mnist", metavar="SOURCE",
                   help="the data.source of MNIST runs (default tfds:mnist, the full set; "
                        "offline: npz:FILE or mnist_idx:DIR); the report says which was used")
    p.add_argument("--gallery", nargs="?", const="docs/reproductions.md", default=None,
                   metavar="OUT", help="refresh the gallery (default: docs/reproductions.md) "
                                       "from the reports under --runs and exit; a "
                                       "reproduction without one keeps its section, and a "
                                       "quick report does not replace a full one")
    p.add_argument("--runs", default="runs/reproductions", metavar="DIR",
                   help="--gallery: where the reproductions' folders are")
    p.add_argument("--readme", default="README.md", metavar="FILE",
                   help="--gallery also refreshes this file's reproduction blocks (if it exists)")
    add_runtime_flags(p)
    return p


def list_lines() -> list[str]:
    """`ganjax reproduce --list`: name, paper, what is compared, times (no JAX imported)."""
    from ganjax.reproduce.recipe import read_recipe, recipe_names

    lines = []
    for name in recipe_names():
        r = read_recipe(name)
        lines += [f"{name}  (full {r.full_time}, --quick {r.quick_time}, {r.seeds} seed"
                  f"{'s' if r.seeds > 1 else ''})", f"  {r.title}", f"  paper:    {r.paper}",
                  f"  compares: {r.compares}"]
    lines += ["", "Run one with `ganjax reproduce NAME` (add --quick for the reduced version); "
                  "times are for a 2-core CPU."]
    return lines


def run(args: argparse.Namespace) -> int:
    """Runs `ganjax reproduce`; returns the process exit code."""
    from ganjax.errors import ConfigError

    if args.list:
        lines, code = call_reporting(list_lines)
        if code is None:
            print_lines(lines)
        return code or 0
    if args.gallery:
        import os

        from ganjax.reproduce.gallery import update_readme, write_gallery

        out, code = call_reporting(lambda: write_gallery(args.gallery, args.runs))
        if code is None:
            path, status = out
            print(f"ganjax: wrote {path}; refreshed from {args.runs}: "
                  f"{', '.join(status['refreshed']) or 'none'}"
                  + (f"; kept as they were: {', '.join(status['kept'])}" if status["kept"] else "")
                  + (f"; not run yet: {', '.join(status['missing'])}" if status["missing"] else ""))
            if os.path.exists(args.readme):
                filled = update_readme(args.readme, args.runs)
                print(f"ganjax: refreshed {args.readme}'s tables of: "
                      f"{', '.join(filled) or 'none'}")
        return code or 0
    if not args.name:
        return report(ConfigError("ganjax reproduce needs a NAME (see `ganjax reproduce "
                                  "--list`), --list or --gallery"))
    from ganjax.reproduce.recipe import read_recipe
    from ganjax.reproduce.runner import check_seeds, reproduce

    _, code = call_reporting(lambda: (read_recipe(args.name), check_seeds(args.seeds)))
    if code is not None:  # before the runtime flags, which may start JAX
        return code
    apply_runtime_flags(args)

    _, code = call_reporting(lambda: reproduce(args.name, args.workdir, args.quick, args.seeds,
                                                     mnist=args.mnist))
    return code or 0
