"""SMF's reduced relay sets as pure functions: MPR selection covers every two-hop neighbour, and
E-CDS self-election yields a connected dominating set on random unit-disk graphs when each node
decides from its own two-hop view only (with and without distinct router priorities)."""

from __future__ import annotations

import random

import networkx as nx
import pytest

from protocols.smf.relays import ecds_relay, select_mprs


def test_mprs_take_the_only_way_to_a_two_hop_node_then_the_widest_cover():
    two_hop = {"10.0.0.2": {"10.0.0.9"},  # the only way to .9
               "10.0.0.3": {"10.0.0.10", "10.0.0.11", "10.0.0.12"},
               "10.0.0.4": {"10.0.0.10"},
               "10.0.0.5": {"10.0.0.11", "10.0.0.12"}}
    assert select_mprs(two_hop) == {"10.0.0.2", "10.0.0.3"}


def test_no_two_hop_neighbours_no_mprs():
    assert select_mprs({"10.0.0.2": set(), "10.0.0.3": set()}) == set()
    assert select_mprs({}) == set()


def test_a_redundant_mpr_is_dropped():
    # .2 is chosen first as the only way to .9; .3 then covers .10 and .11, which .2 covers too
    two_hop = {"10.0.0.2": {"10.0.0.9", "10.0.0.10", "10.0.0.11"},
               "10.0.0.3": {"10.0.0.10", "10.0.0.11"}}
    assert select_mprs(two_hop) == {"10.0.0.2"}


def _views(g: nx.Graph, me: int, prio: dict[int, int]):
    """What node ``me`` learns from its neighbours' HELLOs."""
    name = lambda v: f"10.99.{v >> 8}.{v & 255}"  # noqa: E731
    one = set(g[me])
    two_hop = {name(u): {name(w) for w in g[u] if w != me and w not in one} for u in one}
    links = {}
    priorities = {}
    for u in one:
        priorities[name(u)] = prio[u]
        for w in g[u]:
            if w == me:
                continue
            links.setdefault(name(u), set()).add(name(w))
            links.setdefault(name(w), set()).add(name(u))
            priorities.setdefault(name(w), prio[w])
    return name(me), {name(u) for u in one}, two_hop, priorities, links


def _unit_disk(seed: int, n: int = 40, size: float = 600.0, r: float = 160.0) -> nx.Graph:
    rng = random.Random(seed)
    pos = {i + 1: (rng.uniform(0, size), rng.uniform(0, size)) for i in range(n)}
    g = nx.Graph()
    g.add_nodes_from(pos)
    for a in pos:
        for b in pos:
            if a < b and (pos[a][0] - pos[b][0]) ** 2 + (pos[a][1] - pos[b][1]) ** 2 <= r * r:
                g.add_edge(a, b)
    return g


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("distinct_priorities", [False, True])
def test_ecds_is_a_connected_dominating_set(seed, distinct_priorities):
    g = _unit_disk(seed)
    rng = random.Random(seed)
    prio = {v: (rng.randrange(256) if distinct_priorities else 64) for v in g}
    relays = set()
    for v in g:
        me, one, _two, priorities, links = _views(g, v, prio)
        if ecds_relay(me, prio[v], one, priorities, links):
            relays.add(v)
    for comp in nx.connected_components(g):
        if len(comp) < 3:
            continue
        sub = relays & comp
        assert sub, f"component of {len(comp)} nodes without a relay"
        assert all(v in sub or set(g[v]) & sub for v in comp), "not dominating"
        assert nx.is_connected(g.subgraph(sub)), "relays not connected"
    assert len(relays) < g.number_of_nodes()


@pytest.mark.parametrize("seed", range(8))
def test_mprs_cover_every_two_hop_neighbour(seed):
    g = _unit_disk(seed)
    for v in g:
        _me, _one, two_hop, _p, _l = _views(g, v, {u: 64 for u in g})
        mprs = select_mprs(two_hop)
        covered = set().union(*(two_hop[m] for m in mprs)) if mprs else set()
        assert covered == set().union(*two_hop.values()) if two_hop else not mprs


def test_ecds_line_keeps_the_inner_nodes():
    g = nx.path_graph(range(1, 7))
    assert {v for v in g if _ecds(g, v)} == {2, 3, 4, 5}


def _ecds(g: nx.Graph, v: int) -> bool:
    me, one, _two, priorities, links = _views(g, v, {u: 64 for u in g})
    return ecds_relay(me, 64, one, priorities, links)
