"""A reproduction's report: report.md for people, results.json for programs.

report.md says what ran (the recipe, quick or full, seeds, the exact command of every step),
where and how long (hardware, time of this invocation and of every step over all invocations),
ours against the paper (mean +- standard error over seeds, with the paper's numbers as
printed), how each metric was measured, the other tables, notes and figures. results.json holds
the same numbers unformatted (and every value behind each mean).
"""

from __future__ import annotations

import json
import os
import platform
from typing import Any

from ganjax.outputs import tables
from ganjax.outputs.tables import mean_sem
from ganjax.outputs.writers import jsonable, write_text_atomically
from ganjax.reproduce.context import Context

REPORT = "report.md"
RESULTS = "results.json"


def hardware() -> str:
    """e.g. "Linux x86_64, 2 CPU cores, jax 0.10.2 on 1 cpu device" (the devices as a
    training run's start-of-run line names them)."""
    import jax

    from ganjax.parallel import describe_devices

    return (f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPU cores, jax "
            f"{jax.__version__} on {describe_devices()}")


def _cell(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def markdown_table(columns: list[str], rows: list[list[Any]]) -> str:
    """A GitHub markdown table of report values (floats to 4 significant digits)."""
    return tables.markdown_table(columns, [[_cell(v) for v in row] for row in rows])


def comparison_tables(ctx: Context) -> list[tuple[str, str]]:
    """[(table name, markdown)] of the ours-against-the-paper rows, in the order stated."""
    names = list(dict.fromkeys(c.table for c in ctx.comparisons))
    out = []
    for name in names:
        rows = [[c.row, c.metric, c.ours(), c.paper or "-", c.note]
                for c in ctx.comparisons if c.table == name]
        out.append((name, markdown_table(["setup", "metric", "ours", "paper", "note"], rows)))
    return out


def other_tables(ctx: Context) -> list[tuple[str, str]]:
    """[(title, markdown)] of the recipe's other tables."""
    return [(title, markdown_table(columns, rows)) for title, columns, rows in ctx.tables]


def report_text(ctx: Context, wall_s: float) -> str:
    """The whole report.md."""
    r = ctx.recipe
    version = "quick (--quick: reduced, for tests)" if ctx.quick else "full"
    lines = [f"# {r.title}", "", f"**Paper:** {r.paper}  ", f"**Compares:** {r.compares}  ",
             f"**Version:** {version}; seed{'s' if len(ctx.seeds) > 1 else ''} "
             f"{', '.join(map(str, ctx.seeds))}  ",
             f"**Hardware:** {hardware()}  ",
             f"**Time:** {wall_s:.0f} s for this invocation; {sum(ctx.step_times.values()):.0f} "
             f"s of training and computing over every invocation (expected for the full "
             f"version: {r.full_time})", "", "Written by `ganjax reproduce "
             f"{r.name}{' --quick' if ctx.quick else ''}`; running it again resumes and "
             f"rewrites this report.", ""]
    for text in ctx.texts:
        lines += [text, ""]
    for name, table in comparison_tables(ctx):
        lines += [f"## {name}", "", table, ""]
    for title, table in other_tables(ctx):
        lines += [f"## {title}", "", table, ""]
    for path, caption in ctx.figures:
        lines += [f"![{caption}]({path})", "", f"*{caption}*", ""]
    if ctx.protocols:
        lines += ["## Protocols", ""] + [f"- **{k}**: {v}" for k, v in ctx.protocols.items()]
        lines.append("")
    lines += ["## Commands", "", "Each step alone (the reproduction runs them in-process):", "",
              "```"] + ctx.commands + ["```", ""]
    if ctx.step_times:
        lines += ["## Time per step", "", markdown_table(
            ["step", "seconds"], [[k, f"{v:.1f}"] for k, v in ctx.step_times.items()]), ""]
    return "\n".join(lines)


def results_record(ctx: Context, wall_s: float) -> dict[str, Any]:
    """The numbers of the report, as results.json holds them."""
    r = ctx.recipe
    comparisons = []
    for c in ctx.comparisons:
        mean, sem, n = mean_sem(c.values)
        comparisons.append({"table": c.table, "row": c.row, "metric": c.metric,
                            "values": c.values, "mean": mean, "sem": sem, "n": n,
                            "paper": c.paper, "note": c.note})
    return jsonable({
        "name": r.name, "title": r.title, "paper": r.paper, "compares": r.compares,
        "quick": ctx.quick, "seeds": ctx.seeds, "hardware": hardware(), "wall_s": wall_s,
        "step_times_s": ctx.step_times, "full_time": r.full_time, "commands": ctx.commands,
        "comparisons": comparisons, "numbers": ctx.numbers,
        "figures": [{"path": p, "caption": c} for p, c in ctx.figures],
        "protocols": ctx.protocols, "tables": [{"title": t, "columns": c, "rows": rows}
                                               for t, c, rows in ctx.tables],
        "texts": ctx.texts,
        "markdown_tables": [{"title": t, "markdown": md}
                            for t, md in comparison_tables(ctx) + other_tables(ctx)]})


def write_report(ctx: Context, wall_s: float) -> str:
    """Writes report.md and results.json into the reproduction's folder; the report's path."""
    write_text_atomically(os.path.join(ctx.workdir, RESULTS),
                          json.dumps(results_record(ctx, wall_s), indent=1) + "\n")
    path = os.path.join(ctx.workdir, REPORT)
    write_text_atomically(path, report_text(ctx, wall_s) + "\n")
    return path
