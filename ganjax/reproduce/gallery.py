"""docs/reproductions.md: every reproduction's tables and figures, as its last run wrote them.

The gallery is generated, never edited: `ganjax reproduce --gallery` reads each reproduction's
results.json under the runs folder (the full version where there is one, else the quick one,
and says which), copies its figures next to the gallery and writes one section per
reproduction with the command that made it. The same command refreshes the README's result
tables: a block between `<!-- reproduction: NAME -->` and `<!-- /reproduction -->` gets NAME's
tables and the line that says how they were made.

The gallery is refreshed one reproduction at a time: a reproduction with no results under the
runs folder keeps the section (and figures) the gallery already has for it, and a quick result
never replaces a full one. The full versions add up to more CPU hours than one machine keeps
its runs folder, so each is run when there is time and the gallery collects them.
"""

from __future__ import annotations

import os
import re
import shutil
from typing import Any

from ganjax.outputs.writers import read_json, write_text_atomically
from ganjax.reproduce.recipe import read_recipe, recipe_names
from ganjax.reproduce.report import RESULTS
from ganjax.reproduce.runner import default_workdir

README_BLOCK = re.compile(
    r"(<!-- reproduction: (?P<name>[\w.-]+) -->\n).*?(<!-- /reproduction -->)", re.S)


def _results_of(name: str, runs_root: str) -> tuple[dict[str, Any], str] | None:
    for quick in (False, True):
        folder = os.path.join(runs_root, os.path.basename(default_workdir(name, quick)))
        results = read_json(os.path.join(folder, RESULTS))
        if results is not None:
            return results, folder
    return None


def made_by(results: dict[str, Any], full_time: str) -> str:
    """The line that says which command, version, seeds and machine made `results`."""
    version = "quick (reduced)" if results["quick"] else "full"
    command = f"ganjax reproduce {results['name']}{' --quick' if results['quick'] else ''}"
    seeds = results["seeds"]
    return (f"**Made by:** `{command}`: {version} version, seed{'s' if len(seeds) > 1 else ''} "
            f"{', '.join(map(str, seeds))}, {results['hardware']}, "
            f"{sum(results['step_times_s'].values()):.0f} s of computing (full version "
            f"expected: {full_time})")


def update_readme(readme: str, runs_root: str) -> list[str]:
    """Rewrites the reproduction blocks of `readme` from the reports; returns the names of the
    blocks it filled (a block whose reproduction has no results, or only quick ones where the
    block shows a full run, is left as it is)."""
    with open(readme, encoding="utf-8") as f:
        text = f.read()
    filled = []

    def fill(match: re.Match) -> str:
        name = match["name"]
        found = _results_of(name, runs_root)
        if found is None or (found[0]["quick"] and _is_full(match.group(0))):
            return match.group(0)  # as in the gallery: kept until a run as full replaces it
        results = found[0]
        filled.append(name)
        body = [made_by(results, read_recipe(name).full_time), ""]
        for table in results["markdown_tables"]:
            body += [f"**{table['title']}**", "", table["markdown"], ""]
        return match.group(1) + "\n".join(body) + match.group(3)

    new = README_BLOCK.sub(fill, text)
    if new != text:
        write_text_atomically(readme, new)
    return filled


SECTION = re.compile(r"^## (?P<name>[\w.-]+): ", re.M)
NOT_RUN = "Not run yet: "
FULL = "full version,"


def _sections(gallery: str) -> dict[str, str]:
    """The sections of an existing gallery by reproduction name (heading line included)."""
    starts = list(SECTION.finditer(gallery))
    ends = [m.start() for m in starts[1:]] + [len(gallery)]
    return {m["name"]: gallery[m.start():end].rstrip("\n") + "\n"
            for m, end in zip(starts, ends)}


def _is_full(section: str) -> bool:
    return any(line.startswith("**Made by:**") and FULL in line
               for line in section.splitlines())


def _heading(name: str, recipe) -> list[str]:
    """The lines every section of NAME starts with: its title, paper and what it compares."""
    return [f"## {name}: {recipe.title}", "", f"**Paper:** {recipe.paper}  ",
            f"**Compares:** {recipe.compares}  "]


def _section(name: str, results: dict[str, Any], folder: str, image_dir: str) -> str:
    """NAME's section from its results, its figures copied into `image_dir`."""
    recipe = read_recipe(name)
    lines = _heading(name, recipe) + [made_by(results, recipe.full_time), ""]
    lines += [t for t in results["texts"] for t in (t, "")]
    for table in results["markdown_tables"]:
        lines += [f"### {table['title']}", "", table["markdown"], ""]
    for figure in results["figures"]:
        target = f"{name}__{figure['path'].replace(os.sep, '_')}"  # unique per figure
        shutil.copyfile(os.path.join(folder, figure["path"]), os.path.join(image_dir, target))
        lines += [f"![{figure['caption']}](images/reproductions/{target})", "",
                  f"*{figure['caption']}*", ""]
    return "\n".join(lines).rstrip("\n") + "\n"


def write_gallery(out: str = "docs/reproductions.md",
                  runs_root: str = os.path.join("runs", "reproductions"),
                  ) -> tuple[str, dict[str, list[str]]]:
    """Writes the gallery `out` (figures in <out's folder>/images/reproductions/), refreshing
    the sections whose reproductions have results under `runs_root` and keeping the others as
    `out` has them; returns (its path, {"refreshed", "kept", "missing": names}): refreshed
    from runs_root, kept from the previous gallery, never run. Figures in the image folder
    that the gallery no longer shows (a refreshed section's old ones, a removed
    reproduction's) are deleted."""
    docs = os.path.dirname(out) or "."
    image_dir = os.path.join(docs, "images", "reproductions")
    os.makedirs(image_dir, exist_ok=True)
    previous = {}
    if os.path.exists(out):
        with open(out, encoding="utf-8") as f:
            previous = _sections(f.read())
    lines = ["# Reproductions", "",
             "Generated by `ganjax reproduce --gallery` from the reports that `ganjax reproduce "
             "NAME` wrote; do not edit by hand. Each section says whether it shows the full "
             "version or the reduced `--quick` one, on what hardware, and how long it took. A "
             "section stays as it was until its reproduction runs again, and a quick run does "
             "not replace a full one.", ""]
    status: dict[str, list[str]] = {"refreshed": [], "kept": [], "missing": []}
    for name in recipe_names():
        found = _results_of(name, runs_root)
        old = previous.get(name, "")
        keep_old = old and NOT_RUN not in old and (
            found is None or (found[0]["quick"] and _is_full(old)))
        if keep_old:
            status["kept"].append(name)
            lines.append(old)
        elif found is not None:
            status["refreshed"].append(name)
            lines.append(_section(name, *found, image_dir))
        else:
            status["missing"].append(name)
            recipe = read_recipe(name)
            lines += _heading(name, recipe) + [f"{NOT_RUN}`ganjax reproduce {name}` (expected "
                                               f"{recipe.full_time}).", ""]
    text = "\n".join(lines).rstrip("\n") + "\n"
    for image in os.listdir(image_dir):  # a refreshed section's old figures, a removed recipe's
        if f"(images/reproductions/{image})" not in text:
            os.remove(os.path.join(image_dir, image))
    write_text_atomically(out, text)
    return out, status
