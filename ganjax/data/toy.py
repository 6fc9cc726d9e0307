"""Synthetic distributions of the classic GAN write-ups, sampled on device from a PRNG key.

Sampling is a pure function of the key, so the batch of step i is `sample(fold_in(key, i), n)`:
deterministic, resumable at any step, and free of host-to-device copies.
"""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np


@dataclasses.dataclass(frozen=True)
class GaussianMixture:
    """Equal-weight isotropic Gaussians with the given centers [K, dim] and one std."""

    centers: np.ndarray
    std: float

    @property
    def dim(self) -> int:
        return self.centers.shape[1]

    @property
    def num_modes(self) -> int:
        return self.centers.shape[0]

    def sample(self, rng: jax.Array, n: int) -> jax.Array:
        """n samples [n, dim] (float32)."""
        return self.sample_labeled(rng, n)[0]

    def sample_labeled(self, rng: jax.Array, n: int) -> tuple[jax.Array, jax.Array]:
        """(n samples [n, dim] float32, the index of each one's mixture component [n] int32).

        The components are the labels of a conditional toy GAN; `sample` draws the same points.
        """
        mode_rng, noise_rng = jax.random.split(rng)
        modes = jax.random.randint(mode_rng, (n,), 0, self.centers.shape[0])
        noise = jax.random.normal(noise_rng, (n, self.dim), jnp.float32)
        return jnp.asarray(self.centers, jnp.float32)[modes] + self.std * noise, modes

    def density(self, x: np.ndarray) -> np.ndarray:
        """The exact density at points x [N, dim], in float64."""
        x = np.asarray(x, np.float64)
        sq = ((x[:, None, :] - self.centers[None]) ** 2).sum(-1)
        norm = (2 * np.pi * self.std ** 2) ** (self.dim / 2)
        return np.exp(-0.5 * sq / self.std ** 2).mean(axis=1) / norm


def gaussian_1d(mean: float, std: float) -> GaussianMixture:
    """N(mean, std^2) on the line: the seed's target, N(4, 1.5^2)."""
    return GaussianMixture(np.array([[mean]], np.float64), std)


def ring(num_modes: int, radius: float, std: float) -> GaussianMixture:
    """Modes at angles 2*pi*k/K, k = 0..K-1 (not linspace(0, 2*pi, K), which repeats one)."""
    angles = 2 * np.pi * np.arange(num_modes) / num_modes
    return GaussianMixture(radius * np.stack([np.cos(angles), np.sin(angles)], 1), std)


def grid(num_modes: int, spacing: float, std: float) -> GaussianMixture:
    """A centred square grid: 25 modes with spacing 2 give {-4, -2, 0, 2, 4}^2."""
    side = round(num_modes ** 0.5)
    axis = (np.arange(side) - (side - 1) / 2) * spacing
    xs, ys = np.meshgrid(axis, axis, indexing="ij")
    return GaussianMixture(np.stack([xs.ravel(), ys.ravel()], 1), std)


# Built from a config's data section; registered in ganjax.registry under "toy".
def gaussian_1d_from_config(data) -> GaussianMixture:
    """`gaussian_1d` with data.mean, data.std."""
    return gaussian_1d(data.mean, data.std)


def ring_from_config(data) -> GaussianMixture:
    """`ring` with data.num_modes, data.radius, data.std."""
    return ring(data.num_modes, data.radius, data.std)


def grid_from_config(data) -> GaussianMixture:
    """`grid` with data.num_modes, data.spacing, data.std."""
    return grid(data.num_modes, data.spacing, data.std)
