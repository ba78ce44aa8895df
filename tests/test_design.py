"""The house keeps its shape: imports only look down, and nothing imports in a loop.

The floors are those of docs/design.md; every import in the package (also those
inside functions) is read from the source with ``ast``.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "landgis"

#: docs/design.md's floors: a module may import only from its own floor or below.
FLOORS = {
    0: [
        "errors",
        "schema",
        "crs",
        "gcj02",
        "rules",
        "landclass",
        "config",
        "datasets",
        "order",
        "_version",
    ],
    1: ["io"],
    2: ["engine"],
    3: ["findings", "accounts", "scale", "survey"],
    4: ["present"],
    5: ["monitor"],
    6: ["result", "change"],
    7: ["pipeline"],
    8: ["__init__"],
    9: ["cli"],
    10: ["testing"],  # aside: generated data, used by tests and benchmarks only
}
FLOOR_OF = {name: floor for floor, names in FLOORS.items() for name in names}


def _modules() -> dict[str, Path]:
    out = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE).with_suffix("").parts
        name = ".".join(("landgis", *parts))
        out[name.removesuffix(".__init__") if parts != ("__init__",) else "landgis"] = path
    return out


def _imports(path: Path, modules: dict[str, Path]) -> set[str]:
    """The landgis modules ``path`` imports (a package import counts as its __init__)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        for name in names:
            if name.startswith("landgis") and name in modules:
                found.add(name)
    return found


def _floor(module: str) -> int:
    if module == "landgis":
        return FLOOR_OF["__init__"]
    top = module.split(".")[1]
    if top not in FLOOR_OF:
        raise AssertionError(f"{module}: on no floor of docs/design.md; add it there and here")
    return FLOOR_OF[top]


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: _imports(path, modules) - {name} for name, path in modules.items()}


def test_every_module_has_a_floor():
    for module in _graph():
        _floor(module)


def test_imports_only_look_down():
    upward = [
        f"{a} (floor {_floor(a)}) imports {b} (floor {_floor(b)})"
        for a, targets in _graph().items()
        for b in targets
        if _floor(b) > _floor(a)
    ]
    assert not upward, "\n".join(upward)


def test_no_import_cycles():
    graph = _graph()
    # Tarjan's strongly connected components: any with more than one module is a loop.
    index, low, stack, on, loops = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                loops.append(sorted(component))

    for v in graph:
        if v not in index:
            visit(v)
    assert not loops, loops


def test_the_library_imports_no_cli_and_the_engine_no_io():
    graph = _graph()
    for module, targets in graph.items():
        if not module.startswith("landgis.cli"):
            assert not [t for t in targets if t.startswith("landgis.cli")], module
        if module.startswith("landgis.engine"):
            assert not [t for t in targets if t.startswith("landgis.io")], module


@pytest.mark.parametrize("module", ["landgis.engine", "landgis.io", "landgis.present"])
def test_floors_are_documented(module):
    design = (PACKAGE.parent / "docs" / "design.md").read_text(encoding="utf-8")
    assert f"`{module.split('.')[1]}/`" in design
