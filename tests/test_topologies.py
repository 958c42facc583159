"""Node placements: exact spacings, positions inside the area, files read through networkx."""

from __future__ import annotations

import math
import random

import networkx as nx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from meshnet.geometry import distance, inside
from meshnet.topologies import (
    PLACEMENTS,
    TopologyError,
    clusters,
    from_file,
    grid,
    line,
    load_graph,
    place,
    ring,
    uniform,
)


def test_line_has_exact_spacing_from_origin():
    points = line(5, 30.0, origin=(10.0, 7.0))
    assert points == [(10.0, 7.0), (40.0, 7.0), (70.0, 7.0), (100.0, 7.0), (130.0, 7.0)]
    assert line(0, 30.0) == []


def test_grid_is_row_major_with_exact_spacing():
    points = grid(7, 25.0, cols=3)
    assert points == [(0, 0), (25, 0), (50, 0), (0, 25), (25, 25), (50, 25), (0, 50)]
    square = grid(9, 10.0)
    assert max(x for x, _ in square) == 20.0 and max(y for _, y in square) == 20.0
    assert len(grid(10, 10.0)) == 10  # 4 columns by default, last row partly filled


@settings(max_examples=30, deadline=None)
@given(n=st.integers(min_value=2, max_value=200), spacing=st.floats(min_value=0.5, max_value=1e4))
def test_ring_neighbours_are_spacing_apart(n, spacing):
    points = ring(n, spacing)
    assert len(points) == n
    for i in range(n):
        assert distance(points[i], points[(i + 1) % n]) == pytest.approx(spacing, rel=1e-9)
    assert min(min(p) for p in points) >= -1e-9 * spacing  # default centre keeps coordinates >= 0


def test_ring_of_one_is_a_point():
    assert ring(1, 50.0) == [(0.0, 0.0)]


def test_uniform_is_inside_and_reproducible():
    first = uniform(200, 1500.0, 300.0, random.Random(5))
    assert first == uniform(200, 1500.0, 300.0, random.Random(5))
    assert first != uniform(200, 1500.0, 300.0, random.Random(6))
    assert all(inside(p, (1500.0, 300.0), 0.0) for p in first)


def test_clusters_group_nodes_around_k_centres():
    points = clusters(400, 1000.0, 1000.0, random.Random(2), k=4, spread=20.0)
    assert len(points) == 400
    assert all(inside(p, (1000.0, 1000.0), 0.0) for p in points)
    for c in range(4):
        members = points[c::4]
        cx = sum(x for x, _ in members) / len(members)
        cy = sum(y for _, y in members) / len(members)
        spread = math.sqrt(sum(distance(p, (cx, cy)) ** 2 for p in members) / len(members))
        assert spread < 40.0  # ~ sqrt(2) * 20 for a 2-D Gaussian


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(),
    placement=st.sampled_from(["uniform", "clusters"]),
    width=st.floats(min_value=0.0, max_value=5000.0),
    height=st.floats(min_value=0.0, max_value=5000.0),
    n=st.integers(min_value=0, max_value=60),
)
def test_random_placements_stay_inside_for_any_seed(seed, placement, width, height, n):
    points = place(placement, n, (width, height), 10.0, random.Random(seed))
    assert len(points) == n
    assert all(inside(p, (width, height), 0.0) for p in points)


@pytest.mark.parametrize("placement", ["line", "grid", "ring"])
def test_regular_placements_are_centred_and_keep_spacing(placement):
    area = (1000.0, 1000.0)
    points = place(placement, 9, area, 50.0, random.Random(0))
    assert all(inside(p, area, 1e-9) for p in points)
    xs, ys = [x for x, _ in points], [y for _, y in points]
    assert (min(xs) + max(xs)) / 2 == pytest.approx(500.0)
    assert (min(ys) + max(ys)) / 2 == pytest.approx(500.0)
    assert distance(points[0], points[1]) == pytest.approx(50.0)


def test_layout_too_big_for_the_area_is_an_error():
    with pytest.raises(TopologyError) as info:
        place("line", 50, (1500.0, 300.0), 100.0, random.Random(0))
    assert "4900 x 0 m" in str(info.value) and "1500 x 300" in str(info.value)


@pytest.mark.parametrize(
    "args, fragment",
    [
        (("hexagon", 5, (100, 100), 10.0), "nodes.placement = 'hexagon'"),
        (("line", 5, (100, 100), 0.0), "nodes.spacing = 0.0"),
        (("grid", -1, (100, 100), 10.0), "nodes.count = -1"),
        (("uniform", 5, (100, -1), 10.0), "area.height = -1"),
        (("file", 5, (100, 100), 10.0), "nodes.file is required"),
    ],
)
def test_place_rejects_bad_requests(args, fragment):
    with pytest.raises(TopologyError) as info:
        place(*args, rng=random.Random(0))
    assert fragment in str(info.value)


def test_placements_listed():
    assert PLACEMENTS == ("line", "grid", "ring", "uniform", "clusters", "file")


# --------------------------------------------------------------------------- files


def test_graphml_round_trip_with_x_and_y(tmp_path):
    graph = nx.Graph()
    for name, x, y in [("gw", 0.0, 0.0), ("n1", 120.5, 30.25), ("n2", 240.0, 60.0)]:
        graph.add_node(name, x=x, y=y)
    graph.add_edge("gw", "n1")
    path = tmp_path / "mesh.graphml"
    nx.write_graphml(graph, path)
    names, positions = from_file(path)
    assert names == ["gw", "n1", "n2"]
    assert positions == [(0.0, 0.0), (120.5, 30.25), (240.0, 60.0)]
    assert set(load_graph(path).edges()) == {("gw", "n1")}
    assert place("file", 3, (300.0, 100.0), 1.0, random.Random(0), file=path) == positions


def test_graphml_with_pos_strings_and_integer_ids(tmp_path):
    graph = nx.path_graph(3)
    for node in graph:
        graph.nodes[node]["pos"] = f"{node * 10},{node * 5}"
    path = tmp_path / "pos.xml"
    nx.write_graphml(graph, path)
    names, positions = from_file(path)
    assert names == ["0", "1", "2"]
    assert positions == [(0.0, 0.0), (10.0, 5.0), (20.0, 10.0)]


def test_edge_list_with_positions_section(tmp_path):
    path = tmp_path / "mesh.txt"
    path.write_text(
        "# a small mesh\n[positions]\na 0 0\nb 100 0  # east\nc 100 100\n\n[edges]\na b\nb c 3.5\n"
    )
    names, positions = from_file(path)
    assert names == ["a", "b", "c"]
    assert positions == [(0.0, 0.0), (100.0, 0.0), (100.0, 100.0)]
    assert set(map(frozenset, load_graph(path).edges())) == {frozenset("ab"), frozenset("bc")}


@pytest.mark.parametrize(
    "name, content, fragment",
    [
        ("bad.graphml", "<graphml><node", "not valid GraphML"),
        ("nopos.graphml", None, "node 'a' has no position"),
        ("e1.txt", "a b\n", "e1.txt:1: data before any section"),
        ("e2.txt", "[positions]\na 0\n", "e2.txt:2: expected 'NAME X Y'"),
        ("e3.txt", "[positions]\na 0 zero\n", "e3.txt:2: node 'a' has y = 'zero'"),
        ("e4.txt", "[positions]\na 0 0\n[edges]\na z\n", "e4.txt:4: edge end 'z' has no position"),
        ("e5.txt", "[nodes]\n", "e5.txt:1: unknown section [nodes]"),
        ("e6.txt", "# nothing\n", "no [positions] section"),
        ("e7.txt", "[positions]\na 0 0\na 1 1\n", "e7.txt:3: node 'a' is placed twice"),
    ],
)
def test_bad_topology_files_name_the_file_and_problem(tmp_path, name, content, fragment):
    path = tmp_path / name
    if content is None:
        graph = nx.Graph()
        graph.add_node("a", colour="red")
        nx.write_graphml(graph, path)
    else:
        path.write_text(content)
    with pytest.raises(TopologyError) as info:
        from_file(path)
    message = str(info.value)
    assert str(path) in message or name in message
    assert fragment in message
    assert "\n" not in message


def test_missing_file_is_a_topology_error(tmp_path):
    with pytest.raises(TopologyError, match=r"missing\.graphml: cannot read topology file"):
        from_file(tmp_path / "missing.graphml")


def test_file_placement_checks_count_and_area(tmp_path):
    path = tmp_path / "m.txt"
    path.write_text("[positions]\na 0 0\nb 500 0\n")
    with pytest.raises(TopologyError, match="places 2 nodes but nodes.count = 3"):
        place("file", 3, (1000.0, 10.0), 1.0, random.Random(0), file=path)
    outside = r"node 'b' at \(500, 0\) lies outside the area 100 x 10"
    with pytest.raises(TopologyError, match=outside):
        place("file", None, (100.0, 10.0), 1.0, random.Random(0), file=path)
