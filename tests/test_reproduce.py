"""`ganjax reproduce` (issue 14): recipes, the context they run in, reports, resuming, gallery.

The toy reproductions run here with --quick (one seed) and their reports are checked against
the sweep tables they were computed from; the Dirac-GAN recipe is checked against an
independent float64 computation in tests/test_dirac.py.
"""

from __future__ import annotations

import csv
import json
import math
import os
import pathlib
import subprocess
import sys
import time

import numpy as np
import pytest

from ganjax.cli import EXIT_CONFIG_ERROR, main
from ganjax.errors import ConfigError
from ganjax.reproduce import recipe as recipe_lib
from ganjax.reproduce.context import Context, difference_sign, format_mean_sem, mean_sem
from ganjax.reproduce.gallery import update_readme, write_gallery
from ganjax.reproduce.runner import reproduce

REPO = pathlib.Path(__file__).resolve().parent.parent
RECIPE_FILES = sorted(p.stem for p in (REPO / "experiments" / "reproductions").glob("*.py")
                      if not p.name.startswith("_"))
TOY_REPORTS = ("goodfellow2014_fig1", "veegan2017_table1_ring", "veegan2017_table1_grid")


# A 20-step toy run or sweep point, for the tests of how a Context reads back and times work.
TINY = {"train.steps": "20", "train.eval_every": "20", "train.log_every": "10"}


def toy_context(tmp_path, seeds: int = 1) -> Context:
    """A quiet Context of a toy recipe in tmp_path (the tests give it their own work)."""
    return Context(recipe_lib.read_recipe("goodfellow2014_fig1"), str(tmp_path), quick=True,
                   seeds=seeds, log=lambda _: None)


def test_every_recipe_file_is_listed_with_its_paper_and_times(capsys):
    assert recipe_lib.recipe_names() == RECIPE_FILES
    assert {"goodfellow2014_fig1", "mescheder2018_dirac", "veegan2017_table1_ring",
            "veegan2017_table1_grid"} <= set(RECIPE_FILES)
    assert main(["reproduce", "--list"]) == 0
    out = capsys.readouterr().out
    for name in RECIPE_FILES:
        r = recipe_lib.read_recipe(name)
        assert r.paper and r.compares and r.full_time.startswith("~") and r.seeds >= 1
        assert f"{name}  (full {r.full_time}, --quick {r.quick_time}" in out
        assert r.paper in out


def test_listing_imports_no_jax():
    code = ("import sys; from ganjax.cli import main; main(['reproduce', '--list']); "
            "assert 'jax' not in sys.modules, 'jax imported'")
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)


def test_bad_requests_get_one_line_and_exit_code(capsys, tmp_path):
    assert main(["reproduce", "no_such_paper"]) == EXIT_CONFIG_ERROR
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "no reproduction named 'no_such_paper'" in err
    assert "mescheder2018_dirac" in err
    assert main(["reproduce"]) == EXIT_CONFIG_ERROR
    assert "needs a NAME" in capsys.readouterr().err
    assert main(["reproduce", "mescheder2018_dirac", "--seeds", "0",
                 "--workdir", str(tmp_path / "w")]) == EXIT_CONFIG_ERROR
    assert "--seeds 0: must be >= 1" in capsys.readouterr().err
    assert not (tmp_path / "w").exists()  # nothing left behind that blocks the fixed command
    with pytest.raises(SystemExit):
        main(["reproduce", "mescheder2018_dirac", "--config.train.steps=5"])
    assert "takes no --config overrides" in capsys.readouterr().err


def test_a_recipe_without_its_constants_is_refused(tmp_path, monkeypatch):
    (tmp_path / "broken.py").write_text('"""Broken."""\nPAPER = "x"\n\ndef run(ctx):\n    pass\n')
    monkeypatch.setattr(recipe_lib, "recipes_dir", lambda: str(tmp_path))
    with pytest.raises(ConfigError, match="missing: COMPARES, FULL_TIME, QUICK_TIME"):
        recipe_lib.read_recipe("broken")


def test_mean_and_standard_error_match_numpy():
    values = [0.9, 0.95, 0.97, float("nan"), 0.99]
    mean, sem, n = mean_sem(values)
    finite = np.array([0.9, 0.95, 0.97, 0.99])
    assert n == 4 and mean == pytest.approx(finite.mean())
    assert sem == pytest.approx(finite.std(ddof=1) / 2.0)
    assert format_mean_sem(mean, sem, n) == f"{finite.mean():.4g} +- {sem:.2g} (n=4)"
    assert format_mean_sem(*mean_sem([2.5])) == "2.5"
    assert format_mean_sem(*mean_sem([])) == "n/a"


def _rows(sweep_dir: pathlib.Path) -> list[dict]:
    with open(sweep_dir / "results.csv", newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _results(workdir: pathlib.Path) -> dict:
    return json.loads((workdir / "results.json").read_text())


def _row(results: dict, table_start: str, row: str, metric: str) -> dict:
    return next(c for c in results["comparisons"] if c["table"].startswith(table_start)
                and c["row"] == row and c["metric"] == metric)


@pytest.fixture(scope="module")
def toy_reports(tmp_path_factory) -> pathlib.Path:
    root = tmp_path_factory.mktemp("reproductions")
    for name in TOY_REPORTS:
        reproduce(name, str(root / f"{name}_quick"), quick=True, seeds=1, log=lambda _: None)
    return root


def test_a_difference_has_a_sign_only_beyond_two_standard_errors():
    # [1, 2, 3]: mean 2, sem 1 / sqrt 3 = 0.577, so 2 > 2 * 0.577; [1, -1, 0.5]: mean 0.167,
    # sem 0.6; a single seed has no spread.
    assert difference_sign([1.0, 2.0, 3.0]) == ("+", "2 +- 0.58 (n=3)")
    assert difference_sign([-1.0, -2.0, -3.0])[0] == "-"
    assert difference_sign([1.0, -1.0, 0.5])[0] == "0"
    assert difference_sign([1.0, 2.0, 3.0], within=4.0)[0] == "0"  # 2 <= 4 * 0.577
    assert difference_sign([3.0]) == ("?", "3")


def test_goodfellow_fig1_reports_the_numbers_its_sweep_computed(toy_reports):
    workdir = toy_reports / "goodfellow2014_fig1_quick"
    results = _results(workdir)
    (row,) = _rows(workdir / "sweeps" / "gaussian_1d")
    assert row["status"] == "finished"
    for metric, key in (("mean", "mean"), ("std", "std"), ("mean D(x), x ~ data", "d_on_data")):
        entry = _row(results, "Ours", "G's samples" if key != "d_on_data" else "D on data",
                     metric)
        assert entry["values"] == [pytest.approx(float(row[key]), rel=1e-6)]
    report = (workdir / "report.md").read_text()
    assert f"| G's samples | std | {float(row['std']):.4g} |" in report
    assert "quick (--quick" in report and "--workdir" in report and "Hardware:" in report
    for figure in results["figures"]:
        assert (workdir / figure["path"]).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("part,dataset,num_modes", [("ring", "ring8", 8),
                                                    ("grid", "grid25", 25)])
def test_veegan_table_compares_every_setup_with_its_published_row(toy_reports, part, dataset,
                                                                  num_modes):
    workdir = toy_reports / f"veegan2017_table1_{part}_quick"
    results = _results(workdir)
    labels = {"_vanilla": "ganjax plain GAN", "": "ganjax recommended",
              "_fidelity": "ganjax fidelity"}
    for suffix, label in labels.items():
        (row,) = _rows(workdir / "sweeps" / f"{dataset}{suffix}")
        hq = _row(results, dataset, label, "high-quality %")
        assert hq["values"] == [pytest.approx(100 * float(row["hq_fraction"]), rel=1e-6)]
        modes = _row(results, dataset, label, "modes")
        assert modes["values"] == [float(row["modes"])]
        assert modes["paper"].endswith("(GAN (PacGAN))" if suffix == "_vanilla" else "(PacGAN3)")
        spread = _row(results, dataset, label, "spread_ratio")
        assert spread["values"] == [pytest.approx(float(row["spread_ratio"]), rel=1e-6)]
        complete = int(float(row["modes"]) == num_modes)
        assert (f"{dataset}, {label}: {complete} of 1 seeds capture all {num_modes} modes."
                in results["texts"])
    assert [t["title"] for t in results["tables"]] == [f"{dataset}: published rows"]
    assert len(results["figures"]) == 3
    assert all((workdir / f["path"]).exists() for f in results["figures"])


def test_a_finished_reproduction_resumes_without_training_again(toy_reports):
    workdir = toy_reports / "goodfellow2014_fig1_quick"
    before = _results(workdir)
    (workdir / "report.md").unlink()
    messages = []
    reproduce("goodfellow2014_fig1", str(workdir), quick=True, seeds=1, log=messages.append)
    after = _results(workdir)
    assert not any("training" in m or ": sweep " in m for m in messages), messages
    assert after["step_times_s"] == before["step_times_s"]  # nothing was computed again
    assert after["comparisons"] == before["comparisons"]
    assert (workdir / "report.md").exists()


def test_a_sweep_run_outside_the_reproduction_counts_its_own_time(tmp_path):
    """`ganjax sweep` into a reproduction's folder is read back as done; the report's time then
    counts the sweep's own: a vectorized group's wall time, shared by its points."""
    from ganjax.sweep import driver

    overrides = TINY
    sweep_dir = str(tmp_path / "sweeps" / "toy")
    driver.run_groups(driver.plan("gaussian_1d", overrides, ["seed=0:2"], sweep_dir),
                      log=lambda _: None)
    ctx = toy_context(tmp_path, seeds=2)
    out = ctx.sweep("toy", "gaussian_1d", ["seed=0:2"], overrides)
    assert [r["status"] for r in out["rows"]] == ["finished", "finished"]
    summaries = [json.loads((p / "summary.json").read_text())
                 for p in sorted((tmp_path / "sweeps" / "toy" / "points").iterdir())]
    assert [s["sweep"]["replicas_in_group"] for s in summaries] == [2, 2]
    assert summaries[0]["wall_time_s"] == summaries[1]["wall_time_s"] > 0  # one program
    assert ctx.step_times == {"toy": pytest.approx(summaries[0]["wall_time_s"])}
    again = toy_context(tmp_path, seeds=2)
    again.sweep("toy", "gaussian_1d", ["seed=0:2"], overrides)
    assert again.step_times == ctx.step_times  # read back, not counted twice


def interrupted_sweep_times(ctx: Context, tmp_path, before_interrupt) -> dict:
    """Runs ctx's 1-point toy sweep "toy" with the training replaced by
    `before_interrupt(plan)` and then Ctrl-C; the step times left on disk."""
    from ganjax.sweep import driver

    def interrupted(plan, log):
        before_interrupt(plan)
        raise KeyboardInterrupt
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(driver, "run_groups", interrupted)
        with pytest.raises(KeyboardInterrupt):
            ctx.sweep("toy", "gaussian_1d", ["seed=0:1"], TINY)
    return json.loads((tmp_path / "cache" / "step_times.json").read_text())


def test_a_sweep_trained_afresh_replaces_the_time_of_the_one_it_replaces(tmp_path):
    """A recipe change means clearing a sweep's folder and training it again; the report's time
    then counts the new sweep only, not also the results that are gone."""
    ctx = toy_context(tmp_path)
    ctx._add_time("toy", 1e6)  # the sweep this one replaces, on disk
    stored = interrupted_sweep_times(ctx, tmp_path, lambda plan: None)
    assert stored["toy"] < 1  # the old 1e6 s forgotten before the new sweep trains
    again = toy_context(tmp_path)
    again.sweep("toy", "gaussian_1d", ["seed=0:1"], TINY)
    assert 0 < again.step_times["toy"] < 1e6


def test_an_interrupted_sweep_keeps_its_time_when_it_resumes(tmp_path):
    """Ctrl-C in the middle of a sweep: the points it trained part-way resume from their
    checkpoints, so the seconds spent before the interrupt count in the report's time."""
    def trained_part_way(plan):
        for point in plan.points:
            os.makedirs(point.workdir(str(tmp_path / "sweeps" / "toy")), exist_ok=True)
        time.sleep(0.3)
    stored = interrupted_sweep_times(toy_context(tmp_path), tmp_path, trained_part_way)
    assert stored["toy"] >= 0.3
    again = toy_context(tmp_path)
    again.sweep("toy", "gaussian_1d", ["seed=0:1"], TINY)
    assert again.step_times["toy"] > stored["toy"]


def test_a_finished_run_from_an_older_ganjax_is_read_back_not_trained_again(tmp_path):
    """A run whose config.json lacks a field ganjax added later (its default changes nothing)
    is the same run; a real change of config is not."""
    overrides = TINY
    ctx = toy_context(tmp_path)
    first = ctx.train("toy", "gaussian_1d", overrides)
    path = tmp_path / "runs" / "toy" / "config.json"
    saved = json.loads(path.read_text())
    del saved["model"]["d_group_features"]  # as written before the field existed
    path.write_text(json.dumps(saved))
    from ganjax.run import loop

    def trained(*args, **kwargs):
        raise AssertionError("trained again")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(loop, "train", trained)
        assert ctx.train("toy", "gaussian_1d", overrides) == first
        with pytest.raises(AssertionError, match="trained again"):
            ctx.train("toy", "gaussian_1d", {**overrides, "optim.g_lr": 1e-4})


def test_a_run_another_reproduction_finished_with_the_same_config_is_copied(tmp_path):
    """share=(name,): the sibling folder's finished run is copied and its time counted; a
    different config, or a --workdir not named after the recipe, trains its own."""
    first = toy_context(tmp_path / "goodfellow2014_fig1")
    trained = first.train("toy", "gaussian_1d", TINY)
    other = Context(recipe_lib.read_recipe("mescheder2018_dirac"),
                    str(tmp_path / "mescheder2018_dirac"), quick=True, seeds=1,
                    log=lambda _: None)
    elsewhere = Context(other.recipe, str(tmp_path / "mine"), quick=True, seeds=1,
                        log=lambda _: None)
    from ganjax.run import loop

    def trains(*args, **kwargs):
        raise AssertionError("trained")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(loop, "train", trains)
        copied = other.train("toy", "gaussian_1d", TINY, share=("goodfellow2014_fig1",))
        third = Context(recipe_lib.read_recipe("li2015_gmmn"), str(tmp_path / "li2015_gmmn"),
                        quick=True, seeds=1, log=lambda _: None)
        with pytest.raises(AssertionError, match="trained"):
            third.train("toy", "gaussian_1d", {**TINY, "optim.g_lr": 1e-4},
                        share=("goodfellow2014_fig1",))
        with pytest.raises(AssertionError, match="trained"):
            elsewhere.train("toy", "gaussian_1d", TINY, share=("goodfellow2014_fig1",))
    assert {k: v for k, v in copied.items() if k not in ("figure", "copied_from")} == \
        {k: v for k, v in trained.items() if k != "figure"}
    assert os.path.exists(copied["figure"]) and "mescheder2018_dirac" in copied["figure"]
    assert other.step_times["toy"] == trained["wall_time_s"]
    assert any("`goodfellow2014_fig1` trained with the same config were copied" in t
               for t in other.texts)
    assert not (tmp_path / "mescheder2018_dirac" / "runs" / "toy.copying").exists()


def test_gallery_shows_each_report_and_names_the_missing(toy_reports, tmp_path):
    out = tmp_path / "docs" / "reproductions.md"
    path, status = write_gallery(str(out), str(toy_reports))
    text = out.read_text()
    assert path == str(out)
    missing = status["missing"]
    assert set(missing) == set(RECIPE_FILES) - set(TOY_REPORTS)
    assert sorted(status["refreshed"]) == sorted(TOY_REPORTS)
    assert status["kept"] == []
    assert "`ganjax reproduce goodfellow2014_fig1 --quick`: quick (reduced) version" in text
    assert "### ring8: ours (1 seed) against the published rows" in text
    assert "### grid25: ours (1 seed) against the published rows" in text
    for name in missing:
        assert f"Not run yet: `ganjax reproduce {name}`" in text
    images = sorted(os.listdir(tmp_path / "docs" / "images" / "reproductions"))
    assert len(images) == 2 + 6 and all(i.endswith(".png") for i in images)
    for image in images:
        assert f"(images/reproductions/{image})" in text


def test_gallery_keeps_sections_it_has_no_new_report_for(toy_reports, tmp_path):
    """A machine's runs folder holds some reproductions: the others keep their sections and
    figures, a quick report does not replace a full section, and a refreshed section drops
    the figures its earlier version had and it no longer shows."""
    out = tmp_path / "docs" / "reproductions.md"
    image_dir = tmp_path / "docs" / "images" / "reproductions"
    image_dir.mkdir(parents=True)
    full_gmmn = ("## li2015_gmmn: old title\n\n**Made by:** `ganjax reproduce li2015_gmmn`: "
                 "full version, seeds 0, 1, 2, elsewhere\n\n![a](images/reproductions/"
                 "li2015_gmmn__a.png)\n")
    full_fig1 = ("## goodfellow2014_fig1: old\n\n**Made by:** `ganjax reproduce "
                 "goodfellow2014_fig1`: full version, seeds 0-9\n\n| kept | table |\n")
    quick_veegan = ("## veegan2017_table1_ring: old\n\n**Made by:** `ganjax reproduce "
                    "veegan2017_table1_ring --quick`: quick (reduced) version, seed 0\n")
    out.write_text("# Reproductions\n\nold intro\n\n" + full_fig1 + "\n" + full_gmmn + "\n"
                   + quick_veegan)
    for image in ("li2015_gmmn__a.png", "veegan2017_table1_ring__gone.png",
                  "retired_recipe__old.png"):
        (image_dir / image).write_bytes(b"png")
    _, status = write_gallery(str(out), str(toy_reports))
    text = out.read_text()
    assert sorted(status["kept"]) == ["goodfellow2014_fig1", "li2015_gmmn"]
    assert status["refreshed"] == ["veegan2017_table1_grid", "veegan2017_table1_ring"]
    assert "li2015_gmmn" not in status["missing"]
    assert full_gmmn in text and full_fig1 in text and "old intro" not in text
    assert "`ganjax reproduce veegan2017_table1_ring --quick`: quick (reduced) version, " \
        "seed 0, " in text
    assert "## veegan2017_table1_ring: old" not in text
    assert (image_dir / "li2015_gmmn__a.png").exists()
    assert not (image_dir / "veegan2017_table1_ring__gone.png").exists()
    assert not (image_dir / "retired_recipe__old.png").exists()  # no recipe of that name
    assert text.index("## goodfellow2014_fig1") < text.index("## li2015_gmmn") < text.index(
        "## veegan2017_table1_ring")  # the recipes' order, whatever the old file's
    again = write_gallery(str(out), str(toy_reports))[1]
    assert again == status and out.read_text() == text  # refreshing twice changes nothing


def test_readme_blocks_are_filled_from_the_reports(toy_reports, tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text("# x\n<!-- reproduction: veegan2017_table1_grid -->\nold table\n"
                      "<!-- /reproduction -->\ntext\n<!-- reproduction: li2015_gmmn -->\nkept\n"
                      "<!-- /reproduction -->\n<!-- reproduction: goodfellow2014_fig1 -->\n"
                      "**Made by:** `ganjax reproduce goodfellow2014_fig1`: full version, "
                      "seeds 0-9\n<!-- /reproduction -->\n")
    assert update_readme(str(readme), str(toy_reports)) == ["veegan2017_table1_grid"]
    text = readme.read_text()
    assert "old table" not in text and "kept" in text and text.startswith("# x\n")
    assert "goodfellow2014_fig1`: full version, seeds 0-9" in text  # not replaced by --quick
    results = _results(toy_reports / "veegan2017_table1_grid_quick")
    for table in results["markdown_tables"]:
        assert table["markdown"] in text
    assert "`ganjax reproduce veegan2017_table1_grid --quick`" in text


def test_context_caches_a_computation_once(tmp_path):
    recipe = recipe_lib.read_recipe("mescheder2018_dirac")
    calls = []

    def compute():
        calls.append(1)
        return {"x": math.pi, "bad": float("nan")}

    for _ in range(2):
        ctx = Context(recipe, str(tmp_path), quick=True, seeds=1, log=lambda _: None)
        assert ctx.cached("thing", compute) == {"x": math.pi, "bad": None}
    assert len(calls) == 1
    assert set(json.loads((tmp_path / "cache" / "step_times.json").read_text())) == {"thing"}
