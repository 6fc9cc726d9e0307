"""Running a sweep on this machine: define its points, group them, train each group, tabulate.

`plan` fixes the sweep (points and groups, written to sweep.json) before anything trains;
`run_groups` trains some or all groups here (the launchers run one group per job with the same
function); `ganjax.sweep.results.collect` then writes the tables and figures. A vectorized group
trains as one program (`ganjax.sweep.group`); a group of one point trains exactly as
`ganjax train` does in the point's folder. Finished and diverged points are skipped, so running
the same sweep again resumes it.
"""

from __future__ import annotations

import dataclasses
import os
from typing import Any, Callable, Sequence

from ganjax.errors import ConfigError, WorkdirError
from ganjax.run.loop import train
from ganjax.sweep.group import point_status, train_group
from ganjax.sweep.grouping import describe_groups, group_points
from ganjax.sweep.points import (Point, build_points, define_points, points_from_record,
                                 read_record, sweep_record, write_record)

__all__ = ["SweepPlan", "define_points", "describe", "open_plan", "plan", "point_status",
           "run_groups"]


@dataclasses.dataclass
class SweepPlan:
    """A sweep's points and groups, as sweep.json records them."""

    workdir: str
    record: dict[str, Any]
    points: list[Point]
    groups: list[list[int]]


def plan(spec: str, base_overrides: dict[str, str], flags: Sequence[str], workdir: str,
         vectorize: bool = True, max_replicas: int = 0) -> SweepPlan:
    """Validates every point and writes sweep.json; an invalid point or a workdir holding another
    sweep fails here, before anything trains or is written."""
    overrides = define_points(spec, base_overrides, flags)
    points = build_points(spec, base_overrides, overrides)
    groups = group_points(points, vectorize, max_replicas)
    record = sweep_record(spec, base_overrides, points, groups)
    record["vectorize"] = vectorize
    old = read_record(workdir)
    if old is not None and old.get("groups") != record["groups"]:
        groups = old["groups"]  # a re-run with other grouping flags keeps the folders' groups
        record["groups"], record["vectorize"] = groups, old.get("vectorize", vectorize)
    write_record(workdir, record)
    return SweepPlan(workdir, record, points, groups)


def open_plan(workdir: str) -> SweepPlan:
    """The plan of an existing sweep folder (for launcher jobs and --collect)."""
    record = read_record(workdir)
    if record is None:
        raise WorkdirError(f"{workdir} holds no sweep (no sweep.json); start one with "
                           f"`ganjax sweep --config ... --sweep ... --workdir {workdir}`")
    return SweepPlan(workdir, record, points_from_record(record), record["groups"])


def describe(p: SweepPlan) -> list[str]:
    """Lines about the plan: points, groups, and what is already done."""
    status = [point_status(pt, p.workdir) for pt in p.points]
    done = sum(s != "pending" for s in status)
    head = (f"ganjax: sweep of {len(p.points)} points in {len(p.groups)} group(s) "
            f"({'vectorized' if p.record.get('vectorize', True) else 'one point at a time'}); "
            f"{done} already done; results in {p.workdir}")
    return [head] + [f"ganjax:   {line}" for line in describe_groups(p.points, p.groups)]


def run_groups(p: SweepPlan, only: Sequence[int] | None = None,
               log: Callable[[str], None] = print, stop_at: int | None = None) -> None:
    """Trains the pending points of the groups `only` (default: all), one group after another."""
    chosen = range(len(p.groups)) if only is None else only
    for g in chosen:
        if not 0 <= g < len(p.groups):
            raise ConfigError(f"--group {g}: this sweep has groups 0..{len(p.groups) - 1}")
        pending = [p.points[i] for i in p.groups[g]
                   if point_status(p.points[i], p.workdir) == "pending"]
        if not pending:
            log(f"ganjax: sweep group {g}: every point is done; skipped")
            continue
        log(f"ganjax: sweep group {g}: training {len(pending)} point(s)"
            f"{' as one vectorized program' if len(pending) > 1 else ''}")
        if len(pending) > 1:
            train_group(pending, p.workdir, log=log, stop_at=stop_at)
        else:
            point = pending[0]
            os.makedirs(os.path.dirname(point.workdir(p.workdir)), exist_ok=True)
            train(point.config, point.workdir(p.workdir), name=point.name, stop_at=stop_at)
