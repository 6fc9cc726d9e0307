"""The Dirac-GAN of Mescheder, Geiger & Nowozin 2018 ("Which Training Methods for GANs do
actually Converge?", ICML 2018, Sec. 2-3): the smallest GAN that shows whether a training method
converges.

The data distribution is a point mass at 0, the generator is a point mass at theta, and the
discriminator is linear, with logit D_psi(x) = psi * x. The unique equilibrium is
(theta, psi) = (0, 0). Each method's two player losses are built from ganjax's own engine: the
losses of `ganjax.engine.losses` on the logits psi * x_real and psi * x_fake, and the gradient
penalties of `ganjax.engine.penalties` on the function x -> psi * x. The update direction of a
player is minus the gradient of its own loss (`vector_field`); `trajectory` follows it with
simultaneous or alternating gradient descent of one step size for both players.

Sign convention: ganjax's logit is positive on data ("real"), so psi here is minus the psi of
the paper and of the authors' notebook (their D is positive on generated samples). The paper's
picture is this one mirrored in psi; their start (1, 1) is START = (1, -1) here.

Alternating gradient descent updates G first, then D at G's new theta, as the authors' notebook
does.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import types
from typing import Any, Mapping

import jax
import jax.numpy as jnp
import numpy as np

from ganjax.engine.losses import get_loss
from ganjax.engine.penalties import get_penalty

Array = jax.Array

RULES = ("simultaneous", "alternating")
ALTERNATING_ORDER = "G first, then D at the new theta (the authors' order)"
START = (1.0, -1.0)  # the authors' (theta, psi) = (1, 1) in ganjax's sign of psi
STEP = 0.2
STEPS = 500
# Gauss-Hermite nodes for the expectation over instance noise (std 0.7). The integrands are
# logistic curves in the noise, steeper as |psi| grows: against a fine trapezoid rule the field
# is within 1e-6 for |psi| <= 3, 2e-6 at |psi| = 4 and 4e-5 at |psi| = 5 (|theta| <= 4).
NOISE_NODES = 48
# Where `run_all` samples the vector field for figures: [-FIELD_EXTENT, FIELD_EXTENT]^2 at
# least, widened (in steps of 0.5) to hold both trajectories of the method with a margin.
FIELD_EXTENT = 2.0
FIELD_POINTS = 15


@dataclasses.dataclass(frozen=True)
class DiracMethod:
    """A training method on the Dirac-GAN, by the ganjax pieces that make it.

    `penalty_weight` multiplies the ganjax penalty as it is defined in
    `ganjax.engine.penalties` (r1 already carries the 1/2 of gamma/2 E|grad D|^2; wgan_gp does
    not, so the paper's gamma/2 (|grad D| - 1)^2 is weight gamma/2). `noise_std` > 0 adds
    Gaussian instance noise of that std to real and generated samples, in expectation.
    `clip` > 0 clips psi to [-clip, clip] after every D update (WGAN's weight clipping).
    """

    label: str
    loss: str
    penalty: str = "none"
    penalty_weight: float = 0.0
    noise_std: float = 0.0
    clip: float = 0.0


METHODS: Mapping[str, DiracMethod] = types.MappingProxyType({
    "gan": DiracMethod("GAN", "minimax"),
    "nsgan": DiracMethod("NSGAN", "non_saturating"),
    "wgan_clip": DiracMethod("WGAN, clip 1", "wasserstein", clip=1.0),
    "wgan_gp": DiracMethod("WGAN-GP, γ=0.7", "wasserstein", "wgan_gp", penalty_weight=0.35),
    "instance_noise": DiracMethod("GAN + instance noise, σ=0.7", "minimax", noise_std=0.7),
    "r1_0.3": DiracMethod("GAN + R1, γ=0.3", "minimax", "r1", penalty_weight=0.3),
    "r1_1.0": DiracMethod("GAN + R1, γ=1.0", "minimax", "r1", penalty_weight=1.0),
})


def get_method(method: str | DiracMethod) -> DiracMethod:
    """`method` itself, or the entry of `METHODS` it names; ValueError listing the known ones."""
    if isinstance(method, DiracMethod):
        return method
    if method not in METHODS:
        raise ValueError(f"unknown Dirac-GAN method {method!r}; known: {', '.join(METHODS)}")
    return METHODS[method]


@functools.lru_cache(maxsize=None)
def _noise_quadrature(std: float) -> tuple[np.ndarray, np.ndarray]:
    """Offsets and weights with sum_k w_k g(o_k) = E g(std * eps), eps ~ N(0, 1).

    Probabilists' Gauss-Hermite rule; without noise, the single offset 0 of weight 1.
    """
    if std == 0.0:
        return np.zeros(1, np.float32), np.ones(1, np.float32)
    nodes, weights = np.polynomial.hermite_e.hermegauss(NOISE_NODES)
    weights = weights / math.sqrt(2.0 * math.pi)
    return (std * nodes).astype(np.float32), weights.astype(np.float32)


def _linear_d(psi: Array):
    """The discriminator x -> psi * x as a ganjax `d_fn`: a batch [n, 1] to n logits."""
    return lambda x: psi * x[:, 0]


def _expected_over_noise(fn, offsets: Array, weights: Array) -> Array:
    """sum_k w_k fn(o_k): `fn` of one noise offset, returning a scalar."""
    return jnp.sum(weights * jax.vmap(fn)(offsets))


def discriminator_loss(method: DiracMethod, theta: Array, psi: Array) -> Array:
    """D's loss at scalar (theta, psi): the ganjax loss on the logits of x_real = 0 and
    x_fake = theta (plus the same noise offset for both, in expectation), and the penalty.

    All ganjax losses are a real term plus a fake term, so averaging the loss over pairs that
    share one noise offset is the expectation over independent noise of real and fake.
    The penalty is evaluated at the noise-free points: |d D / d x| = |psi| everywhere, so the
    points (and WGAN-GP's random interpolates) do not change it.
    """
    loss = get_loss(method.loss)
    offsets, weights = (jnp.asarray(a) for a in _noise_quadrature(method.noise_std))

    def at(offset: Array) -> Array:
        real = psi * jnp.reshape(offset, (1,))
        fake = psi * jnp.reshape(theta + offset, (1,))
        return loss.discriminator(real, fake)

    value = _expected_over_noise(at, offsets, weights)
    if method.penalty != "none":
        real_x = jnp.zeros((1, 1), psi.dtype)
        fake_x = jnp.reshape(theta, (1, 1))
        penalty = get_penalty(method.penalty)
        value = value + method.penalty_weight * penalty(
            _linear_d(psi), real_x, fake_x, jax.random.PRNGKey(0))
    return value


def generator_loss(method: DiracMethod, theta: Array, psi: Array) -> Array:
    """G's loss at scalar (theta, psi): the ganjax generator loss on the logit of x_fake = theta
    (plus instance noise, in expectation)."""
    loss = get_loss(method.loss)
    offsets, weights = (jnp.asarray(a) for a in _noise_quadrature(method.noise_std))
    return _expected_over_noise(
        lambda offset: loss.generator(psi * jnp.reshape(theta + offset, (1,))), offsets, weights)


def _field_at(method: DiracMethod, theta: Array, psi: Array) -> tuple[Array, Array]:
    """(-dL_G/dtheta, -dL_D/dpsi) at one scalar point."""
    dtheta = -jax.grad(generator_loss, argnums=1)(method, theta, psi)
    dpsi = -jax.grad(discriminator_loss, argnums=2)(method, theta, psi)
    return dtheta, dpsi


@functools.partial(jax.jit, static_argnums=0)
def _field(method: DiracMethod, theta: Array, psi: Array) -> tuple[Array, Array]:
    """`_field_at` broadcast over arrays of points."""
    return jnp.vectorize(functools.partial(_field_at, method))(theta, psi)


def vector_field(method: str | DiracMethod, theta: Any, psi: Any) -> tuple[Array, Array]:
    """The update direction (dtheta, dpsi) of gradient descent, each player on its own loss.

    `theta` and `psi` are scalars or arrays that broadcast together (float32); the result has
    their broadcast shape. Weight clipping is not part of the field (it is a projection after
    the D step, see `trajectory`).
    """
    theta = jnp.asarray(theta, jnp.float32)
    psi = jnp.asarray(psi, jnp.float32)
    return _field(get_method(method), theta, psi)


def _clip(method: DiracMethod, psi: Array) -> Array:
    """psi projected onto [-clip, clip] for weight clipping, else psi."""
    return jnp.clip(psi, -method.clip, method.clip) if method.clip > 0 else psi


def _simultaneous_step(method: DiracMethod, step: Array, point: Array) -> Array:
    """Both players step from the same point; D's psi is clipped afterwards."""
    dtheta, dpsi = _field_at(method, point[0], point[1])
    return jnp.stack([point[0] + step * dtheta, _clip(method, point[1] + step * dpsi)])


def _alternating_step(method: DiracMethod, step: Array, point: Array) -> Array:
    """G steps first; D then steps (and is clipped) against G's new theta."""
    psi = point[1]
    theta = point[0] + step * _field_at(method, point[0], psi)[0]
    psi = _clip(method, psi + step * _field_at(method, theta, psi)[1])
    return jnp.stack([theta, psi])


@functools.partial(jax.jit, static_argnums=(0, 1, 4))
def _scan(method: DiracMethod, rule: str, start: Array, step: Array, steps: int) -> Array:
    """[steps + 1, 2] points of the iteration from `start` (clipped), with lax.scan."""
    update = _simultaneous_step if rule == "simultaneous" else _alternating_step

    def body(point: Array, _: None) -> tuple[Array, Array]:
        new = update(method, step, point)
        return new, new

    first = jnp.stack([start[0], _clip(method, start[1])])
    _, points = jax.lax.scan(body, first, None, length=steps)
    return jnp.concatenate([first[None], points], axis=0)


def trajectory(method: str | DiracMethod, rule: str, start: tuple[float, float] = START,
               step: float = STEP, steps: int = STEPS) -> np.ndarray:
    """The points (theta, psi) of `steps` gradient-descent steps from `start`, [steps + 1, 2].

    rule "simultaneous": both players step from the same point. "alternating": G first, then D
    at the new theta. With weight clipping, psi is clipped after every D step (and at the start).
    float32.
    """
    if rule not in RULES:
        raise ValueError(f"unknown rule {rule!r}; known: {', '.join(RULES)}")
    points = _scan(get_method(method), rule, jnp.asarray(start, jnp.float32),
                   jnp.asarray(step, jnp.float32), int(steps))
    return np.asarray(points)


def final_distance(traj: np.ndarray) -> float:
    """Euclidean distance of the last point of `traj` to the equilibrium (0, 0)."""
    theta, psi = np.asarray(traj, np.float64)[-1]
    return float(math.hypot(theta, psi))


def field_grid(method: str | DiracMethod, extent: float = FIELD_EXTENT,
               points: int = FIELD_POINTS) -> dict[str, list]:
    """The vector field on a points x points grid over [-extent, extent]^2, as lists: 1-D
    `theta` and `psi` axes, and `dtheta`, `dpsi` indexed [psi index][theta index]."""
    axis = np.linspace(-extent, extent, points)
    theta, psi = np.meshgrid(axis, axis)
    dtheta, dpsi = vector_field(method, theta, psi)
    return {"theta": axis.tolist(), "psi": axis.tolist(),
            "dtheta": np.asarray(dtheta, np.float64).tolist(),
            "dpsi": np.asarray(dpsi, np.float64).tolist()}


def _extent(trajectories: list[np.ndarray]) -> float:
    """Half-width of a square around (0, 0) that holds FIELD_EXTENT and every point, +10%."""
    reach = max(float(np.max(np.abs(t))) for t in trajectories) if trajectories else 0.0
    return max(FIELD_EXTENT, math.ceil(2.0 * 1.1 * reach) / 2.0)


def run_all(steps: int = STEPS, step: float = STEP,
            start: tuple[float, float] = START) -> dict[str, Any]:
    """Every method of `METHODS` under both rules, JSON-friendly.

    {"setup": {...}, "methods": {name: {"label", "clip", "field": `field_grid`,
    "simultaneous": {"trajectory": [[theta, psi], ...], "final_distance": d},
    "alternating": {...}}}}.
    """
    methods = {}
    for name, method in METHODS.items():
        entry: dict[str, Any] = {"label": method.label, "clip": method.clip}
        trajectories = [trajectory(method, rule, start, step, steps) for rule in RULES]
        for rule, traj in zip(RULES, trajectories):
            entry[rule] = {"trajectory": np.asarray(traj, np.float64).tolist(),
                           "final_distance": final_distance(traj)}
        entry["field"] = field_grid(method, _extent(trajectories))
        methods[name] = entry
    setup = {"start": list(start), "step": step, "steps": steps,
             "alternating_order": ALTERNATING_ORDER,
             "psi_sign": "ganjax logit (positive on data) = -psi of the paper"}
    return {"setup": setup, "methods": methods}


def distance_table(results: Mapping[str, Any]) -> str:
    """A markdown table of the final distances in `results` (from `run_all`), method x rule."""
    lines = ["| method | " + " | ".join(RULES) + " |", "|---|" + "---|" * len(RULES)]
    for entry in results["methods"].values():
        cells = " | ".join(f"{entry[rule]['final_distance']:.4g}" for rule in RULES)
        lines.append(f"| {entry['label']} | {cells} |")
    return "\n".join(lines)
