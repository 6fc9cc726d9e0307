"""Paper reproductions: recipes, the context they run in, and their reports.

A reproduction is a file in `experiments/reproductions/` (installed as
`ganjax.experiments.reproductions`) with a docstring, a few constants (PAPER, COMPARES,
FULL_TIME, QUICK_TIME, SEEDS) and `run(ctx)`. `ganjax reproduce NAME` loads it
(`ganjax.reproduce.recipe`), runs it in a `ganjax.reproduce.context.Context` (training runs and
sweeps in the reproduction's folder, each resumable; tables of ours against the paper; figures)
and writes `report.md` and `results.json` (`ganjax.reproduce.report`). `ganjax.reproduce.gallery`
gathers the reports into docs/reproductions.md.
"""
