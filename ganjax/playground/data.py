"""The data of a playground setup: drawn points as a toy source, and the view of a source.

Drawn points become a mixture of equal-weight Gaussians centred on them (std `data.std`), so
they train, score (mode coverage over the points) and export exactly like ganjax's ring and
grid. The view is the square (or, in 1-D, the interval) the page draws.
"""

from __future__ import annotations

import math
from typing import Any, Sequence

import ml_collections
import numpy as np

from ganjax.data import GaussianMixture, make_source
from ganjax.errors import ConfigError
from ganjax.playground.settings import DRAWN

MAX_POINTS = 1000
DRAW_LIMIT = 2.0  # the page draws on [-2, 2]^2
Points = tuple[tuple[float, float], ...]


def check_points(points: Any) -> Points:
    """Drawn points as a tuple of (x, y) pairs in the drawing square; ConfigError if not."""
    if not isinstance(points, (list, tuple)) or not 1 <= len(points) <= MAX_POINTS:
        raise ConfigError(f"'points' must be a list of 1 to {MAX_POINTS} [x, y] pairs")
    checked = []
    for i, point in enumerate(points):
        if not (isinstance(point, (list, tuple)) and len(point) == 2 and all(
                isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
                and abs(v) <= DRAW_LIMIT for v in point)):
            raise ConfigError(f"points[{i}]={point!r}: must be [x, y] with numbers in "
                              f"[-{DRAW_LIMIT:g}, {DRAW_LIMIT:g}]")
        checked.append((float(point[0]), float(point[1])))
    return tuple(checked)


def drawn_source(points: Sequence[Sequence[float]], std: float) -> GaussianMixture:
    """The drawn points as ganjax's toy source: a Gaussian of `std` on every point."""
    return GaussianMixture(np.asarray(points, np.float64), float(std))


def make_playground_source(config: ml_collections.ConfigDict,
                           points: Points | None) -> GaussianMixture:
    """The source of a validated setup: ganjax's toy source, or the drawn points."""
    if config.data.source == DRAWN:
        if not points:
            raise ConfigError("config.data.source='drawn': draw some points on the canvas first")
        return drawn_source(points, config.data.std)
    return make_source(config.data)


def view_of(source: GaussianMixture, drawn: bool) -> list[float]:
    """[lo, hi] (1-D) or [x_lo, x_hi, y_lo, y_hi] (2-D, square) that the page shows."""
    if drawn:
        return [-DRAW_LIMIT, DRAW_LIMIT] * 2
    lo, hi = source.centers.min(axis=0), source.centers.max(axis=0)
    span = float((hi - lo).max())
    margin = max(4 * source.std, 0.15 * span, 0.5)
    if source.dim == 1:
        return [float(lo[0] - margin), float(hi[0] + margin)]
    centre, half = (lo + hi) / 2, span / 2 + margin
    return [float(centre[0] - half), float(centre[0] + half),
            float(centre[1] - half), float(centre[1] + half)]
