"""What the MNIST reproductions share (a helper module, not a recipe: its name starts with _).

* `train_seeds`: one run of an experiment file per seed on the MNIST of `--mnist`, reduced to a
  few steps (or the experiment's own smoke variant) under --quick, which still writes every
  artefact.
* `parzen` / `report_parzen`: the Parzen-window log-likelihood of Goodfellow et al. 2014 (sigma
  from logspace(-1, 0, 10) chosen on validation digits, mean test log-likelihood with its
  standard error), cached per run, and the rows, per-seed table and protocol of the report.
* `run_figure` / `latent_figures`: a run's final sample grid, and labelled latent grids (one row
  per class, InfoGAN's code sweeps) drawn with `ganjax.run.latent_walks`, as `ganjax latent`
  draws them.
* `logged_series`: one metric of a run's metrics.jsonl against step.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import os
from typing import Any, Sequence

# --quick: 20 training steps, one evaluation at the end, fewer evaluation samples.
QUICK_TRAIN = {"train.steps": 20, "train.scan_steps": 10, "train.log_every": 10,
               "train.eval_every": 20, "eval.num_samples": 200}
# (generated samples, validation digits, test digits) of the Parzen estimate: the paper's
# protocol in the full version, a few hundred under --quick.
PARZEN_FULL = (10_000, 1_000, 10_000)
PARZEN_QUICK = (300, 100, 300)
PARZEN_METRIC = "Parzen log-likelihood (nats)"


@dataclasses.dataclass(frozen=True)
class SeedRun:
    """One training run of a reproduction: its seed, label (its folder under W/runs) and
    summary.json."""

    seed: int
    label: str
    workdir: str
    summary: dict[str, Any]


def train_seeds(ctx, label: str, spec: str, overrides: dict[str, Any] | None = None,
                quick_overrides: dict[str, Any] | None = None,
                quick_spec: str | None = None, share: tuple[str, ...] = ()) -> list[SeedRun]:
    """`spec` trained once per seed of the reproduction, in W/runs/<label>_seed<s>, on the
    MNIST of --mnist. Under --quick: `quick_spec` as it is (an experiment's own smoke variant,
    e.g. 20 steps on the embedded 8x8 digits; the report says so) when given, else `spec` with
    QUICK_TRAIN, `overrides` and `quick_overrides`. `share`: the reproductions that train the
    same runs (`Context.train`: a finished one is copied, not trained again)."""
    if ctx.quick and quick_spec:
        spec, settings = quick_spec, {}
        note = (f"--quick trains `{quick_spec}`, the experiment's smoke variant (20 steps on "
                f"the embedded 8x8 digits, not MNIST), because the evaluation CNN behind its "
                f"accuracies trains on first use, many times faster on those than on MNIST "
                f"(minutes on 2 cores). The full version trains "
                f"`{quick_spec.partition(':')[0]}` on the MNIST of --mnist.")
        ctx.text(note)
    else:
        settings = {**ctx.mnist_overrides(), **(overrides or {}),
                    **({**QUICK_TRAIN, **(quick_overrides or {})} if ctx.quick else {})}
    runs = []
    for seed in ctx.seeds:
        run_label = f"{label}_seed{seed}"
        summary = ctx.train(run_label, spec, {**settings, "seed": seed}, share=share)
        runs.append(SeedRun(seed, run_label, os.path.join(ctx.workdir, "runs", run_label),
                            summary))
    return runs


@functools.lru_cache(maxsize=2)
def _load(workdir: str, step: int, written: float):
    from ganjax.run.reopen import load_run

    return load_run(workdir, step)


def load(run: SeedRun):
    """`ganjax.run.reopen.load_run` of the run's last step, kept for the next caller while its
    summary.json is unchanged (restoring a run compiles its initial state: seconds on a CPU)."""
    written = os.path.getmtime(os.path.join(run.workdir, "summary.json"))
    return _load(run.workdir, int(run.summary["step"]), written)


# --- the Parzen-window log-likelihood -----------------------------------------------------

def parzen_sizes(ctx) -> tuple[int, int, int]:
    """(samples, validation digits, test digits) of this version."""
    return PARZEN_QUICK if ctx.quick else PARZEN_FULL


def parzen(ctx, run: SeedRun, per_class: bool = False) -> dict[str, Any]:
    """The Parzen estimate of `run`'s last checkpoint (EMA generator when it kept one), cached
    as W/cache/parzen_<label>_n<samples>.json: {"metrics": {"parzen_ll", "parzen_ll_se",
    "parzen_sigma", ...}, "protocol": {..., "parzen": {validation, test, ...}}}.

    per_class=False: `ganjax eval`'s evaluation (`evaluate_run`), whose samples draw a
    conditional model's labels uniformly at random. per_class=True (a conditional model): the
    labels cycle through the classes instead, so each class gets exactly samples / K of them
    (Mirza & Osindero's 1,000 per class); the estimate itself is the same function.
    """
    samples, validation, test = parzen_sizes(ctx)

    def evaluate() -> dict[str, Any]:
        from ganjax.run.evaluate import evaluate_run

        result = evaluate_run(run.workdir, num_samples=samples, parzen_validation=validation,
                              parzen_test=test)
        return {key: result[key] for key in ("step", "metrics", "protocol", "notes")}

    def evaluate_per_class() -> dict[str, Any]:
        from ganjax.evaluation.evaluator import generator_name
        from ganjax.evaluation.likelihood import parzen_report
        from ganjax.run.sampling import generate

        loaded = load(run)
        k = loaded.gan.latent.num_classes
        images = generate(loaded, samples, 0, labels=list(range(k)))
        metrics, protocol = parzen_report(images, loaded.config, validation, test)
        return {"step": loaded.step, "metrics": metrics, "notes": [],
                "protocol": {"checkpoint_step": loaded.step,
                             "generator": generator_name(loaded.state, True),
                             "num_generated": samples, "seed": 0,
                             "labels": f"sample j asks for class j mod {k}: {samples // k} per "
                                       f"class", "parzen": protocol}}

    return ctx.cached(f"parzen_{run.label}_n{samples}",
                      evaluate_per_class if per_class else evaluate)


def parzen_protocol_text(evaluation: dict[str, Any]) -> str:
    """How an estimate of `parzen` was made, in words for the report."""
    p, protocol = evaluation["protocol"]["parzen"], evaluation["protocol"]
    labels = f" ({protocol['labels']})" if "labels" in protocol else ""
    rows = lambda part: f"{part['count']:,} digits, {part['rows']}"  # noqa: E731
    return (f"Gaussian Parzen window on {protocol['num_generated']:,} samples of the "
            f"{protocol['generator']} generator{labels} at step {evaluation['step']}, in "
            f"{p['space']}; sigma from {p['sigma_grid']} (validation: {rows(p['validation'])}); "
            f"mean log-likelihood of the test digits ({rows(p['test'])}), standard error "
            f"{p['std_error']} (Goodfellow et al. 2014's protocol and code). Ours is the mean "
            f"over seeds with the standard error over seeds; the per-seed tables give each "
            f"estimate's standard error over test digits, which is what the paper's +- is")


def report_parzen(ctx, table: str, row: str, key: str, runs: Sequence[SeedRun],
                  evaluations: Sequence[dict[str, Any]], paper: str, note: str = "") -> list[float]:
    """The comparison row (mean +- sem over seeds), a per-seed table, the protocol and the
    numbers `<key>/parzen_ll` (per seed) and `<key>/parzen_ll_mean` of one model; returns the
    per-seed estimates."""
    from ganjax.reproduce.context import mean_sem

    values = [float(e["metrics"]["parzen_ll"]) for e in evaluations]
    ctx.compare(table, row, PARZEN_METRIC, values, paper, note)
    ctx.table(f"{row}: Parzen estimate of each seed",
              ["seed", "run", "step", "log-likelihood (nats)", "s.e. over test digits",
               "sigma", "samples"],
              [[r.seed, r.label, e["step"], f"{e['metrics']['parzen_ll']:.2f}",
                f"{e['metrics']['parzen_ll_se']:.2f}", f"{e['metrics']['parzen_sigma']:.3g}",
                e["protocol"]["num_generated"]] for r, e in zip(runs, evaluations)])
    ctx.protocol(PARZEN_METRIC, parzen_protocol_text(evaluations[0]))
    if "not held out" in evaluations[0]["protocol"]["parzen"]["test"]["rows"]:
        warning = ("The Parzen test digits are not held out here: this data source has no "
                   "test split, so they are training digits the models saw (with the full "
                   "TFDS MNIST they are the 10,000 test digits, as in the paper).")
        ctx.text(warning)
    ctx.number(f"{key}/parzen_ll", values)
    ctx.number(f"{key}/parzen_ll_mean", mean_sem(values)[0])
    return values


# --- figures --------------------------------------------------------------------------------

def run_figure(ctx, run: SeedRun, caption: str) -> str:
    """Adds `run`'s final sample grid (summary.json's "figure") to the report; its path."""
    path = run.summary["figure"]
    if not (os.path.isabs(path) and os.path.exists(path)):  # relative, or the folder moved
        path = os.path.join(run.workdir, "figures", os.path.basename(path))
    ctx.figure(path, caption)
    return path


def latent_figures(ctx, run: SeedRun, kind: str, seed: int = 0) -> dict[str, str]:
    """`ganjax latent --kind <kind>` figures of `run` ("classes": one row per class, one z per
    column; "codes": rows the first categorical code, columns one continuous code swept over
    [-2, 2], one figure per continuous code), written to W/figures/<label>_latent_<name>.png;
    {name: path}."""
    from ganjax.outputs.latent_figures import plot_labelled_grid
    from ganjax.run import latent_walks

    loaded = load(run)
    decoder = latent_walks.Decoder(loaded)
    generator = "EMA" if decoder.uses_ema else "raw"
    written = {}
    for name, grid in latent_walks.grids_for(loaded.gan.latent, [kind], seed).items():
        title = f"{run.label}, step {loaded.step} ({generator} G): {grid.title}"
        written[name] = plot_labelled_grid(
            decoder.grid(grid), grid.row_labels, grid.column_labels, grid.row_axis,
            grid.column_axis, title, ctx.path("figures", f"{run.label}_latent_{name}.png"),
            note=grid.description)
    return written


# --- logged curves --------------------------------------------------------------------------

def logged_series(run: SeedRun, key: str) -> tuple[list[int], list[float]]:
    """(steps, values) of `key` in the run's metrics.jsonl (a torn last line is skipped)."""
    steps, values = [], []
    with open(os.path.join(run.workdir, "metrics.jsonl"), encoding="utf-8") as f:
        for line in f:
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                continue
            if record.get(key) is not None:
                steps.append(int(record["step"]))
                values.append(float(record[key]))
    return steps, values
