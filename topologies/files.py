"""Node positions from files: GraphML, or an edge list with a ``[positions]`` section.

GraphML nodes carry numeric attributes ``x`` and ``y``, or a string ``pos = "x,y"``. The edge-list
format is plain text::

    # comments and blank lines are ignored
    [positions]
    a 0 0
    b 100 0
    [edges]
    a b

Edges are optional and only kept in :func:`load_graph`'s graph: which links exist is for the radio
model to decide, not the file.
"""

from __future__ import annotations

import math
import os
import warnings
from pathlib import Path
from typing import TYPE_CHECKING
from xml.etree.ElementTree import ParseError

from meshnet.geometry import Point

from .errors import TopologyError

if TYPE_CHECKING:
    import networkx as nx

GRAPHML_SUFFIXES = (".graphml", ".xml")


def _networkx():
    """networkx, imported on first use: most runs read no file, and the import costs 70 ms."""
    import networkx

    return networkx


def from_file(path: str | os.PathLike) -> tuple[list[str], list[Point]]:
    """``(names, positions)`` of the nodes in a GraphML or edge-list file, in file order."""
    graph = load_graph(path)
    names = [str(node) for node in graph.nodes]
    positions = [graph.nodes[node]["pos"] for node in graph.nodes]
    return names, positions


def load_graph(path: str | os.PathLike) -> nx.Graph:
    """The file as a networkx graph whose nodes (names as strings) all have ``pos = (x, y)``."""
    source = Path(path)
    try:
        text = source.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError, ValueError) as exc:  # ValueError: a NUL in the path
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise TopologyError(f"{source}: cannot read topology file: {reason}") from None
    if source.suffix.lower() in GRAPHML_SUFFIXES or text.lstrip().startswith("<"):
        graph = _read_graphml(source)
    else:
        graph = _parse_edge_list(source, text)
    if graph.number_of_nodes() == 0:
        raise TopologyError(f"{source}: the file has no nodes")
    return graph


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]


def _read_graphml(source: Path) -> nx.Graph:
    """The GraphML file as networkx reads it. networkx's warnings (port tags, keys without a
    type) are about attributes positions do not use, so they stay off stderr; an XML
    declaration naming an encoding Python does not know is an error like any other."""
    nx = _networkx()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            raw = nx.read_graphml(source)
    except (ParseError, nx.NetworkXError, ValueError, KeyError, TypeError, LookupError) as exc:
        raise TopologyError(f"{source}: not valid GraphML: {_first_line(exc)}") from None
    graph = nx.Graph()
    for node, attrs in raw.nodes(data=True):
        graph.add_node(str(node), pos=_graphml_position(source, node, attrs))
    graph.add_edges_from((str(u), str(v)) for u, v in raw.edges())
    return graph


def _graphml_position(source: Path, node: object, attrs: dict) -> Point:
    if "x" in attrs and "y" in attrs:
        return (
            _coordinate(source, node, "x", attrs["x"]),
            _coordinate(source, node, "y", attrs["y"]),
        )
    if "pos" in attrs:
        parts = str(attrs["pos"]).replace(",", " ").split()
        if len(parts) != 2:
            raise TopologyError(
                f"{source}: node {node!r} has pos = {attrs['pos']!r}: expected \"x,y\""
            )
        return (_coordinate(source, node, "x", parts[0]), _coordinate(source, node, "y", parts[1]))
    raise TopologyError(
        f"{source}: node {node!r} has no position: expected attributes x and y, or pos = \"x,y\""
    )


def _coordinate(source: Path, node: object, axis: str, value: object) -> float:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        number = math.nan
    if isinstance(value, bool) or not math.isfinite(number):
        raise TopologyError(f"{source}: node {node!r} has {axis} = {value!r}: expected a number")
    return number


def _parse_edge_list(source: Path, text: str) -> nx.Graph:
    nx = _networkx()
    graph = nx.Graph()
    section = None
    edge_lines: list[tuple[int, str]] = []
    for lineno, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        where = f"{source}:{lineno}"
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1].strip().lower()
            if section not in ("positions", "edges"):
                raise TopologyError(
                    f"{where}: unknown section [{section}]: expected [positions] or [edges]"
                )
            continue
        if section == "positions":
            parts = line.split()
            if len(parts) != 3:
                raise TopologyError(f"{where}: expected 'NAME X Y', got {line!r}")
            name = parts[0]
            if name in graph:
                raise TopologyError(f"{where}: node {name!r} is placed twice")
            graph.add_node(name, pos=(_coordinate(where, name, "x", parts[1]),
                                      _coordinate(where, name, "y", parts[2])))
        elif section == "edges":
            edge_lines.append((lineno, line))
        else:
            raise TopologyError(
                f"{where}: data before any section: start with [positions] (then [edges])"
            )
    if graph.number_of_nodes() == 0:
        raise TopologyError(f"{source}: no [positions] section with 'NAME X Y' lines")
    for lineno, line in edge_lines:
        try:
            edge = nx.parse_edgelist([line], nodetype=str, data=False)
        except (TypeError, ValueError, IndexError, nx.NetworkXError) as exc:
            raise TopologyError(f"{source}:{lineno}: bad edge: {_first_line(exc)}") from None
        for u, v in edge.edges():
            for end in (u, v):
                if end not in graph:
                    raise TopologyError(f"{source}:{lineno}: edge end {end!r} has no position")
            graph.add_edge(u, v)
    return graph
