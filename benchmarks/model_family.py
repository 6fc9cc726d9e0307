"""The model family's done-when numbers on real MNIST, regenerated end to end.

Trains each experiment's default config on the offline MNIST training subset (the first 10,000
training digits, `npz:<mnist>/train-first10k.npz`), one after another with the `ganjax` CLI,
then judges 2,000 samples of each final checkpoint with the evaluation CNN and with a
differently built classifier (scikit-learn's logistic regression on pixels,
`ganjax.evaluation.classifier`), so that the conditional accuracy does not hold for ganjax's
own CNN only, and reads InfoGAN's final L_I from its log:

  cgan, cgan_5k     experiments/cgan_mnist.py (10k, 5k steps)   conditional accuracy
  projection        experiments/cgan_mnist.py:projection        conditional accuracy
  projection_cbn    the same with class-conditional BN in G     conditional accuracy
  acgan             experiments/acgan_mnist.py (D's classifier on real digits only)
  acgan_paper       experiments/acgan_mnist.py:paper (and on generated ones)
  infogan           experiments/infogan_mnist.py                code-to-class accuracy, L_I
  gmmn, gmmn_ae     experiments/gmmn_mnist.py (pixels, :ae)     classifier-feature FD
  dcgan             experiments/dcgan_mnist.py                  classifier-feature FD (reference)

  python benchmarks/model_family.py --mnist ../shared/data/mnist [--only cgan,infogan]
      [--root /tmp/model_family] [--markdown docs/model_family.md] [--reuse]
      [--config.KEY=VALUE ...]   # passed to every `ganjax train`

--reuse judges runs already in --root (one folder per run name) without training. With
--markdown, the rows of runs left out by --only are kept from the file's earlier table, so one
run can be re-judged without retraining the others.

Writes a markdown table with wall times and seeds (the README's "Model family" section is
pasted from it) and prints a final JSON line with every number.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# name: (experiment, what the judge fixes, extra overrides)
RUNS = {
    "cgan": ("experiments/cgan_mnist.py", "labels", []),
    "cgan_5k": ("experiments/cgan_mnist.py", "labels",
                ["--config.train.steps=5000", "--config.train.eval_every=1250"]),
    "projection": ("experiments/cgan_mnist.py:projection", "labels", []),
    "projection_cbn": ("experiments/cgan_mnist.py:projection", "labels",
                       ["--config.model.g_conditioning=batch_norm"]),
    "acgan": ("experiments/acgan_mnist.py", "labels", []),
    "acgan_paper": ("experiments/acgan_mnist.py:paper", "labels", []),
    "infogan": ("experiments/infogan_mnist.py", "codes", []),
    "gmmn": ("experiments/gmmn_mnist.py", None, []),
    "gmmn_ae": ("experiments/gmmn_mnist.py:ae", None, []),
    "dcgan": ("experiments/dcgan_mnist.py", None, []),
}
JUDGED = 2000  # samples per run judged by the second classifier


def train(name: str, spec: str, source: str, root: str, extra: list[str]) -> float:
    """Runs `ganjax train` for one experiment; returns its wall time in seconds."""
    workdir = os.path.join(root, name)
    cmd = ["ganjax", "train", "--config", spec, f"--config.data.source={source}",
           "--workdir", workdir, "--config.train.resume=false", "--overwrite",
           "--config.eval.cnn_metrics=true", *extra]
    print("$", " ".join(cmd), flush=True)
    start = time.perf_counter()
    subprocess.run(cmd, check=True, cwd=REPO)
    return time.perf_counter() - start


def last_logged(workdir: str, key: str) -> float | None:
    """The last value of `key` in a run's metrics.jsonl."""
    value = None
    with open(os.path.join(workdir, "metrics.jsonl")) as f:
        for line in f:
            record = json.loads(line)
            value = record.get(key, value)
    return value


def judge(workdir: str, kind: str | None) -> dict[str, float]:
    """Judges JUDGED samples of a run's final checkpoint (EMA generator, seed 1; labels or c1
    cycling 0..9) by the evaluation CNN and by a logistic regression on pixels fitted on 5,000
    training digits, and the Fréchet distance of their CNN features to JUDGED real digits."""
    import numpy as np

    from ganjax.evaluation import cache
    from ganjax.evaluation.class_scores import (classifier_frechet_distance,
                                                code_to_class_accuracy, conditional_accuracy)
    from ganjax.evaluation.classifier import load_classifier, predict
    from ganjax.evaluation.digit_classifier import labels_of, load_digit_classifier
    from ganjax.evaluation.reference import reference_set
    from ganjax.run.reopen import load_run
    from ganjax.run.sampling import generate

    run = load_run(workdir)
    cnn = load_digit_classifier(run.config, log=None)
    logreg, _ = load_classifier(run.config, cache.cache_dir())
    requested = np.arange(JUDGED) % 10
    fixed = {kind: list(range(10))} if kind else {}
    samples = generate(run, JUDGED, seed=1, **fixed)
    real = reference_set(run.config, JUDGED)
    logits, features = cnn.outputs(samples)
    out = {"steps": run.step, "cnn_held_out_accuracy": cnn.accuracy,
           "logreg_held_out_accuracy": float(logreg["accuracy"]),
           "classifier_fd": classifier_frechet_distance(features, cnn.features(real.images))}
    for judge_name, labels in (("cnn", labels_of(logits)), ("logreg", predict(logreg, samples))):
        if kind == "labels":
            out[f"{judge_name}_conditional_accuracy"] = conditional_accuracy(labels, requested)
        elif kind == "codes":
            out[f"{judge_name}_code_accuracy"] = code_to_class_accuracy(requested, labels, 10)[0]
    return out


def summarise(name: str, root: str, kind: str | None, seconds: float) -> dict[str, float]:
    workdir = os.path.join(root, name)
    with open(os.path.join(workdir, "config.json")) as f:
        config = json.load(f)
    row = {"wall_s": None if math.isnan(seconds) else round(seconds, 1), "seed": config["seed"],
           "ema_decay": config["optim"]["ema_decay"]}
    if kind == "codes":
        row["mi_bound"] = last_logged(workdir, "train/g_mi_bound")
        row["ln10"] = math.log(10)
    row.update(judge(workdir, kind))
    return row


def _cells(row: dict[str, float], name: str, timed: bool) -> dict[str, str]:
    """One table row as {column: text}."""
    def cell(key, fmt="{:.3f}"):
        return fmt.format(row[key]) if row.get(key) is not None else ""

    pair = lambda key: (f"{row['cnn_' + key]:.3f} / {row['logreg_' + key]:.3f}"  # noqa: E731
                        if "cnn_" + key in row else "")
    cells = {"run": name, "steps": str(row["steps"]), "seed": str(row["seed"]),
             "EMA decay": str(row["ema_decay"])}
    if timed:
        cells["wall time"] = "" if row["wall_s"] is None else f"{row['wall_s'] / 60:.1f} min"
    cells["cond. acc. CNN / LogReg"] = pair("conditional_accuracy")
    cells["code-to-class acc. CNN / LogReg"] = pair("code_accuracy")
    cells["L_I (ln 10 = 2.303)"] = cell("mi_bound")
    cells["classifier FD"] = cell("classifier_fd", "{:.1f}")
    return cells


def kept_rows(previous: str) -> dict[str, dict[str, str]]:
    """{run: {column: text}} of the table in a previously written markdown (empty if none)."""
    lines = [line for line in previous.splitlines() if line.startswith("| ")]
    if not lines:
        return {}
    split = lambda line: [cell.strip() for cell in line.strip().strip("|").split("|")]  # noqa
    header = split(lines[0])
    return {cells[0]: dict(zip(header, cells)) for cells in map(split, lines[1:])
            if not set(cells[0]) <= {"-"}}  # not the |---| separator


def markdown(rows: dict[str, dict[str, float]], source: str,
             previous: str = "") -> str:
    """The table of `rows` plus the rows of `previous` (an earlier table) for runs not judged
    this time, so that `--only NAME` refreshes one row; the wall-time column only when some
    run was trained here (or in the earlier table)."""
    timed = any(row["wall_s"] is not None for row in rows.values())
    table = kept_rows(previous)
    timed = timed or any("wall time" in cells for cells in table.values())
    table.update({name: _cells(row, name, timed) for name, row in rows.items()})
    columns = ["run", "steps", "seed", "EMA decay"] + (["wall time"] if timed else []) + [
        "cond. acc. CNN / LogReg", "code-to-class acc. CNN / LogReg", "L_I (ln 10 = 2.303)",
        "classifier FD"]
    lines = [f"Trained on `{source}` (the first 10,000 MNIST training digits), 2-core CPU; "
             f"{JUDGED} samples of each final generator (EMA when kept; noise seed 1), by "
             f"`python benchmarks/model_family.py`.", "",
             "| " + " | ".join(columns) + " |", "|" + " --- |" * len(columns)]
    order = [name for name in RUNS if name in table] + [name for name in table
                                                         if name not in RUNS]
    for name in order:
        lines.append("| " + " | ".join(table[name].get(col, "") for col in columns) + " |")
    held = next(iter(rows.values()), {})
    lines += ["", f"Judges' held-out accuracy on real digits: CNN "
                  f"{held.get('cnn_held_out_accuracy', float('nan')):.4f}, LogReg "
                  f"{held.get('logreg_held_out_accuracy', float('nan')):.4f}."]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mnist", default=os.path.join(REPO, "..", "shared", "data", "mnist"))
    parser.add_argument("--only", default=",".join(RUNS))
    parser.add_argument("--root", default="/tmp/model_family")
    parser.add_argument("--markdown", default=None,
                        help="write the table here too (rows of runs not judged now are kept)")
    parser.add_argument("--reuse", action="store_true",
                        help="summarise runs already in --root instead of training")
    args, extra = parser.parse_known_args()
    source = f"npz:{os.path.abspath(os.path.join(args.mnist, 'train-first10k.npz'))}"
    rows = {}
    for name in args.only.split(","):
        spec, kind, overrides = RUNS[name]
        seconds = (float("nan") if args.reuse else
                   train(name, spec, source, args.root, overrides + extra))
        rows[name] = summarise(name, args.root, kind, seconds)
        print(name, json.dumps(rows[name]), flush=True)
    previous = ""
    if args.markdown and os.path.exists(args.markdown):
        with open(args.markdown) as f:
            previous = f.read()
    table = markdown(rows, "npz:.../train-first10k.npz", previous)
    print(table)
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write(table)
    print(json.dumps({"runs": rows}))


if __name__ == "__main__":
    sys.exit(main())
