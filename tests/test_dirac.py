"""The Dirac-GAN reproduction (Mescheder et al. 2018): each method's vector field and 500-step
paths against a float64 numpy version written here from the paper's formulas, the paper's
qualitative findings, and the figure.

The reference is written in the paper's sign convention (L = f(psi theta) + f(0), D maximises,
f'(t) = sigmoid(-t)) and mapped to ganjax's (psi -> -psi), which also checks the mapping that
`ganjax.reproduce.dirac` documents.
"""

import json
import math

import numpy as np
import pytest
from scipy.special import expit

from ganjax.outputs import dirac_figures
from ganjax.outputs.figures import _pyplot
from ganjax.reproduce import dirac

STEPS, STEP = 500, 0.2
NOISE_STD, WGAN_GP_GAMMA, CLIP = 0.7, 0.7, 1.0
# float32 (jax) against float64 (numpy) after 500 steps: measured worst point error 1.5e-4
# (the GAN's outward spiral amplifies rounding), final distances within 5e-3 relative where
# they are ~1e-5 and below and within 2e-6 relative elsewhere.
POINT_ATOL = 1e-3
DIST_RTOL, DIST_ATOL = 1e-3, 1e-6

# Expectations over N(0, 1) by a fine trapezoid rule (independent of the module's quadrature).
_EPS = np.linspace(-12.0, 12.0, 4801)
_PDF_DX = np.exp(-_EPS ** 2 / 2) / math.sqrt(2 * math.pi) * (_EPS[1] - _EPS[0])


def _expect(values: np.ndarray) -> np.ndarray:
    return np.sum(values * _PDF_DX, axis=-1)


def _paper_field(name: str, theta, psi):
    """(v_theta, v_psi) in the paper's convention: G descends L, D ascends it."""
    fp = lambda t: expit(-t)  # f'(t) for f(t) = -log(1 + exp(-t))
    theta, psi = np.asarray(theta, np.float64), np.asarray(psi, np.float64)
    if name == "gan":
        return -psi * fp(psi * theta), theta * fp(psi * theta)
    if name == "nsgan":
        return -psi * fp(-psi * theta), theta * fp(psi * theta)
    if name == "wgan_clip":
        return -psi, theta
    if name == "wgan_gp":  # gamma/2 (|psi| - 1)^2, as in the authors' notebook
        return -psi, theta - WGAN_GP_GAMMA * (np.abs(psi) - 1.0) * np.sign(psi)
    if name == "instance_noise":
        t, p = theta[..., None], psi[..., None]
        fake, real = t + NOISE_STD * _EPS, NOISE_STD * _EPS
        return (_expect(-p * fp(p * fake)),
                _expect(fake * fp(p * fake)) - _expect(real * fp(-p * real)))
    if name.startswith("r1_"):  # GAN with gamma/2 psi^2 on the real data
        gamma = float(name.split("_")[1])
        v_theta, v_psi = _paper_field("gan", theta, psi)
        return v_theta, v_psi - gamma * psi
    raise KeyError(name)


def _reference_field(name: str, theta, psi):
    """The same field in ganjax's convention, where the logit is positive on data: psi = -psi."""
    v_theta, v_psi = _paper_field(name, theta, -np.asarray(psi, np.float64))
    return v_theta, -v_psi


def _reference_trajectory(name: str, rule: str) -> np.ndarray:
    """float64 gradient descent from the authors' start (1, 1), i.e. psi = -1 in ganjax's sign;
    alternating = G first, then D at the new theta."""
    bound = CLIP if name == "wgan_clip" else np.inf
    theta, psi = 1.0, -1.0
    points = [(theta, psi)]
    for _ in range(STEPS):
        if rule == "simultaneous":
            v_theta, v_psi = _reference_field(name, theta, psi)
            theta, psi = theta + STEP * v_theta, np.clip(psi + STEP * v_psi, -bound, bound)
        else:
            theta = theta + STEP * _reference_field(name, theta, psi)[0]
            psi = np.clip(psi + STEP * _reference_field(name, theta, psi)[1], -bound, bound)
        points.append((float(theta), float(psi)))
    return np.asarray(points)


@pytest.fixture(scope="module")
def results() -> dict:
    return dirac.run_all(steps=STEPS, step=STEP)


def _distance(results: dict, name: str, rule: str) -> float:
    return results["methods"][name][rule]["final_distance"]


def test_methods_are_the_papers_list():
    assert list(dirac.METHODS) == ["gan", "nsgan", "wgan_clip", "wgan_gp", "instance_noise",
                                   "r1_0.3", "r1_1.0"]
    with pytest.raises(ValueError, match="known: gan"):
        dirac.get_method("lsgan")
    with pytest.raises(ValueError, match="simultaneous"):
        dirac.trajectory("gan", "jacobi")


@pytest.mark.parametrize("name", list(dirac.METHODS))
def test_vector_field_matches_the_formulas(name):
    rng = np.random.default_rng(0)
    theta, psi = rng.uniform(-2.0, 2.0, size=(2, 3, 4))
    theta[0, 0], psi[0, 0] = 0.0, 0.0  # the equilibrium is a fixed point of every method
    got = np.asarray(dirac.vector_field(name, theta, psi))
    want = np.asarray(_reference_field(name, theta, psi))
    assert got.shape == want.shape == (2, 3, 4)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    assert np.all(got[:, 0, 0] == 0.0)


@pytest.mark.parametrize("rule", dirac.RULES)
@pytest.mark.parametrize("name", list(dirac.METHODS))
def test_trajectory_matches_a_float64_loop(results, name, rule):
    got = np.asarray(results["methods"][name][rule]["trajectory"])
    want = _reference_trajectory(name, rule)
    assert got.shape == want.shape == (STEPS + 1, 2)
    np.testing.assert_allclose(got, want, rtol=0, atol=POINT_ATOL)
    distance = _distance(results, name, rule)
    assert distance == pytest.approx(dirac.final_distance(want), rel=DIST_RTOL, abs=DIST_ATOL)
    assert distance == dirac.final_distance(dirac.trajectory(name, rule))


def test_what_the_paper_finds(results):
    start = math.sqrt(2.0)
    # Unregularised GAN, simultaneous GD: it spirals out (measured 3.35 after 500 steps).
    assert _distance(results, "gan", "simultaneous") > 2.0
    gan = np.asarray(results["methods"]["gan"]["simultaneous"]["trajectory"])
    radius = np.hypot(gan[:, 0], gan[:, 1])
    assert radius[:100].mean() < radius[200:300].mean() < radius[-100:].mean()
    # Alternating GD keeps it on a bounded orbit, neither converging nor escaping (1.34).
    assert 1.0 < _distance(results, "gan", "alternating") < 1.1 * start
    # R1 and instance noise converge (measured: R1 gamma=1 ~1e-20, gamma=0.3 ~5e-6 and
    # instance noise ~1e-4 with simultaneous GD; smaller still with alternating GD).
    for rule in dirac.RULES:
        assert _distance(results, "r1_1.0", rule) < 1e-10
        assert _distance(results, "r1_0.3", rule) < 1e-4
        assert _distance(results, "instance_noise", rule) < 1e-3
    # WGAN with clipping and WGAN-GP do not converge (1.17/1.02 and 1.76/1.29).
    for rule in dirac.RULES:
        assert _distance(results, "wgan_clip", rule) > 0.9
        assert _distance(results, "wgan_gp", rule) > 1.0
        clipped = np.asarray(results["methods"]["wgan_clip"][rule]["trajectory"])
        assert np.max(np.abs(clipped[:, 1])) <= CLIP


def test_results_are_json(results):
    back = json.loads(json.dumps(results))
    assert back["setup"]["alternating_order"] == dirac.ALTERNATING_ORDER
    field = back["methods"]["gan"]["field"]
    assert np.asarray(field["dtheta"]).shape == (len(field["psi"]), len(field["theta"]))


def test_the_figure_is_written(results, tmp_path):
    path = dirac_figures.plot_dirac(results, str(tmp_path / "fig" / "dirac.png"), "Dirac-GAN")
    assert path == str(tmp_path / "fig" / "dirac.png")
    with open(path, "rb") as f:
        head = f.read(8)
    assert head == b"\x89PNG\r\n\x1a\n"
    assert (tmp_path / "fig" / "dirac.png").stat().st_size > 50_000
    fig = dirac_figures.dirac_figure(results, "Dirac-GAN")
    titles = [ax.get_title() for ax in fig.axes if ax.get_title()]
    assert len(titles) == len(dirac.METHODS)
    assert all("final distance" in t for t in titles)
    assert all(ax.get_xlabel().startswith("θ") for ax in fig.axes if ax.get_title())
    _pyplot().close("all")


def test_the_reproduction_reports_the_float64_distances(tmp_path):
    """`ganjax reproduce mescheder2018_dirac`: every distance in its report and results.json is
    the float64 loop's, and the paper's verdict is what the numbers say."""
    from ganjax.reproduce.runner import reproduce

    reproduce("mescheder2018_dirac", str(tmp_path), log=lambda _: None)
    results = json.loads((tmp_path / "results.json").read_text())
    report = (tmp_path / "report.md").read_text()
    for name in dirac.METHODS:
        for rule in dirac.RULES:
            want = dirac.final_distance(_reference_trajectory(name, rule))
            assert results["numbers"][f"{name}/{rule}"] == pytest.approx(
                want, rel=DIST_RTOL, abs=DIST_ATOL)
            row = next(c for c in results["comparisons"]
                       if c["row"] == f"{dirac.METHODS[name].label}, {rule}")
            converged = want < 1e-3
            assert row["note"] == f"ours: {'converges' if converged else 'does not converge'}"
            assert row["paper"].startswith("converges") == converged
            assert f"| {row['row']} | final distance | {row['values'][0]:.4g} |" in report
    assert (tmp_path / results["figures"][0]["path"]).stat().st_size > 50_000
