"""Files depend only downward: no import cycles inside a package (type-only imports included),
and the layers of docs/architecture.md hold (the medium and the core never import a backend or
the TUI; a backend never imports the other)."""

from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx
import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = {"meshnet": ROOT / "meshnet", "meshnet.protocols": ROOT / "protocols",
            "meshnet.topologies": ROOT / "topologies", "meshnet.tui": ROOT / "tui"}


def _modules() -> dict[str, Path]:
    out = {}
    for pkg, folder in PACKAGES.items():
        for path in folder.rglob("*.py"):
            rel = path.relative_to(folder).with_suffix("")
            parts = [p for p in rel.parts if p != "__init__"]
            out[".".join([pkg, *parts])] = path
    return out


MODULES = _modules()


def _resolve(module: str, path: Path, node: ast.ImportFrom) -> str:
    if node.level == 0:
        return node.module or ""
    base = module.split(".")
    if path.name != "__init__.py":
        base = base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _imports(module: str, path: Path) -> set[str]:
    """Every meshnet module ``module`` imports, anywhere in the file (also under
    TYPE_CHECKING and inside functions), resolved to a known module."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            target = _resolve(module, path, node)
            names = [target] + [f"{target}.{a.name}" for a in node.names]
        for name in names:
            while name and name not in MODULES:
                name = name.rpartition(".")[0]
            if name and name != module:
                found.add(name)
    return found


GRAPH = nx.DiGraph()
for _m, _p in MODULES.items():
    GRAPH.add_node(_m)
    for _dep in _imports(_m, _p):
        GRAPH.add_edge(_m, _dep)


def test_the_scan_finds_imports():
    assert "meshnet.medium" in GRAPH.successors("meshnet.sim.simulation")
    assert "meshnet.scheduler" in GRAPH.successors("meshnet.netns.channel")


@pytest.mark.parametrize("package", ["meshnet.sim", "meshnet.medium", "meshnet.netns",
                                     "meshnet.bench",
                                     "meshnet.radio", "meshnet.mobility", "meshnet.tui",
                                     "meshnet.protocols.aodv", "meshnet.protocols.dsdv"])
def test_no_import_cycle_inside(package):
    inside = [m for m in MODULES if m.startswith(package + ".")]
    sub = GRAPH.subgraph(inside)
    assert list(nx.simple_cycles(sub)) == []


FORBIDDEN = {
    "meshnet.medium": ("meshnet.sim", "meshnet.netns", "meshnet.tui", "meshnet.cli"),
    "meshnet.radio": ("meshnet.sim", "meshnet.netns", "meshnet.tui", "meshnet.medium"),
    "meshnet.sim": ("meshnet.netns", "meshnet.tui", "meshnet.cli"),
    "meshnet.netns": ("meshnet.sim.", "meshnet.tui", "meshnet.cli"),
    "meshnet.protocols": ("meshnet.sim", "meshnet.netns", "meshnet.tui", "meshnet.medium"),
    "meshnet.metrics": ("meshnet.sim", "meshnet.netns", "meshnet.tui"),
    "meshnet.events": ("meshnet.sim", "meshnet.netns", "meshnet.tui"),
    "meshnet.bench": ("meshnet.netns", "meshnet.tui", "meshnet.cli"),
}


# the one module whose job is to compare the backends: iperf3 on netns against the simulator
CROSS_BACKEND = {"meshnet.netns.throughput -> meshnet.sim"}


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_layers_import_only_downward(layer):
    bad = []
    for module in MODULES:
        if module == layer or module.startswith(layer + "."):
            for dep in GRAPH.successors(module):
                if any(dep == f.rstrip(".") or dep.startswith(f if f.endswith(".") else f + ".")
                       for f in FORBIDDEN[layer]):
                    bad.append(f"{module} -> {dep}")
    assert [b for b in bad if b not in CROSS_BACKEND] == []
