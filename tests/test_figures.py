"""What the figures draw: curve markers and reference lines, legends off the data, D's panel."""

import math

import numpy as np
import pytest

from ganjax.data import toy
from ganjax.evaluation.evaluator import ToyEvalResult, packed_d_note
from ganjax.outputs import figures
from ganjax.outputs.figures import Reference, ToyPanel

RING = toy.ring(8, 1.0, 0.01)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    figures._pyplot().close("all")


def _records_with_one_eval() -> list[dict]:
    """Train records every 50 steps and a single eval at step 200, as a short image run."""
    train = [{"step": s, "train/d_loss": 1.0 + s / 1000, "train/g_loss": 0.7} for s in
             (50, 100, 150, 200)]
    return train + [{"step": 200, "eval/modes": 3.0, "eval/hq_fraction": 0.4,
                     "eval/d_on_data": 0.7, "eval/protocol": {"generator": "ema"}}]


def _panel(fig, title: str):
    matches = [ax for ax in fig.axes if ax.get_title() == title]
    assert len(matches) == 1, [ax.get_title() for ax in fig.axes]
    return matches[0]


def _data_lines(ax) -> list:
    """The plotted series of an axes (reference lines are horizontal, two-point, dashed)."""
    return [line for line in ax.get_lines() if line.get_linestyle() == "-"]


def test_a_single_eval_point_is_drawn_with_a_marker():
    fig = figures.curves_figure(_records_with_one_eval())
    (line,) = _data_lines(_panel(fig, "Modes captured"))
    assert line.get_marker() == "o" and line.get_markersize() > 0
    np.testing.assert_array_equal(line.get_xdata(), [200])
    np.testing.assert_array_equal(line.get_ydata(), [3.0])
    ax = _panel(fig, "Modes captured")
    assert ax.get_xlim()[0] <= 200 <= ax.get_xlim()[1]
    assert ax.get_ylim()[0] <= 3.0 <= ax.get_ylim()[1]


def test_panels_have_titles_and_axis_labels():
    fig = figures.curves_figure(_records_with_one_eval(), title="run: training curves")
    drawn = [ax for ax in fig.axes if ax.axison]
    assert len(drawn) == 4  # losses, D's probability, modes, high-quality fraction
    for ax in drawn:
        assert ax.get_title() and ax.get_xlabel() == "step" and ax.get_ylabel()
    assert fig.get_suptitle() == "run: training curves"


def test_reference_lines_sit_at_the_given_values():
    references = figures.toy_curve_references(RING)
    fig = figures.curves_figure(_records_with_one_eval(), references=references)
    lines = {ax.get_title(): [tuple(line.get_ydata()) for line in ax.get_lines()
                              if line.get_linestyle() != "-"] for ax in fig.axes}
    assert lines["Modes captured"] == [(8.0, 8.0)]
    assert lines["High-quality samples"] == [(1.0, 1.0)]
    assert lines["D's mean probability at eval"] == [(0.5, 0.5)]  # built in: mean sigmoid(D)
    ax = _panel(fig, "Modes captured")
    assert ax.get_ylim()[1] > 8.0  # the target stays in view, though the data reach only 3
    assert "all 8 modes" in [t.get_text() for t in ax.get_legend().get_texts()]


def test_references_come_from_the_distribution():
    assert figures.toy_curve_references(toy.gaussian_1d(4.0, 1.5)) == {
        "eval/mean": [Reference(4.0, "target mean 4")],
        "eval/std": [Reference(1.5, "target std 1.5")]}
    grid = figures.toy_curve_references(toy.grid(25, 2.0, 0.05))
    assert grid["eval/modes"][0].value == 25
    assert [r.value for r in grid["eval/mode_kl"]] == [0.0, pytest.approx(math.log(25))]


def test_many_points_are_a_plain_line():
    records = [{"step": s, "train/d_loss": 1.0, "train/g_loss": 0.7} for s in range(100)]
    line = _data_lines(_panel(figures.curves_figure(records),
                              "Losses (mean over each log window)"))[0]
    assert line.get_marker() in (None, "None", "") and len(line.get_xdata()) == 100


def _ring_panel(**d) -> ToyPanel:
    rng = np.random.default_rng(0)
    real = RING.centers[rng.integers(0, 8, 500)] + 0.01 * rng.standard_normal((500, 2))
    fake = rng.standard_normal((500, 2)) * 0.6
    return ToyPanel(real, fake, **d)


def _overlaps(a, b) -> bool:
    return a.x0 < b.x1 and b.x0 < a.x1 and a.y0 < b.y1 and b.y0 < a.y1


def _display_extent(ax, points: np.ndarray):
    from matplotlib.transforms import Bbox

    return Bbox.from_extents(*ax.transData.transform(points.min(0)),
                             *ax.transData.transform(points.max(0)))


def test_2d_legend_does_not_cover_the_samples():
    panel = _ring_panel()
    fig = figures.toy_figure(panel, RING, "ring8, step 600")
    fig.canvas.draw()
    ax = fig.axes[0]
    legends = [leg for leg in [ax.get_legend(), *fig.legends] if leg is not None]
    assert len(legends) == 1
    legend = legends[0].get_window_extent()
    samples = _display_extent(ax, np.concatenate([panel.real, panel.fake]))
    assert not _overlaps(legend, samples)
    assert not _overlaps(legend, ax.get_window_extent())  # outside the axes altogether


def test_1d_legend_does_not_cover_the_curves():
    source = toy.gaussian_1d(4.0, 1.5)
    rng = np.random.default_rng(0)
    grid = np.linspace(-3, 11, 50)[:, None]
    panel = ToyPanel(4 + 1.5 * rng.standard_normal((1000, 1)), 3 + rng.standard_normal((1000, 1)),
                     grid, np.full(50, 0.5))
    fig = figures.toy_figure(panel, source, "gaussian_1d, step 600")
    fig.canvas.draw()
    ax = fig.axes[0]
    (legend,) = fig.legends
    labels = [t.get_text() for t in legend.get_texts()]
    assert any("data density" in s for s in labels) and any("generator" in s for s in labels)
    assert any(s.startswith("D(x)") for s in labels) and any("D = 1/2" in s for s in labels)
    assert not _overlaps(legend.get_window_extent(), ax.get_window_extent())
    assert any(tuple(line.get_ydata()) == (0.5, 0.5) for line in ax.get_lines())


def test_a_packed_d_gets_a_panel_that_says_why_it_has_no_surface():
    note = packed_d_note(2, "concat")
    fig = figures.toy_figure(_ring_panel(d_note=note), RING, "ring8")
    assert len(fig.axes) == 2
    (text,) = [t.get_text() for t in fig.axes[1].texts]
    assert note in " ".join(text.split())  # the whole explanation, wrapped to the panel
    assert "PacGAN2" in note and "single point" in note


def test_a_per_sample_d_gets_its_surface():
    xs = np.linspace(-2, 2, 10)
    grid = np.stack(np.meshgrid(xs, xs), -1).reshape(-1, 2)
    fig = figures.toy_figure(_ring_panel(d_grid=grid, d_prob=np.full(100, 0.5)), RING, "grid")
    assert len(fig.axes) == 3  # samples, surface, its colour bar
    assert fig.axes[1].collections and not fig.axes[1].texts


def test_eval_result_draws_its_note_into_the_png(tmp_path):
    panel = _ring_panel()
    result = ToyEvalResult({"protocol": {"generator": "ema"}}, RING, panel.real, panel.fake,
                           None, None, packed_d_note(2, "concat"))
    path = result.draw(str(tmp_path / "f.png"), "ring8, step 600")
    assert (tmp_path / "f.png").stat().st_size > 0 and path.endswith("f.png")
    assert result.curve_references()["eval/modes"] == [Reference(8, "all 8 modes")]


def test_image_grid_is_titled():
    fig = figures.image_grid_figure(np.zeros((4, 8, 8, 1)), "digits, step 200\n4 samples")
    assert fig.axes[0].get_title() == "digits, step 200\n4 samples"
