"""DSDV behaviour on scripted contexts wired into small static graphs."""

import random

import networkx as nx
import pytest

from meshnet.protocol_api import BROADCAST, Packet
from meshnet.protocols.dsdv import DSDV, DsdvParams
from meshnet.protocols.dsdv.wire import INFINITY, Entry, Update, decode, encode
from tests.fakes import FakeContext
from tests.simhelpers import walk_next_hops

INTERVAL = DsdvParams().periodic_update_interval


def addr(i: int) -> str:
    return f"10.99.0.{i + 1}"


class Mesh:
    """FakeContexts on a shared clock; a broadcast reaches the sender's neighbours in ``graph``.

    Time moves in small steps; whatever a node sent during a step is delivered at the end of it.
    ``route_changes`` is called after every delivery round so tests can check invariants.
    """

    STEP = 0.02

    def __init__(self, graph: nx.Graph, seed: int = 1, params: DsdvParams | None = None) -> None:
        self.graph = graph
        self.ctxs = {n: FakeContext(addr(n), node_id=n, seed=seed * 1000 + n) for n in graph}
        self.protos = {n: DSDV(self.ctxs[n], params) for n in graph}
        self.by_addr = {addr(n): n for n in graph}
        self.now = 0.0
        self.log: list[tuple[float, int, Update]] = []  # (time, sender, update)
        for p in self.protos.values():
            p.start()

    def run(self, duration: float, check=None) -> None:
        end = self.now + duration
        while self.now < end - 1e-9:
            self.now = min(end, self.now + self.STEP)
            for n, ctx in self.ctxs.items():
                ctx.advance(self.now - ctx.now)
            self._deliver()
            if check is not None:
                check(self)

    def _deliver(self) -> None:
        pending = True
        while pending:
            pending = False
            for n, ctx in self.ctxs.items():
                for dst, payload in ctx.take_sent():
                    assert dst == BROADCAST
                    self.log.append((self.now, n, decode(payload)))
                    for m in self.graph.neighbors(n):
                        self.protos[m].on_control(addr(n), payload)
                    pending = True

    def route(self, src: int, dst: int):
        return self.ctxs[src].routes.lookup(addr(dst))

    def path(self, src: int, dst: int) -> list[int] | None:
        """Follow next hops; None if a hop has no route. Fails on a loop."""
        tables = {n: c.routes for n, c in self.ctxs.items()}
        return walk_next_hops(tables, self.by_addr, src, dst, addr(dst))


def assert_shortest_routes(mesh: Mesh) -> None:
    lengths = dict(nx.all_pairs_shortest_path_length(mesh.graph))
    for s in mesh.graph:
        for d in mesh.graph:
            if s == d:
                continue
            r = mesh.route(s, d)
            assert r is not None, f"{s} has no route to {d}"
            assert r.metric == lengths[s][d], f"{s}->{d}: metric {r.metric} != {lengths[s][d]}"
            assert r.seqno % 2 == 0
            assert mesh.path(s, d) is not None


def test_line_of_ten_converges_within_two_periodic_intervals():
    mesh = Mesh(nx.path_graph(10))
    mesh.run(2 * INTERVAL)
    assert_shortest_routes(mesh)
    assert mesh.route(0, 9).next_hop == addr(1)
    assert mesh.route(9, 0).next_hop == addr(8)
    assert len(mesh.ctxs[0].routes) == 9
    modes = {u.full for _, _, u in mesh.log}
    assert modes == {True, False}  # periodic dumps and triggered updates both happened


def test_update_events_are_emitted():
    mesh = Mesh(nx.path_graph(5))
    mesh.run(INTERVAL + 2)
    sent = [f for c in mesh.ctxs.values() for kind, f in c.events if kind == "update_sent"]
    assert {f["mode"] for f in sent} == {"full", "incremental"}
    assert all(f["entries"] >= 1 for f in sent)


def test_own_broadcast_echo_is_ignored():
    ctx = FakeContext(addr(0))
    proto = DSDV(ctx)
    proto.start()
    proto.on_control(addr(0), encode(Update(True, (Entry(addr(5), 10, 1),))))
    assert len(ctx.routes) == 0 and len(proto.table) == 0


def test_sequence_numbers_are_even_and_grow_with_each_full_dump():
    ctx = FakeContext(addr(0))
    proto = DSDV(ctx)
    proto.start()
    ctx.advance(3 * INTERVAL)
    own = [e.seqno for _, p in ctx.sent for e in decode(p).entries if e.dst == addr(0)]
    assert len(own) == 3 and all(s % 2 == 0 for s in own) and own == sorted(set(own))


def test_link_break_propagates_odd_seqno_and_removes_routes_on_a_line():
    mesh = Mesh(nx.path_graph(6))
    mesh.run(2 * INTERVAL)
    assert mesh.route(0, 5).metric == 5
    mesh.graph.remove_edge(2, 3)
    mesh.protos[2].on_link_failure(addr(3), None)  # link-layer feedback
    assert mesh.route(2, 5) is None
    seqno = mesh.protos[2].table.get(addr(5)).seqno
    assert seqno % 2 == 1
    assert ("route_broken", {"dst": addr(5), "next_hop": addr(3), "seqno": seqno}) \
        in mesh.ctxs[2].events
    t_break = mesh.now
    mesh.run(3.0)
    for d in (3, 4, 5):
        assert mesh.route(0, d) is None and mesh.route(1, d) is None
        entry = mesh.protos[0].table.get(addr(d))
        assert entry.seqno % 2 == 1 and entry.metric == INFINITY
    broken_ads = [e for t, n, u in mesh.log if t >= t_break and n == 2 for e in u.entries
                  if e.dst == addr(5)]
    assert broken_ads and all(e.seqno % 2 == 1 and e.metric == INFINITY for e in broken_ads)
    # The other side lost routes to 0..2 through missed updates: node 3 stops hearing 2.
    mesh.run(DsdvParams().holdtimes * INTERVAL + INTERVAL + 2)
    assert mesh.route(3, 0) is None and mesh.route(5, 2) is None


def test_break_on_a_grid_reroutes_over_the_shortest_remaining_path():
    graph = nx.grid_2d_graph(3, 3)
    graph = nx.convert_node_labels_to_integers(graph, ordering="sorted")  # (r, c) -> 3r + c
    mesh = Mesh(graph, seed=3)
    mesh.run(2 * INTERVAL)
    assert_shortest_routes(mesh)
    # Node 4 (the centre) walks away: all its links break, neighbours learn it by feedback.
    for nb in list(graph.neighbors(4)):
        graph.remove_edge(4, nb)
        mesh.protos[nb].on_link_failure(addr(4), None)
    mesh.run(2 * INTERVAL)
    graph.remove_node(4)
    lengths = dict(nx.all_pairs_shortest_path_length(graph))
    for s in graph:
        for d in graph:
            if s != d:
                r = mesh.route(s, d)
                assert r is not None and r.metric == lengths[s][d], (s, d, r)
                assert r.next_hop != addr(4)
    assert mesh.path(1, 7) in ([1, 0, 3, 6, 7], [1, 2, 5, 8, 7])
    assert mesh.route(0, 4) is None


def test_missed_updates_break_routes_without_link_feedback():
    mesh = Mesh(nx.path_graph(3))
    mesh.run(2 * INTERVAL)
    mesh.graph.remove_edge(1, 2)  # silently
    hold = DsdvParams().holdtimes * INTERVAL
    mesh.run(hold - INTERVAL)
    assert mesh.route(1, 2) is not None  # still within the hold time
    mesh.run(2 * INTERVAL + 1)
    assert mesh.route(1, 2) is None and mesh.route(0, 2) is None
    assert any(k == "route_broken" and f["dst"] == addr(2) for k, f in mesh.ctxs[1].events)


def test_node_declared_unreachable_answers_with_fresher_seqno():
    ctx = FakeContext(addr(0))
    proto = DSDV(ctx)
    proto.start()
    ctx.advance(1.0)
    ctx.take_sent()
    proto.on_control(addr(1), encode(Update(False, (Entry(addr(1), 2, 0), Entry(addr(0), 41, INFINITY)))))
    ctx.advance(2.0)
    (_, payload), = ctx.take_sent()
    own = [e for e in decode(payload).entries if e.dst == addr(0)]
    assert own == [Entry(addr(0), 42, 0)]


class Single:
    """One DSDV node fed hand-made updates."""

    def __init__(self, **params):
        self.ctx = FakeContext(addr(0))
        self.proto = DSDV(self.ctx, DsdvParams(**params))
        self.proto.start()
        self.ctx.advance(1.5)  # first full dump is out of the way
        self.ctx.take_sent()

    def hear(self, src: int, *entries: tuple[int, int, int]) -> None:
        own = self.proto.seqno  # the sender's own entry: keep seqnos simple
        ents = [Entry(addr(src), 100 + own, 0)] + [Entry(addr(d), s, m) for d, s, m in entries]
        self.proto.on_control(addr(src), encode(Update(False, tuple(ents))))

    def advertised(self, dst: int) -> list[Entry]:
        return [e for _, p in self.ctx.take_sent() for e in decode(p).entries if e.dst == addr(dst)]


def test_settling_delays_advertising_a_worse_route():
    node = Single()
    node.hear(1, (9, 10, 2))  # new route: metric 3, advertised promptly
    node.ctx.advance(1.1)
    assert node.advertised(9) == [Entry(addr(9), 10, 3)]
    node.hear(2, (9, 12, 4))  # newer seqno, worse metric: used now ...
    route = node.ctx.routes.lookup(addr(9))
    assert (route.next_hop, route.metric, route.seqno) == (addr(2), 5, 12)
    node.ctx.advance(1.1)
    node.hear(3)  # unrelated change triggers an incremental update
    node.ctx.advance(1.1)
    assert node.advertised(9) == []  # ... but not advertised before the settling time
    node.ctx.advance(3.0)  # settling time (5 s) elapsed
    assert ("route_settled", {"dst": addr(9), "next_hop": addr(2), "metric": 5, "seqno": 12}) \
        in node.ctx.events
    node.ctx.advance(1.1)
    assert node.advertised(9) == [Entry(addr(9), 12, 5)]


def test_full_dump_during_settling_carries_the_previous_advertisement():
    node = Single(settling_time=30.0)  # the next full dump falls inside the settling time
    node.hear(1, (9, 10, 2))
    node.ctx.advance(1.1)
    node.hear(2, (9, 12, 4))
    node.ctx.advance(INTERVAL)
    full = [decode(p) for _, p in node.ctx.take_sent()]
    assert any(u.full for u in full)
    assert [e for u in full if u.full for e in u.entries if e.dst == addr(9)] == [Entry(addr(9), 10, 3)]
    assert node.ctx.routes.lookup(addr(9)).metric == 5


def test_same_seqno_better_metric_updates_the_weighted_settling_average():
    node = Single()
    node.hear(1, (9, 10, 2))
    node.hear(2, (9, 12, 6))  # first advertisement of seqno 12 at t
    node.ctx.advance(1.0)
    node.hear(3, (9, 12, 3))  # best one follows 1 s later
    entry = node.proto.table.get(addr(9))
    assert entry.next_hop == addr(3) and entry.metric == 4
    assert entry.settling == pytest.approx(0.875 * 5.0 + 0.125 * 1.0)


def test_unweighted_settling_waits_exactly_the_settling_time():
    node = Single(enable_weighted_settling=False, settling_time=2.0)
    node.hear(1, (9, 10, 2))
    node.ctx.advance(1.1)
    node.advertised(9)
    node.hear(2, (9, 12, 4))
    node.ctx.advance(1.9)
    assert not any(k == "route_settled" for k, _ in node.ctx.events)
    node.ctx.advance(0.2)
    assert any(k == "route_settled" for k, _ in node.ctx.events)


def test_newer_seqno_with_same_metric_is_advertised_without_settling():
    node = Single()
    node.hear(1, (9, 10, 2))
    node.ctx.advance(1.1)
    node.advertised(9)
    node.hear(2, (9, 12, 2))
    node.ctx.advance(1.1)
    assert node.advertised(9) == [Entry(addr(9), 12, 3)]


def test_stale_and_foreign_breaks_are_ignored():
    node = Single()
    node.hear(1, (9, 10, 2))
    node.hear(2, (9, 8, 1))  # older seqno, even if shorter
    assert node.ctx.routes.lookup(addr(9)).next_hop == addr(1)
    node.hear(2, (9, 11, INFINITY))  # break reported by a node that is not our next hop
    assert node.ctx.routes.lookup(addr(9)).next_hop == addr(1)
    node.hear(1, (9, 11, INFINITY))  # our next hop: the route is gone
    assert node.ctx.routes.lookup(addr(9)) is None
    node.hear(2, (9, 10, 1))  # not newer than the break
    assert node.ctx.routes.lookup(addr(9)) is None
    node.hear(2, (9, 12, 1))  # the destination's next seqno re-establishes it
    assert node.ctx.routes.lookup(addr(9)).next_hop == addr(2)


def test_buffering_holds_packets_until_a_route_appears():
    node = Single(enable_buffering=True, max_queued_per_dst=2)
    pkts = [Packet(uid=i, src=addr(0), dst=addr(9), size=64, created=0.0) for i in range(3)]
    for p in pkts:
        node.proto.on_no_route(p)
    assert node.ctx.held == pkts[:2] and node.ctx.dropped == [(pkts[2], "queue_full")]
    node.hear(1, (9, 10, 2))
    assert node.ctx.data_sent == pkts[:2]
    late = Packet(uid=9, src=addr(0), dst=addr(7), size=64, created=0.0)
    node.proto.on_no_route(late)
    node.ctx.advance(31.0)
    assert (late, "no_route") in node.ctx.dropped


def test_without_buffering_packets_without_route_are_dropped():
    node = Single()
    p = Packet(uid=1, src=addr(0), dst=addr(9), size=64, created=0.0)
    node.proto.on_no_route(p)
    assert node.ctx.dropped == [(p, "no_route")]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_no_loops_while_links_flap(seed):
    rng = random.Random(seed)
    graph = nx.random_geometric_graph(16, 0.4, seed=seed)
    mesh = Mesh(graph, seed=seed)
    every = list(graph)

    def no_loops(m: Mesh) -> None:
        for s in every:
            for d in every:
                if s != d:
                    m.path(s, d)  # asserts on a loop

    mesh.run(2 * INTERVAL, check=no_loops)
    for _ in range(12):
        u, v = rng.sample(every, 2)
        if graph.has_edge(u, v):
            graph.remove_edge(u, v)
            if rng.random() < 0.5:
                mesh.protos[u].on_link_failure(addr(v), None)
        else:
            graph.add_edge(u, v)
        mesh.run(rng.uniform(0.5, 8.0), check=no_loops)


def test_stop_cancels_timers_and_revival_starts_clean():
    mesh = Mesh(nx.path_graph(3))
    mesh.run(INTERVAL)
    mesh.protos[1].stop()
    mesh.ctxs[1].take_sent()
    mesh.ctxs[1].advance(3 * INTERVAL)
    assert mesh.ctxs[1].take_sent() == []
    mesh.protos[1].start()
    assert len(mesh.ctxs[1].routes) == 0
    mesh.run(INTERVAL)
    assert mesh.route(1, 0) is not None and mesh.route(0, 2).metric == 2
