"""Data sources, chosen by the `data.source` spec string of a config."""

from __future__ import annotations

import ml_collections

from ganjax.data.toy import GaussianMixture, gaussian_1d, grid, ring


def make_source(data: ml_collections.ConfigDict) -> GaussianMixture:
    """The distribution named by `data.source`, with its parameters from `data.*`."""
    if data.source == "gaussian_1d":
        return gaussian_1d(data.mean, data.std)
    if data.source == "ring":
        return ring(data.num_modes, data.radius, data.std)
    if data.source == "grid":
        return grid(data.num_modes, data.spacing, data.std)
    raise ValueError(f"unknown data.source {data.source!r}; known: gaussian_1d, ring, grid")


__all__ = ["GaussianMixture", "gaussian_1d", "grid", "make_source", "ring"]
