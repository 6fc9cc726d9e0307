"""The 1-D illustration of Goodfellow et al. 2014 (Fig. 1) on the N(4, 1.5^2) toy, over seeds.

G turns 1-D uniform noise into samples; at the game's optimum p_g = p_data and D(x) = 1/2 on
the data (Goodfellow et al. 2014, Prop. 1 and Fig. 1d). The recipe trains
`experiments/gaussian_1d.py` (per-sample D with a small R1 penalty) on every seed as one
vectorized sweep, then compares G's mean and std with the data's and D's mean output on the
data with 1/2. The figure is the run of the first seed: data density, G's density and D(x).
"""

import json
import os

PAPER = "Goodfellow et al. 2014, Generative Adversarial Nets, Fig. 1 (qualitative) and Prop. 1"
COMPARES = "G's mean and std against the data's N(4, 1.5^2); D(x) on the data against 1/2"
FULL_TIME = "~3 min"
QUICK_TIME = "~40 s"
SEEDS = 10


SPEC = "gaussian_1d"


def run(ctx) -> None:
    overrides = {"train.steps": 400, "train.eval_every": 200, "train.log_every": 100,
                 "eval.num_samples": 2_000, "optim.ema_decay": 0.9} if ctx.quick else {}
    out = ctx.sweep("gaussian_1d", SPEC, [f"seed=0:{len(ctx.seeds)}"], overrides)
    rows = [r for r in out["rows"] if r["status"] == "finished"]
    table = "Ours (an MLP GAN on N(4, 1.5^2)) against the optimum of Prop. 1"
    ctx.compare(table, "G's samples", "mean", [r["mean"] for r in rows], "4 (the data)")
    ctx.compare(table, "G's samples", "std", [r["std"] for r in rows], "1.5 (the data)")
    ctx.compare(table, "D on data", "mean D(x), x ~ data", [r["d_on_data"] for r in rows],
                "1/2 (Fig. 1d)")
    diverged = [r["point"] for r in out["rows"] if r["status"] == "diverged"]
    if diverged:
        ctx.text(f"Diverged and left out of the means: {', '.join(diverged)}.")
    ctx.protocol("mean, std", "of eval.num_samples samples of the EMA generator at the last "
                              "step (20,000 in the full version), float64, std with ddof=1")
    ctx.protocol("D on data", "mean sigmoid(D(x)) over the same number of data samples")
    first = ctx.path("sweeps", "gaussian_1d")
    point = sorted(r["point"] for r in rows)[0] if rows else None
    if point is not None:
        with open(os.path.join(first, "points", point, "summary.json"), encoding="utf-8") as f:
            figure = json.load(f)["figure"]
        ctx.figure(figure if os.path.isabs(figure) else os.path.join(first, "points", point,
                                                                       figure),
                   f"{point}: data density (black), G's density (green), D(x) (blue)")
    ctx.figure(os.path.join(first, "figures", "std.png"), "G's std over seeds (data: 1.5)")
    ctx.number("std_mean", sum(r["std"] for r in rows) / max(len(rows), 1))
