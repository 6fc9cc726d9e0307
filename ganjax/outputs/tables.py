"""Result tables: the mean and standard error over seeds, and the markdown they are shown in.

JAX-free and tiny, so that sweep tables and reproduction reports state spreads the same way
and the reproduction CLI can import it before JAX starts.
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np


def mean_sem(values: Sequence[float]) -> tuple[float, float, int]:
    """(mean, standard error of the mean (std ddof=1 / sqrt n; NaN for one value), n) of the
    finite values among `values`; NaNs and 0 for none."""
    vals = np.asarray([v for v in values if v is not None and math.isfinite(v)], np.float64)
    if vals.size == 0:
        return math.nan, math.nan, 0
    sem = float(vals.std(ddof=1) / math.sqrt(vals.size)) if vals.size > 1 else math.nan
    return float(vals.mean()), sem, int(vals.size)


def markdown_table(titles: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A GitHub markdown table of already formatted cells (a "|" in a cell is escaped), the one
    layout of sweep tables and reproduction reports."""
    escape = lambda cell: str(cell).replace("|", "\\|")  # noqa: E731
    lines = ["| " + " | ".join(map(escape, titles)) + " |", "|" + "|".join("---" for _ in titles)
             + "|"]
    lines += ["| " + " | ".join(map(escape, row)) + " |" for row in rows]
    return "\n".join(lines)
