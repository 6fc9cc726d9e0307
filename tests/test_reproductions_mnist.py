"""The MNIST reproductions of issue 14: Goodfellow et al. 2014 Table 1, CGAN, InfoGAN, GMMN and the
DCGAN features, each run once with --quick on the offline 10k-digit subset (one seed).

Each report is checked against what its recipe computed: the files it names exist, every
comparison's number is the one in the run's summary, metrics.jsonl or cached evaluation, and
report.md prints it as formatted. The features reproduction copies the DCGAN run that the
Goodfellow reproduction trained in the folder beside it (the same experiment, overrides and
seed) instead of training it again.
"""

from __future__ import annotations

import json
import math
import os
import pathlib

import pytest

from ganjax.reproduce.context import format_mean_sem, mean_sem
from ganjax.reproduce.runner import reproduce

REPO = pathlib.Path(__file__).resolve().parent.parent
MNIST_DIR = pathlib.Path(os.environ.get("GANJAX_MNIST_DIR", REPO.parent / "shared/data/mnist"))
MNIST = MNIST_DIR / "train-first10k.npz"
NAMES = ("goodfellow2014_table1", "mirza2014_cgan", "chen2016_infogan", "li2015_gmmn",
         "radford2015_features")
PNG = b"\x89PNG\r\n\x1a\n"

pytestmark = pytest.mark.skipif(not MNIST.exists(),
                                reason=f"no offline MNIST subset at {MNIST} "
                                       f"(set GANJAX_MNIST_DIR)")


class Done:
    """One finished quick reproduction: its folder, results.json and report.md."""

    def __init__(self, workdir: pathlib.Path):
        self.workdir = workdir
        self.results = json.loads((workdir / "results.json").read_text())
        self.report = (workdir / "report.md").read_text()

    def json(self, *parts: str):
        return json.loads(self.workdir.joinpath(*parts).read_text())

    def comparison(self, row_start: str, metric: str) -> dict:
        rows = [c for c in self.results["comparisons"]
                if c["row"].startswith(row_start) and c["metric"] == metric]
        assert len(rows) == 1, (row_start, metric, self.results["comparisons"])
        return rows[0]


@pytest.fixture(scope="module")
def quick(tmp_path_factory):
    """quick(name): the reproduction `name` run once with --quick, one seed, offline MNIST."""
    root = tmp_path_factory.mktemp("reproductions")
    done: dict[str, Done] = {}

    def get(name: str) -> Done:
        if name not in done:
            workdir = root / name
            if name == "radford2015_features":  # trains the Goodfellow recipe's DCGAN run
                get("goodfellow2014_table1")
            reproduce(name, str(workdir), quick=True, seeds=1, mnist=f"npz:{MNIST}",
                      log=lambda _: None)
            done[name] = Done(workdir)
        return done[name]

    return get


def shown(values) -> str:
    """A comparison's number as report.md prints it."""
    return format_mean_sem(*mean_sem(values))


@pytest.mark.parametrize("name", NAMES)
def test_every_artefact_is_written_and_every_number_printed(quick, name):
    done = quick(name)
    r = done.results
    assert r["name"] == name and r["quick"] is True and r["seeds"] == [0]
    assert r["figures"] and r["comparisons"]
    for figure in r["figures"]:
        path = done.workdir / figure["path"]
        assert path.read_bytes()[:8] == PNG, path
        assert f"]({figure['path']})" in done.report
    for c in r["comparisons"]:
        assert c["n"] == 1 and all(math.isfinite(v) for v in c["values"]), c
        assert f"| {c['row']} | {c['metric']} | {shown(c['values'])} |" in done.report
    assert any(t.startswith("MNIST used: `npz:") or t.startswith("--quick trains `")
               for t in r["texts"])
    for command in r["commands"]:
        assert command.startswith("ganjax train --config ") and command in done.report


def test_goodfellow_parzen_is_the_cached_evaluation(quick):
    done = quick("goodfellow2014_table1")
    evaluation = done.json("cache", "parzen_dcgan_seed0_n300.json")
    row = done.comparison("ganjax DCGAN", "Parzen log-likelihood (nats)")
    assert row["values"] == [evaluation["metrics"]["parzen_ll"]]
    assert row["paper"].startswith("225 +- 2")
    assert done.results["numbers"]["dcgan/parzen_ll_mean"] == evaluation["metrics"]["parzen_ll"]
    parzen = evaluation["protocol"]["parzen"]
    assert evaluation["protocol"]["num_generated"] == 300  # --quick; the full version: 10,000
    assert parzen["validation"]["count"] == 100 and parzen["test"]["count"] == 300
    assert f"{evaluation['metrics']['parzen_ll_se']:.2f}" in done.report  # per-seed table
    for model, paper in (("DBN", "138 +- 2"), ("Stacked CAE", "121 +- 1.6"),
                         ("Deep GSN", "214 +- 1.1")):
        assert f"| {model} | {paper} |" in done.report
    assert "Theis" in done.report
    assert "MNIST used: `npz:" in done.report and "not held out" in done.report


def test_cgan_reports_its_summary_accuracy_and_a_per_class_parzen(quick):
    done = quick("mirza2014_cgan")
    summary = done.json("runs", "cgan_seed0", "summary.json")
    accuracy = done.comparison("ganjax conditional DCGAN", "conditional accuracy")
    assert accuracy["values"] == [summary["eval/conditional_accuracy"]]
    evaluation = done.json("cache", "parzen_cgan_seed0_n300.json")
    parzen = done.comparison("ganjax conditional DCGAN", "Parzen log-likelihood (nats)")
    assert parzen["values"] == [evaluation["metrics"]["parzen_ll"]]
    assert parzen["paper"].startswith("132 +- 1.8")
    assert evaluation["protocol"]["labels"].endswith("30 per class")  # 300 samples, 10 classes
    assert [f["path"] for f in done.results["figures"]] == [
        "figures/cgan_seed0_latent_classes.png"]


def test_infogan_error_is_one_minus_the_code_accuracy_and_the_bound_is_the_logged_one(quick):
    done = quick("chen2016_infogan")
    summary = done.json("runs", "infogan_seed0", "summary.json")
    error = done.comparison("ganjax InfoGAN", "code-to-class error of c1")
    assert error["values"] == [pytest.approx(1.0 - summary["eval/code_accuracy"], abs=1e-12)]
    assert error["paper"].startswith("5%")
    records = [json.loads(line) for line in
               (done.workdir / "runs" / "infogan_seed0" / "metrics.jsonl").read_text().splitlines()]
    bound = [rec["train/g_mi_bound"] for rec in records if "train/g_mi_bound" in rec]
    assert done.comparison("ganjax InfoGAN", "L_I of c1 at the last logged step (nats)")[
        "values"] == [bound[-1]]
    paths = sorted(f["path"] for f in done.results["figures"])
    assert paths == ["figures/infogan_seed0_latent_codes_c0.png",
                     "figures/infogan_seed0_latent_codes_c1.png", "figures/mi_bound.png"]
    if 1.0 - summary["eval/code_accuracy"] > 0.10:  # 20 steps: far from the paper's 5%
        assert f"code-to-class error of {shown(error['values'])} against 5%" in done.report


def test_gmmn_scores_both_models_with_their_cached_evaluations(quick):
    done = quick("li2015_gmmn")
    for label, row, paper in (("gmmn", "ganjax GMMN, pixel space", "147 +- 2"),
                              ("gmmn_ae", "ganjax GMMN+AE", "282 +- 2")):
        evaluation = done.json("cache", f"parzen_{label}_seed0_n300.json")
        c = done.comparison(row, "Parzen log-likelihood (nats)")
        assert c["values"] == [evaluation["metrics"]["parzen_ll"]] and c["paper"].startswith(paper)
        assert done.results["numbers"][f"{label}/parzen_ll"] == c["values"]
    assert len(done.results["figures"]) == 2


def test_features_compare_d_with_pixels_and_a_random_d_on_the_same_labels(quick):
    done = quick("radford2015_features")
    trained = quick("goodfellow2014_table1").json("runs", "dcgan_seed0", "summary.json")
    copied = done.json("runs", "dcgan_seed0", "summary.json")
    assert copied["copied_from"] == str(quick("goodfellow2014_table1").workdir / "runs" /
                                        "dcgan_seed0")
    assert copied["figure"] == str(done.workdir / "runs" / "dcgan_seed0" / "figures" /
                                   "final.png")
    # Copied, not trained again: its time is the training time of the run it copies.
    assert done.results["step_times_s"]["dcgan_seed0"] == trained["wall_time_s"]
    assert any("`goodfellow2014_table1` trained with the same config were copied" in t
               for t in done.results["texts"])
    features = done.json("cache", "features_dcgan_seed0_labels30_100.json")
    assert features["protocol"]["label_counts"] == [30, 100] and \
        features["protocol"]["test"]["count"] == 500
    labels = {"d_trained": "D features (trained)", "d_random": "D features (random init)",
              "pixels": "raw pixels"}
    for name, row in labels.items():
        for n in (30, 100):
            c = done.comparison(f"{row}, {n} labels", "test accuracy")
            assert c["values"] == features["results"][name]["by_labels"][str(n)]["accuracy"]
            assert done.results["numbers"][f"features/{name}/{n}"] == c["values"]
    assert "22.48% error" in done.report and "82.8%" in done.report
