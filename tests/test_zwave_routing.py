"""The controller's route computation (protocols/zwave/topology.py): Yen's k shortest paths
limited to 4 repeaters, held to networkx on random graphs; reports, failed links, addresses."""

from __future__ import annotations

import random

import networkx as nx
import pytest

from meshnet.protocols.zwave.topology import Topology, k_shortest_paths, shortest_path


def random_adjacency(seed: int, n: int = 18, p: float = 0.22) -> dict[int, list[int]]:
    g = nx.gnp_random_graph(n, p, seed=seed)
    return {a + 1: sorted(b + 1 for b in g[a]) for a in g}


@pytest.mark.parametrize("seed", range(25))
def test_k_shortest_paths_match_networkx(seed):
    adj = random_adjacency(seed)
    g = nx.Graph([(a, b) for a, nbrs in adj.items() for b in nbrs])
    rng = random.Random(seed)
    for _ in range(6):
        src, dst = rng.sample(sorted(adj), 2)
        ours = k_shortest_paths(adj, src, dst, 5, 5)
        if src in g and dst in g and nx.has_path(g, src, dst):
            ref = []
            for path in nx.shortest_simple_paths(g, src, dst):
                if len(path) - 1 > 5 or len(ref) == 5:
                    break
                ref.append(path)
        else:
            ref = []
        # the same lengths (the k shortest are unique up to ties), each a real simple path
        assert [len(p) for p in ours] == [len(p) for p in ref]
        for path in ours:
            assert path[0] == src and path[-1] == dst and len(set(path)) == len(path)
            assert all(b in adj[a] for a, b in zip(path, path[1:]))
            assert len(path) - 2 <= 4
        assert len({tuple(p) for p in ours}) == len(ours)


def test_shortest_path_prefers_low_ids_among_equals():
    adj = {1: [2, 3], 2: [1, 4], 3: [1, 4], 4: [2, 3]}
    assert shortest_path(adj, 1, 4) == [1, 2, 4]
    assert shortest_path(adj, 1, 4, banned_nodes={2}) == [1, 3, 4]
    assert shortest_path(adj, 1, 4, max_hops=1) is None


def line(n: int) -> Topology:
    topo = Topology()
    for i in range(1, n + 1):
        topo.learn(i, f"10.99.0.{i}")
        topo.report(i, frozenset(j for j in (i - 1, i + 1) if 1 <= j <= n))
    return topo


def test_routes_stop_at_four_repeaters():
    topo = line(7)
    assert topo.routes(1, 6, 4, 4) == [(2, 3, 4, 5)]
    assert topo.routes(1, 7, 4, 4) == []  # six hops: five repeaters
    assert topo.hops(1, 7) == 6
    assert topo.routes(1, 4, 4, 1) == []  # a smaller limit is honoured too


def test_either_report_makes_a_link_and_a_failure_removes_it_until_reported_again():
    topo = Topology()
    topo.report(1, frozenset({2}))
    topo.report(3, frozenset({2}))
    assert topo.adjacency() == {1: [2], 2: [1, 3], 3: [2]}
    version = topo.version
    assert topo.fail(2, 3) and topo.version > version
    assert topo.routes(1, 3, 4, 4) == []
    assert not topo.fail(2, 3)  # already gone
    topo.report(2, frozenset({1, 3}))  # fresh evidence
    assert topo.routes(1, 3, 4, 4) == [(2,)]


def test_alternatives_are_ranked_by_length_then_node_ids():
    topo = Topology()
    topo.report(1, frozenset({2, 3, 4}))
    topo.report(5, frozenset({2, 3}))
    topo.report(4, frozenset({6}))
    topo.report(6, frozenset({5}))
    assert topo.routes(1, 5, 4, 4) == [(2,), (3,), (4, 6)]
