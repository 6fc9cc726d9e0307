"""The layering of the ganjax package, derived from its source.

Every .py file under ganjax/ and experiments/ (installed as `ganjax.experiments`) is parsed with
`ast`; each `import ganjax...` and `from ganjax... import ...` (relative ones too, and imports
inside functions) becomes an edge importer -> imported module. `from ganjax.x import y` points
at `ganjax.x.y` when that is a module, else at `ganjax.x`. The tests then check that:

* every module sits in a layer of `LAYERS`, and imports only modules of its own or lower layers;
* no import cycle exists (module level and inside functions alike);
* every imported ganjax module exists (a moved module leaves no stale import behind);
* `ganjax.errors`, `ganjax.registry` and `ganjax.config` load without JAX, Flax or optax.

Imports made by name at run time (`ganjax.registry.resolve`, `importlib.import_module`) are not
edges: the registry names pieces of every layer on purpose, and imports them only when a config
asks for one. Nothing here imports ganjax itself, except the one subprocess check.
"""

from __future__ import annotations

import ast
import dataclasses
import pathlib
import subprocess
import sys
from typing import Callable, Iterable, Mapping

REPO = pathlib.Path(__file__).resolve().parent.parent

# The package trees parsed, as (folder, the package name it is installed as).
PACKAGE_ROOTS = ((REPO / "ganjax", "ganjax"), (REPO / "experiments", "ganjax.experiments"))

# Layers, bottom to top. A module may import modules of its own layer or of lower layers only.
# "pkg.*" means the package pkg and every module under it; a name without ".*" is that module.
LAYERS: dict[int, tuple[str, ...]] = {
    # 0 Foundation: errors and exit codes, the registry of named pieces, the shared shapes
    #   (batch, latent, DOut, Networks) and configs as code. Everything else may use it.
    0: ("ganjax", "ganjax.errors", "ganjax.registry", "ganjax.types", "ganjax.config.*"),
    # 1 Building blocks that know nothing of training: networks and heads, data sources,
    #   sample-quality statistics, devices and processes, files a run writes for people,
    #   and the experiment configs.
    1: ("ganjax.models.*", "ganjax.data.*", "ganjax.metrics.*", "ganjax.parallel.*",
        "ganjax.outputs.*", "ganjax.experiments.*"),
    # 2 The engine: TrainState, GAN, algorithms and their pure steps, objective terms,
    #   losses, penalties, optimizers, hyperparameters, PRNG streams.
    2: ("ganjax.engine.*",),
    # 3 Evaluation of a TrainState, during training and after it.
    3: ("ganjax.evaluation.*",),
    # 4 Running experiments: session and hooks, runners, checkpoints, workdirs, reopening runs.
    4: ("ganjax.run.*",),
    # 5 Sweeps: many runs of one experiment (points, groups, vectorized groups, launchers,
    #   tables), on top of the run layer.
    5: ("ganjax.sweep.*",),
    # 6 Reproductions: paper recipes (experiments/reproductions) run over runs and sweeps, their
    #   reports and the gallery; studies of their own (the Dirac-GAN).
    6: ("ganjax.reproduce.*", "ganjax.experiments.reproductions.*"),
    # 7 The command line: argparse commands that call into the layers below; and the
    #   playground's web server (ganjax.playground: a page that trains toy GANs live through
    #   the run layer), which `ganjax playground` starts; the command imports it only when it
    #   runs, and the playground uses the command line's helpers (how `ganjax config` writes a
    #   value).
    7: ("ganjax.cli.*", "ganjax.playground.*"),
}

# Modules that must load without these (they are imported by `ganjax --help`, config checks...).
JAX_FREE = ("ganjax.errors", "ganjax.registry", "ganjax.config")
HEAVY = ("jax", "jaxlib", "flax", "optax", "orbax")


@dataclasses.dataclass(frozen=True)
class Edge:
    """One import statement's target: `importer` imports `imported` at file:line."""

    importer: str
    imported: str
    path: str
    line: int
    in_function: bool  # inside a def (runs when called), rather than when the module loads

    def __str__(self) -> str:
        where = " (inside a function)" if self.in_function else ""
        return f"{self.importer} -> {self.imported}  [{self.path}:{self.line}]{where}"


# ---------------------------------------------------------------------------------------------
# Reading the source.


def module_files() -> dict[str, pathlib.Path]:
    """{module name: file} of every .py under the package roots (__init__.py is the package)."""
    modules = {}
    for root, package in PACKAGE_ROOTS:
        for path in sorted(root.rglob("*.py")):
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            modules[".".join([package, *parts])] = path
    return modules


def _relative_base(module: str, is_package: bool, level: int, name: str | None) -> str:
    """The absolute module of `from <level dots><name> import ...` written in `module`."""
    package = module.split(".") if is_package else module.split(".")[:-1]
    base = package[:len(package) - (level - 1)]
    return ".".join(base + ([name] if name else []))


def _walk(tree: ast.AST) -> Iterable[tuple[ast.AST, bool]]:
    """Every node, with whether it sits inside a function body (a class body runs at load)."""
    stack = [(tree, False)]
    while stack:
        node, in_function = stack.pop()
        yield node, in_function
        inner = in_function or isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef,
                                                 ast.Lambda))
        stack.extend((child, inner) for child in ast.iter_child_nodes(node))


def imports_of(module: str, path: pathlib.Path,
               known: Iterable[str]) -> tuple[list[Edge], list[tuple[str, int, bool]]]:
    """(ganjax edges of `module`, [(top-level name, line, in_function)] of all its imports)."""
    known = set(known)
    is_package = path.name == "__init__.py"
    rel = str(path.relative_to(REPO))
    edges, external = [], []
    for node, in_function in _walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                external.append((alias.name.split(".")[0], node.lineno, in_function))
                if alias.name == "ganjax" or alias.name.startswith("ganjax."):
                    edges.append(Edge(module, alias.name, rel, node.lineno, in_function))
        elif isinstance(node, ast.ImportFrom):
            base = (node.module or "") if node.level == 0 else _relative_base(
                module, is_package, node.level, node.module)
            external.append((base.split(".")[0], node.lineno, in_function))
            if not (base == "ganjax" or base.startswith("ganjax.")):
                continue
            for alias in node.names:
                target = f"{base}.{alias.name}"
                edges.append(Edge(module, target if target in known else base, rel,
                                  node.lineno, in_function))
    return list(dict.fromkeys(edges)), external  # one edge per (target, line)


def import_graph() -> tuple[dict[str, pathlib.Path], list[Edge]]:
    """The modules and every ganjax import edge between them, from the source."""
    modules = module_files()
    edges = []
    for module, path in modules.items():
        edges += imports_of(module, path, modules)[0]
    return modules, edges


# ---------------------------------------------------------------------------------------------
# The checks, as functions of a graph (so that a synthetic graph can show that they fail).


def layer_of(module: str, layers: Mapping[int, Iterable[str]] = LAYERS) -> int | None:
    """The layer of `module`: an exact entry, else the longest "pkg.*" entry covering it."""
    best, best_len = None, -1
    for layer, patterns in layers.items():
        for pattern in patterns:
            if pattern.endswith(".*"):
                package = pattern[:-2]
                if (module == package or module.startswith(package + ".")) and \
                        len(package) > best_len:
                    best, best_len = layer, len(package)
            elif module == pattern:
                return layer
    return best


def layer_violations(edges: Iterable[Edge],
                     layer: Callable[[str], int | None] = layer_of) -> list[str]:
    """One line per edge that imports upward (or touches a module in no layer)."""
    problems = []
    for edge in edges:
        low, high = layer(edge.imported), layer(edge.importer)
        if low is None or high is None:
            problems.append(f"{edge}: not in any layer")
        elif low > high:
            problems.append(f"{edge}: layer {high} imports layer {low}")
    return problems


def strongly_connected(graph: Mapping[str, Iterable[str]]) -> list[list[str]]:
    """Tarjan's strongly connected components (iterative), each sorted; singletons included."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    components: list[list[str]] = []
    nodes = set(graph) | {m for targets in graph.values() for m in targets}
    for root in sorted(nodes):
        if root in index:
            continue
        work = [(root, iter(sorted(graph.get(root, ()))))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                components.append(sorted(component))
    return components


def cycle_through(start: str, members: set[str], graph: Mapping[str, Iterable[str]]) -> list[str]:
    """A shortest path start -> ... -> start inside one component (breadth first)."""
    previous: dict[str, str] = {}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for child in sorted(graph.get(node, ())):
                if child not in members:
                    continue
                if child == start:  # walk back from `node` to `start`, then close the loop
                    path = [node]
                    while path[-1] != start:
                        path.append(previous[path[-1]])
                    return path[::-1] + [start]
                if child not in previous:
                    previous[child] = node
                    following.append(child)
        frontier = following
    return []


def import_cycles(edges: Iterable[Edge]) -> list[str]:
    """One line per import cycle: its path, and where each of its imports is written."""
    graph: dict[str, set[str]] = {}
    where: dict[tuple[str, str], Edge] = {}
    for edge in edges:
        graph.setdefault(edge.importer, set()).add(edge.imported)
        where.setdefault((edge.importer, edge.imported), edge)
    problems = []
    for component in strongly_connected(graph):
        members = set(component)
        if len(component) == 1 and component[0] not in graph.get(component[0], ()):
            continue
        path = cycle_through(component[0], members, graph)
        steps = "; ".join(str(where[a, b]) for a, b in zip(path, path[1:]))
        problems.append(f"cycle {' -> '.join(path)} (component of {len(component)}: "
                        f"{', '.join(component)}): {steps}")
    return problems


# ---------------------------------------------------------------------------------------------
# The tests on the real package.


def test_every_module_is_in_a_layer():
    """A new module or subpackage must be placed in `LAYERS` deliberately."""
    modules, _ = import_graph()
    unplaced = sorted(m for m in modules if layer_of(m) is None)
    assert not unplaced, f"modules in no layer of tests/test_layering.py LAYERS: {unplaced}"


def test_imported_modules_exist():
    """Every `ganjax...` import names a module or package that has a file."""
    modules, edges = import_graph()
    missing = [str(e) for e in edges if e.imported not in modules]
    assert not missing, "imports of modules that do not exist:\n" + "\n".join(missing)


def test_imports_only_go_down():
    """Each module imports only its own layer or lower ones (imports inside functions too)."""
    _, edges = import_graph()
    problems = layer_violations(edges)
    assert not problems, "upward imports:\n" + "\n".join(problems)


def test_engine_imports_nothing_from_evaluation_run_or_cli():
    """The engine is pure functions of arrays: no sessions, checkpoints, evaluators or CLI."""
    _, edges = import_graph()
    banned = ("ganjax.evaluation", "ganjax.run", "ganjax.cli")
    bad = [str(e) for e in edges if e.importer.startswith("ganjax.engine")
           and any(e.imported == b or e.imported.startswith(b + ".") for b in banned)]
    assert not bad, "the engine imports from a higher layer:\n" + "\n".join(bad)


def test_no_import_cycles():
    """No cycles, counting imports inside functions as well as at module level.

    A function-level import does not fail at load time, but a cycle through one is still two
    modules that need each other; the layering leaves no reason for one, so none is allowed.
    """
    _, edges = import_graph()
    problems = import_cycles(edges)
    assert not problems, "import cycles:\n" + "\n".join(problems)


def _loaded_with(module: str, modules: Mapping[str, pathlib.Path],
                 edges: list[Edge]) -> set[str]:
    """The ganjax modules that loading `module` runs: module-level imports, transitively, and
    the parent packages of each (importing a.b.c runs a/__init__ and a/b/__init__ first)."""
    module_level: dict[str, set[str]] = {}
    for edge in edges:
        if not edge.in_function:
            module_level.setdefault(edge.importer, set()).add(edge.imported)
    seen, todo = set(), [module]
    while todo:
        current = todo.pop()
        parts = current.split(".")
        for name in [".".join(parts[:i]) for i in range(1, len(parts) + 1)]:
            if name in modules and name not in seen:
                seen.add(name)
                todo.extend(module_level.get(name, ()))
    return seen


def test_foundation_imports_no_jax_at_module_level():
    """errors, registry and config (and everything they load) import no JAX/Flax/optax."""
    modules, edges = import_graph()
    loaded = set()
    for name in JAX_FREE:
        loaded |= _loaded_with(name, modules, edges)
    loaded |= {m for m in modules if m.startswith("ganjax.config.")}
    problems = []
    for module in sorted(loaded):
        path = modules[module]
        for top, line, in_function in imports_of(module, path, modules)[1]:
            if top in HEAVY and not in_function:
                problems.append(f"{module} imports {top} [{path.relative_to(REPO)}:{line}]")
    assert not problems, "JAX at module level under " + ", ".join(JAX_FREE) + ":\n" + \
        "\n".join(problems)


def test_foundation_loads_without_jax():
    code = ("import sys; import ganjax.config, ganjax.registry, ganjax.errors; "
            f"heavy = [m for m in {HEAVY!r} if m in sys.modules]; "
            "assert not heavy, heavy")
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr


# ---------------------------------------------------------------------------------------------
# The checks can fail.


def test_checks_report_an_upward_import_and_a_cycle():
    layers = {0: ("low", "a", "b", "c", "d"), 1: ("high",)}
    edges = [
        Edge("high", "low", "high.py", 1, False),  # fine: down
        Edge("low", "high", "low.py", 3, False),  # upward, and a cycle low <-> high
        Edge("a", "b", "a.py", 1, False),
        Edge("b", "c", "b.py", 2, True),  # a cycle a -> b -> c -> a, one edge inside a function
        Edge("c", "a", "c.py", 5, False),
        Edge("c", "nowhere", "c.py", 6, False),  # a module in no layer
        Edge("d", "d", "d.py", 9, False),  # a self-import is a cycle too
    ]
    layer = lambda m: layer_of(m, layers)  # noqa: E731
    problems = layer_violations(edges, layer)
    assert problems == ["low -> high  [low.py:3]: layer 0 imports layer 1",
                        "c -> nowhere  [c.py:6]: not in any layer"]

    cycles = import_cycles(edges)
    assert len(cycles) == 3
    assert any(c.startswith("cycle d -> d ") for c in cycles)
    abc = next(c for c in cycles if c.startswith("cycle a"))
    assert abc.startswith("cycle a -> b -> c -> a ")
    assert "b -> c  [b.py:2] (inside a function)" in abc
    high_low = next(c for c in cycles if "high" in c)
    assert "high -> low -> high" in high_low or "low -> high -> low" in high_low
    assert strongly_connected({"x": ["y"], "y": []}) == [["y"], ["x"]]
    assert import_cycles([Edge("x", "y", "x.py", 1, False)]) == []


def test_layer_table_matching():
    assert layer_of("ganjax") == 0
    assert layer_of("ganjax.config") == 0 and layer_of("ganjax.config.base") == 0
    assert layer_of("ganjax.engine.state") == 2
    assert layer_of("ganjax.cli") == 7
    assert layer_of("ganjax.experiments.ring8") == 1
    assert layer_of("ganjax.experiments.reproductions.mescheder2018_dirac") == 6  # the longest
    assert layer_of("ganjax.newthing") is None  # "ganjax" covers the package __init__ only
    assert layer_of("ganjax.engineering") is None  # "ganjax.engine.*" is not a string prefix
    assert _relative_base("ganjax.run.loop", False, 1, "hooks") == "ganjax.run.hooks"
    assert _relative_base("ganjax.run", True, 2, None) == "ganjax"
