"""A small "Are GANs Created Equal?": six GAN losses under one budget on the 8x8 digits.

Lucic et al. 2018 trained each loss over many hyperparameter settings and seeds with one
architecture and budget, and found the distributions of FID overlapping: no loss wins
consistently once the search and the budget are the same. Here the
same question at CPU scale: the DCGAN of experiments/dcgan_digits.py on scikit-learn's embedded
8x8 digits, every loss with the same networks (D without BatchNorm for all six, because the
gradient penalties of WGAN-GP and DRAGAN need per-sample D outputs), the same Adam, steps,
batch and EMA of G, and the same sweep: learning rates LRS (G and D together) x SEEDS seeds.
WGAN-GP and DRAGAN add their penalty with lambda = 10 as in the paper; no loss gets extra D
steps (one D step per G step for all: the same number of updates, not the same wall time).
Quality is the Fréchet distance in the features of ganjax's digit CNN (`eval/classifier_fd`,
2,500 samples of the EMA generator against the 1,797 digits), not the paper's Inception FID on
28x28 MNIST. The box plot shows every point per loss and, Lucic's protocol in small, the
per-seed values of each loss's best learning rate (lowest mean over seeds; chosen on the same
seeds it is shown on, the same optimism for every loss). The check of the paper's conclusion
is computed: one loss wins when the interval mean +- 2 sem of its best-lr values lies wholly
below every other loss's.

Time: 6 losses x 3 learning rates x 5 seeds = 90 runs of 5,000 steps, one after another (image
sweep points do not vectorize); measured alone on 2 CPU cores (2026-12-07): 1155 s, ~13 s a
run (the steps at ~500/s, then the evaluation). --quick: one learning rate, 40 steps, six runs,
~2.5 min, 35 s of it training the digit CNN on first use (it is cached after).

What the full run found (5 seeds): no loss wins beyond the seed spread, as the paper concludes;
LSGAN is the one loss clearly behind (its best 32.4 against 23.6-25.5). Every loss's best
learning rate is the grid's largest, 1e-3, so a wider grid may move the best values.
"""

import math

import numpy as np

PAPER = ("Lucic, Kurach, Michalski, Gelly & Bousquet 2018, Are GANs Created Equal? A "
         "Large-Scale Study: FID distributions and best FID per loss")
COMPARES = ("classifier-feature FD of six losses (MM, NS, LS, WGAN-GP, hinge, DRAGAN) over a "
            "learning-rate x seed sweep at one budget; does any loss win beyond the seed spread")
FULL_TIME = "~20 min"  # measured (see the docstring)
QUICK_TIME = "~2.5 min"
SEEDS = 5


SPEC = "dcgan_digits"
# (name, overrides): the losses of the study; the penalties' lambda = 10 as in Lucic et al.
LOSSES = (("MM GAN", {"loss.name": "minimax"}),
          ("NS GAN", {"loss.name": "non_saturating"}),
          ("LSGAN", {"loss.name": "least_squares"}),
          ("WGAN-GP", {"loss.name": "wasserstein", "penalty.name": "wgan_gp",
                       "penalty.weight": 10.0}),
          ("hinge", {"loss.name": "hinge"}),
          ("DRAGAN", {"loss.name": "non_saturating", "penalty.name": "dragan",
                      "penalty.weight": 10.0}))
LRS = (1e-4, 3e-4, 1e-3)
STEPS = 5_000
QUICK_LRS = (2e-4,)  # one point per loss and seed: six compilations dominate --quick
QUICK_STEPS = 40
# Every loss gets these (the budget and the architecture are the same for all).
COMMON = {"model.d_batch_norm": False, "eval.cnn_metrics": True, "eval.class_metrics": False,
          "eval.num_samples": 2_500}
METRIC = "classifier_fd"
# Lucic et al. 2018, best FID per loss (ANCHORS.md, a reprint): MNIST, Fashion, CIFAR-10,
# CelebA. The paper has no hinge loss; we run no WGAN (clipping) or BEGAN.
PAPER_FID = {"MM GAN": ("9.8", "29.6", "72.7", "65.6"), "NS GAN": ("6.8", "26.5", "58.5", "55.0"),
             "LSGAN": ("7.8", "30.7", "87.1", "53.9"), "WGAN": ("6.7", "21.5", "55.2", "41.3"),
             "WGAN-GP": ("20.3", "24.5", "55.8", "30.0"),
             "DRAGAN": ("7.6", "27.7", "69.8", "42.3"), "BEGAN": ("13.1", "22.9", "71.4", "38.9")}
WINS_BY = 2.0  # a win: mean + WINS_BY sem below every other loss's mean - WINS_BY sem


def slug(name: str) -> str:
    """A folder name for a loss: "WGAN-GP" -> "wgan_gp"."""
    return name.lower().replace(" ", "_").replace("-", "_")


def fds(rows, lr: float | None = None) -> list[float]:
    """The FDs of the finished points of `rows` (those at learning rate `lr` if given), in seed
    order."""
    return [r[METRIC] for r in sorted(rows, key=lambda r: r["seed"])
            if r["status"] == "finished" and METRIC in r
            and (lr is None or math.isclose(r["optim.g_lr"], lr))]


def best_lr(rows, lrs) -> tuple[float | None, list[float]]:
    """(the learning rate with the lowest mean FD over its finished seeds, those FDs in seed
    order); (None, []) when no point finished."""
    best, best_values = None, []
    for lr in lrs:
        values = fds(rows, lr)
        if values and (best is None or np.mean(values) < np.mean(best_values)):
            best, best_values = lr, values
    return best, best_values


def interval(values) -> tuple[float, float, float]:
    """(mean, mean - WINS_BY sem, mean + WINS_BY sem); the bounds are NaN below two values."""
    from ganjax.reproduce.context import mean_sem

    mean, sem, _ = mean_sem(values)
    return mean, mean - WINS_BY * sem, mean + WINS_BY * sem


def clear_winner(groups: dict) -> tuple[str, str | None, str]:
    """(verdict, winner, why in words) of {loss: best-lr FDs}: verdict "wins" when the loss
    with the lowest mean has its mean + WINS_BY sem below every other loss's mean - WINS_BY sem
    (winner: that loss), "no winner" when its interval overlaps another's, "undecided" when a
    loss has fewer than two values (no seed spread to judge by) or fewer than two losses
    finished."""
    stats = {name: interval(v) for name, v in groups.items() if len(v)}
    if len(stats) < 2:
        return "undecided", None, "fewer than two losses have finished points"
    if any(math.isnan(lo) for _, lo, _ in stats.values()):
        return "undecided", None, "a loss has fewer than two seeds: no seed spread to judge by"
    lowest = min(stats, key=lambda n: stats[n][0])
    overlap = [n for n in stats if n != lowest and stats[lowest][2] >= stats[n][1]]
    if not overlap:
        return "wins", lowest, (f"{lowest}'s mean + {WINS_BY:g} sem ({stats[lowest][2]:.4g}) "
                                f"is below every other loss's mean - {WINS_BY:g} sem")
    return "no winner", None, (f"the lowest mean, {lowest}'s ({stats[lowest][0]:.4g}; + "
                               f"{WINS_BY:g} sem: {stats[lowest][2]:.4g}), overlaps within "
                               f"{WINS_BY:g} sem with {', '.join(overlap)}")


VERDICTS = {"wins": "**Ours:** {winner} wins beyond the seed spread ({why}), unlike the paper's "
                    "conclusion.",
            "no winner": "**Ours:** no loss wins beyond the seed spread ({why}); as the paper "
                         "concludes, no loss is consistently better at a fair budget.",
            "undecided": "**Ours:** undecided ({why}); this run does not check the paper's "
                         "conclusion."}


def run(ctx) -> None:
    from ganjax.outputs.study_figures import plot_boxes

    lrs, steps = (QUICK_LRS, QUICK_STEPS) if ctx.quick else (LRS, STEPS)
    schedule = {"train.steps": steps, "train.eval_every": steps,
                "train.log_every": max(steps // 10, 1), "train.scan_steps": min(50, steps)}
    if ctx.quick:  # a short EMA window, so that 40 steps show more than the initial G
        schedule.update({"eval.num_samples": 500, "eval.grid_size": 16, "optim.ema_decay": 0.9})
    lr_axis = "optim.g_lr={0};optim.d_lr={0}".format(",".join(f"{lr:g}" for lr in lrs))
    every, best, table_rows = {}, {}, []
    for name, overrides in LOSSES:
        out = ctx.sweep(f"loss_{slug(name)}", SPEC, [lr_axis, f"seed=0:{len(ctx.seeds)}"],
                        {**COMMON, **schedule, **overrides})
        rows = out["rows"]
        every[name] = fds(rows)
        lr, best[name] = best_lr(rows, lrs)
        for v in lrs:
            mean, low, _ = interval(fds(rows, v))
            diverged = sum(r["status"] == "diverged" and math.isclose(r["optim.g_lr"], v)
                           for r in rows)
            table_rows.append([name, f"{v:g}", len(fds(rows, v)), diverged, mean,
                               mean - low])
        ctx.compare("Best-learning-rate classifier FD per loss (ours) beside the paper's best "
                    "FID on MNIST", name, f"classifier FD at lr {lr:g}" if lr else
                    "classifier FD", best[name],
                    f"{PAPER_FID[name][0]} (FID)" if name in PAPER_FID else "",
                    "not comparable in value: another metric network, dataset and scale")
        ctx.number(f"fd/{name}/every_point", every[name])
        ctx.number(f"fd/{name}/best_lr", best[name])
        ctx.number(f"best_lr/{name}", lr)
        ctx.number(f"diverged/{name}", sum(r["status"] == "diverged" for r in rows))
    ctx.table("Every learning rate: classifier FD over seeds", ["loss", "lr (G and D)",
              "finished", "diverged", "mean FD", f"{WINS_BY:g} sem"], table_rows)
    verdict, winner, why = clear_winner(best)
    ctx.number("verdict", verdict)
    ctx.number("winner", winner)
    ctx.text(VERDICTS[verdict].format(winner=winner, why=why))
    path = plot_boxes([(f"every point ({len(lrs)} learning rate{'s' if len(lrs) > 1 else ''} "
                        f"x {len(ctx.seeds)} seed{'s' if len(ctx.seeds) > 1 else ''})", every),
                       ("best learning rate per loss, one value per seed", best)],
                      ctx.path("figures", "fd_boxes.png"), "classifier-feature FD (lower is "
                      "better)", f"Six losses, one budget: DCGAN on 8x8 digits, {steps} steps")
    ctx.figure(path, "Classifier-feature FD per loss: every sweep point (left) and the best "
                     "learning rate's seeds (right)")
    ctx.table("Lucic et al. 2018, best FID per loss (as reprinted; FID of 10k samples, "
              "Inception features)", ["loss", "MNIST", "Fashion-MNIST", "CIFAR-10",
                                               "CelebA"],
              [[name, *fids] for name, fids in PAPER_FID.items()])
    ctx.text("The paper's rows are Inception FIDs on 28x28 MNIST (and larger datasets) after a "
             "search of 100 wide and 50 narrow hyperparameter draws, the best re-run with 50 "
             "seeds; ours are classifier-feature Fréchet distances on 8x8 digits after "
             f"{len(lrs)} learning rate(s) x {len(ctx.seeds)} seed(s). Only orderings and "
             "overlaps compare, not values. The paper has WGAN (weight clipping) and BEGAN, not "
             "the hinge loss; we have hinge, not those two. Its own table shows no loss best on "
             "every dataset.")
    ctx.protocol("classifier FD", "eval/classifier_fd at the last step: the Fréchet distance "
                 "between the 128-d features of ganjax's digit CNN (trained once on the digits, "
                 "ganjax.evaluation.digit_classifier) of eval.num_samples samples of the EMA "
                 "generator (2,500 in the full version) and of the 1,797 digits")
    ctx.protocol("winner", f"the loss with the lowest mean best-lr FD, if its mean + {WINS_BY:g} "
                 f"sem is below every other loss's mean - {WINS_BY:g} sem (sem over seeds); "
                 f"diverged points count in 'diverged', not in the FDs")
