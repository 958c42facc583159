"""Multicast on the simulator: SMF (flooding, S-MPR, E-CDS) and ODMRP deliver a group's packets to
its members on a static grid and under random-waypoint mobility, every node relays a packet at
most once and hands it to its applications at most once, reduced relay sets send fewer copies
than flooding for the same delivery, ODMRP's forwarding group is the path to the members and
nothing off it forwards, a member that leaves stops receiving and its forwarders time out, and
runs are deterministic. A unicast protocol reaches one-hop members only, as a kernel does."""

from __future__ import annotations

import io
from collections import Counter

import pytest

from meshnet.events import EventBus, TraceWriter
from meshnet.event_schema import SchemaChecker
from meshnet.scenario import scenario_from_dict
from meshnet.sim import Simulation

GRID_MEMBERS = [7, 13, 25, 37, 43, 49]


def grid(protocol: dict, duration: float = 20.0) -> dict:
    """7 x 7 static grid, 100 m apart, unit disk 150 m (diagonals are links); n1 sends from a
    corner after the HELLOs have settled."""
    return {
        "scenario": {"name": "mgrid", "duration": duration, "seed": 1},
        "area": {"width": 700, "height": 700},
        "nodes": {"count": 49, "placement": "grid", "spacing": 100},
        "radio": {"propagation": "unit-disk", "range": 150},
        "protocol": protocol,
        "groups": [{"name": "g1", "address": "239.1.1.1", "members": GRID_MEMBERS}],
        "traffic": [{"group": "g1", "src": 1, "rate": 4, "start": 6, "jitter": 0}],
    }


def mobile(protocol: dict, seed: int = 3) -> dict:
    """40 nodes, random waypoint up to 10 m/s, 802.11b two-ray radios, 6 members."""
    return {
        "scenario": {"name": "mmobile", "duration": 40, "seed": seed},
        "area": {"width": 1000, "height": 600},
        "nodes": {"count": 40, "placement": "uniform"},
        "radio": {"profile": "wavelan", "propagation": "two-ray"},
        "mobility": {"model": "random-waypoint", "min_speed": 1, "max_speed": 10, "pause": 5},
        "protocol": protocol,
        "groups": [{"name": "g1", "address": "239.1.1.1", "members": [3, 8, 15, 22, 30, 37]}],
        "traffic": [{"group": "g1", "src": 1, "rate": 4, "start": 6, "jitter": 0}],
    }


class Run:
    """A finished run with its events."""

    def __init__(self, raw: dict) -> None:
        self.bus = EventBus()
        self.checker = SchemaChecker()
        self.bus.subscribe(self.checker)
        self.events: list[tuple[float, str, dict]] = []
        self.bus.subscribe(lambda t, k, f: self.events.append((t, k, dict(f))))
        self.sim = Simulation(scenario_from_dict(raw), self.bus)
        self.result = self.sim.run()
        self.m = self.result["multicast"]

    def of(self, kind: str) -> list[tuple[float, dict]]:
        return [(t, f) for t, k, f in self.events if k == kind]

    def relays_per_packet(self) -> Counter:
        return Counter((f["uid"], f["node"]) for _, f in self.of("mcast_tx"))


SMF_VARIANTS = ["flood", "s-mpr", "e-cds"]


@pytest.fixture(scope="module")
def grid_runs() -> dict[str, Run]:
    runs = {v: Run(grid({"name": "smf", "relay": v})) for v in SMF_VARIANTS}
    runs["odmrp"] = Run(grid({"name": "odmrp"}))
    return runs


@pytest.mark.parametrize("variant", SMF_VARIANTS + ["odmrp"])
def test_every_member_of_the_grid_gets_every_packet_once(grid_runs, variant):
    run = grid_runs[variant]
    m = run.m
    assert m["sent"] == 56 and m["expected"] == 6 * 56
    assert m["pdr"] >= (0.98 if variant != "odmrp" else 0.95), m
    assert m["duplicate_deliveries"] == 0
    assert m["duplicates_suppressed"] > 0
    assert max(run.relays_per_packet().values()) == 1  # each node sends a packet at most once
    delivered_at = {f["node"] for _, f in run.of("mcast_delivered")}
    assert delivered_at == {f"n{k}" for k in GRID_MEMBERS}  # only members take it
    assert run.checker.problems == {}
    assert run.result["protocol_errors"] == 0
    assert run.result["sent"] == 0 and run.result["queued"] == 0  # unicast figures untouched


def test_reduced_relay_sets_send_fewer_copies_than_flooding(grid_runs):
    flood = grid_runs["flood"].m
    assert flood["data_tx"] == 49 * flood["sent"]  # classic flooding: every node, once
    for variant in ("s-mpr", "e-cds"):
        m = grid_runs[variant].m
        assert m["data_tx"] <= 0.8 * flood["data_tx"], (variant, m["data_tx"])
        assert m["pdr"] >= flood["pdr"] - 0.02
        assert m["forwarding_overhead"] < flood["forwarding_overhead"]
    assert grid_runs["flood"].result["control_packets"] == 0  # flooding needs no HELLOs


def test_smf_relay_set_is_the_one_the_nodes_computed(grid_runs):
    """E-CDS: exactly the nodes that elected themselves relays (plus the source) send copies."""
    run = grid_runs["e-cds"]
    relays = {n.name for n in run.sim.nodes if n.protocol.relay_state()["relay"]}
    senders = {f["node"] for _, f in run.of("mcast_tx")}
    assert senders == relays | {"n1"}
    assert 10 <= len(relays) < 49


@pytest.mark.parametrize("protocol", [{"name": "smf"}, {"name": "smf", "relay": "s-mpr"},
                                      {"name": "odmrp"}],
                         ids=["smf-e-cds", "smf-s-mpr", "odmrp"])
def test_members_get_the_data_under_mobility(protocol):
    run = Run(mobile(protocol))
    m = run.m
    assert m["pdr"] >= 0.93, m
    assert m["duplicate_deliveries"] == 0
    assert max(run.relays_per_packet().values()) == 1
    flood = Run(mobile({"name": "smf", "relay": "flood"})).m
    assert m["data_tx"] < 0.6 * flood["data_tx"]
    assert run.checker.problems == {}


def test_a_unicast_protocol_reaches_one_hop_members_only():
    raw = grid({"name": "aodv"})
    raw["groups"][0]["members"] = [9, 25]  # n9 is n1's diagonal neighbour, n25 the centre
    run = Run(raw)
    assert {f["node"] for _, f in run.of("mcast_delivered")} == {"n9"}
    assert run.m["pdr"] == pytest.approx(0.5)
    assert run.m["data_tx"] == run.m["sent"]  # the source's one transmission, no relays


def branch(protocol: dict, leaves: list | None = None, duration: float = 40.0) -> dict:
    """A line n1..n5 with a side branch n6..n8 off n3 (unit disk 150 m).

        n1 - n2 - n3 - n4 - n5
                  |
                  n6 - n7 - n8

    n1 sends to members n4 and n5; the branch has no member."""
    raw = {
        "scenario": {"name": "branch", "duration": duration, "seed": 2},
        "area": {"width": 800, "height": 400},
        "nodes": {"count": 8, "placement": "line", "spacing": 100},
        "radio": {"propagation": "unit-disk", "range": 150},
        "protocol": protocol,
        "groups": [{"name": "g1", "address": "239.9.9.9", "members": [4, 5],
                    "leaves": leaves or []}],
        "traffic": [{"group": "g1", "src": 1, "rate": 5, "start": 2, "jitter": 0}],
    }
    return raw


def _branch_sim(raw: dict) -> Run:
    run_positions = [(0, 0), (100, 0), (200, 0), (300, 0), (400, 0), (200, 120), (200, 240),
                     (200, 360)]  # the branch 120 m apart: n6 hears n3 only (156 m to n2, n4)
    from meshnet.world import build_world
    from meshnet.mobility.trajectory import Trajectory

    world = build_world(scenario_from_dict(raw))
    world.trajectories[:] = [Trajectory.stationary(x, y) for x, y in run_positions]
    run = Run.__new__(Run)
    run.bus = EventBus()
    run.checker = SchemaChecker()
    run.bus.subscribe(run.checker)
    run.events = []
    run.bus.subscribe(lambda t, k, f: run.events.append((t, k, dict(f))))
    run.sim = Simulation(world, run.bus)
    run.result = run.sim.run()
    run.m = run.result["multicast"]
    return run


def test_odmrp_forwarding_group_is_the_path_to_the_members():
    run = _branch_sim(branch({"name": "odmrp"}))
    fg = {f["node"] for _, f in run.of("forwarding_group_joined")}
    assert fg == {"n2", "n3", "n4"}  # n5 is a member at the end: it forwards for nobody
    senders = {f["node"] for _, f in run.of("mcast_tx")}
    assert senders == {"n1", "n2", "n3", "n4"}
    assert not senders & {"n6", "n7", "n8"}  # off the mesh: they never forward
    assert run.m["pdr"] >= 0.97
    queries = {f["node"] for _, f in run.of("join_query_sent")}
    assert queries == {f"n{k}" for k in range(1, 9)}  # the query floods everywhere
    replies = {f["node"] for _, f in run.of("join_reply_sent")}
    assert replies == {"n2", "n3", "n4", "n5"}


def test_a_leave_stops_delivery_and_the_forwarding_group_shrinks():
    params = {"name": "odmrp"}
    run = _branch_sim(branch(params, leaves=[{"node": 5, "at": 15}]))
    fg_timeout = 3 * 3.0
    n5 = [t for t, f in run.of("mcast_delivered") if f["node"] == "n5"]
    assert n5 and max(n5) < 15  # nothing counted after the leave
    left = {f["node"]: t for t, f in run.of("forwarding_group_left")}
    assert "n4" in left and 15 < left["n4"] <= 15 + fg_timeout + 3.0 + 0.5
    late = {f["node"] for t, f in run.of("mcast_tx") if t > 15 + fg_timeout + 3.5}
    assert late == {"n1", "n2", "n3"}  # n4 no longer relays: nobody behind it listens
    n4 = [t for t, f in run.of("mcast_delivered") if f["node"] == "n4"]
    assert max(n4) > 35  # the remaining member still gets the data


def test_smf_delivers_to_a_member_that_joins_later():
    raw = grid({"name": "smf"}, duration=20)
    raw["groups"][0]["joins"] = [{"node": 25 - 1, "at": 12}]
    run = Run(raw)
    times = [t for t, f in run.of("mcast_delivered") if f["node"] == "n24"]
    assert times and min(times) >= 12
    joins = [(t, k) for t, k, f in run.events if k == "mcast_sent" and "n24" in f["receivers"]]
    assert joins and min(t for t, _ in joins) >= 12


@pytest.mark.parametrize("protocol", [{"name": "smf"}, {"name": "odmrp"}], ids=["smf", "odmrp"])
def test_same_scenario_and_seed_give_the_same_trace(protocol):
    traces = []
    for _ in range(2):
        out = io.StringIO()
        bus = EventBus()
        bus.subscribe(TraceWriter(out))
        raw = mobile(protocol)
        raw["scenario"]["duration"] = 15
        Simulation(scenario_from_dict(raw), bus).run()
        traces.append(out.getvalue())
    assert traces[0] == traces[1] and "mcast_delivered" in traces[0]
