"""DSDV on the simulator: convergence on a line, rerouting on a grid, loop freedom under mobility."""

import pytest

from meshnet.protocols.dsdv import DsdvParams
from meshnet.protocols.dsdv.wire import INFINITY
from meshnet.scenario import load_scenario
from meshnet.sim import Simulation
from tests.simhelpers import next_hop_path

INTERVAL = DsdvParams().periodic_update_interval


def dsdv(name: str, *overrides: str) -> Simulation:
    return Simulation(load_scenario(name, overrides=list(overrides), protocol="dsdv"))


def test_static_line_converges_within_two_intervals_and_delivers():
    sim = dsdv("line", "scenario.duration=60", f"traffic.start={2 * INTERVAL}",
               "traffic.1.pairs=[[10, 1]]", f"traffic.1.start={2 * INTERVAL}")
    sim.run_until(2 * INTERVAL)
    for i in range(10):
        for j in range(10):
            if i != j:
                route = sim.nodes[i].routes.lookup(sim.nodes[j].address)
                assert route is not None, f"node {i} has no route to node {j}"
                assert route.metric == abs(i - j)
                assert next_hop_path(sim, i, j) == list(range(i, j, 1 if j > i else -1)) + [j]
    result = sim.run()
    assert result["sent"] > 0 and result["delivered"] == result["sent"]
    assert result["mean_hops"] == 9
    assert result["route_changes"] == 90  # one route per pair, never changed afterwards


def test_grid_node_moving_away_propagates_odd_seqno_and_reroutes():
    # 3 x 3 grid, 200 m apart, 250 m radios: only horizontal and vertical links.
    #   0 1 2
    #   3 4 5      node 4 leaves; 1 -> 7 must go around: 1 0 3 6 7 or 1 2 5 8 7
    #   6 7 8
    # Traffic 1 -> 7 and 3 -> 5 (numbered from 1 in the scenario) crosses the centre, so the
    # senders learn the break from link-layer feedback; the others from updates or missed ones.
    hold = DsdvParams().holdtimes * INTERVAL
    sim = dsdv("line", "nodes.placement=grid", "nodes.count=9", "area.width=1000",
               "area.height=1000", f"scenario.duration={3 * INTERVAL + hold + 10}",
               "traffic.pairs=[[2, 8], [4, 6]]", "traffic.start=1", "traffic.rate=2")
    moved_at = 2 * INTERVAL
    sim.run_until(moved_at)
    assert next_hop_path(sim, 1, 7) == [1, 4, 7]
    assert next_hop_path(sim, 3, 5) == [3, 4, 5]
    center = sim.nodes[4].address
    broken: dict[str, list[int]] = {}

    def on_broken(t, kind, f):
        if f["dst"] == center:
            broken.setdefault(f["node"], []).append(f["seqno"])

    sim.bus.subscribe(on_broken, ("route_broken",))
    sim.move(4, 950.0, 950.0)
    sim.run_until(moved_at + 2 * INTERVAL)
    assert next_hop_path(sim, 1, 7) in ([1, 0, 3, 6, 7], [1, 2, 5, 8, 7])
    assert next_hop_path(sim, 3, 5) in ([3, 0, 1, 2, 5], [3, 6, 7, 8, 5])
    assert sim.nodes[1].routes.lookup(sim.nodes[7].address).metric == 4
    assert sim.nodes[1].routes.lookup(center) is None
    odd = sim.nodes[0].protocol.table.get(center)  # learnt from its neighbours' updates
    assert odd.seqno % 2 == 1 and odd.metric == INFINITY
    sim.run()  # past the hold time: the last direct neighbours gave up too
    others = [n for n in sim.nodes if n.index != 4]
    assert sorted(broken) == sorted(n.name for n in others)
    assert all(s % 2 == 1 for seqnos in broken.values() for s in seqnos)
    assert all(n.routes.lookup(center) is None for n in others)
    assert next_hop_path(sim, 1, 7) in ([1, 0, 3, 6, 7], [1, 2, 5, 8, 7])


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_no_routing_loops_during_random_waypoint(seed):
    sim = dsdv("broch", f"scenario.seed={seed}", "scenario.duration=200", "traffic.flows=10",
               "traffic.jitter=10")
    checked = []

    def after_change(t, kind, f):
        if kind != "route_removed":
            src = sim.index_of[sim.node(f["node"]).address]
            next_hop_path(sim, src, sim.index_of[f["dst"]])  # any new loop passes the change
            checked.append(t)

    sim.bus.subscribe(after_change, ("route_added", "route_changed", "route_removed"))
    result = sim.run()
    assert len(checked) > 500 and result["route_changes"] > 0
    for i in range(sim.n):
        for j in range(sim.n):
            if i != j:
                next_hop_path(sim, i, j)
