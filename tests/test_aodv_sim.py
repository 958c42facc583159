"""AODV on the simulator: a 9-hop line, repair after a node leaves a grid, loop freedom under
random waypoint mobility, and a pcap that Wireshark's AODV dissector reads field by field."""

import shutil
import subprocess

import pytest

from meshnet.scenario import load_scenario
from meshnet.sim import Simulation
from tests.simhelpers import next_hop_path

UNIT_DISK = ["radio.propagation=unit-disk", "radio.range=250"]


def aodv(name: str, *overrides: str) -> Simulation:
    return Simulation(load_scenario(name, overrides=list(overrides)))


def record(sim: Simulation, *kinds: str) -> list[tuple[float, str, dict]]:
    seen: list[tuple[float, str, dict]] = []
    sim.bus.subscribe(lambda t, kind, f: seen.append((t, kind, dict(f))), kinds)
    return seen


@pytest.mark.parametrize("mode", ["hello", "link-layer"])
def test_static_line_finds_nine_hop_route_on_first_packet(mode):
    sim = aodv("line", f"protocol.link_detection={mode}")
    seen = record(sim, "route_discovery_started", "route_found", "data_delivered")
    result = sim.run()
    src, dst = sim.nodes[0].name, sim.nodes[9].address
    started = [f for _, k, f in seen if k == "route_discovery_started" and f["node"] == src]
    found = [f for _, k, f in seen if k == "route_found" and f["node"] == src and f["dst"] == dst]
    assert started == [{"dst": dst, "node": src}]  # one discovery, triggered by the first packet
    assert found[0]["hops"] == 9
    assert next_hop_path(sim, 0, 9) == list(range(10))
    assert sim.nodes[0].routes.lookup(dst).metric == 9
    assert result["sent"] > 100 and result["delivered"] == result["sent"]
    assert result["mean_hops"] == 9 and result["drops"] == {}


@pytest.mark.parametrize("mode", ["link-layer", "hello"])
def test_grid_node_moving_away_rerr_to_precursor_and_rediscovery(mode):
    # 4 x 3 grid, 200 m apart, 250 m radios: only horizontal and vertical links.
    #    0  1  2  3
    #    4  5  6  7     flow 4 -> 7 runs 4 5 6 7; node 6 leaves. Node 5 loses its next hop and
    #    8  9 10 11     warns its precursor 4, which rediscovers a 5-hop path around.
    sim = aodv("line", "nodes.placement=grid", "nodes.count=12", "area.width=1000",
               "area.height=1000", "scenario.duration=30", "traffic.pairs=[[5, 8]]",
               "traffic.start=1", "traffic.rate=4", f"protocol.link_detection={mode}")
    seen = record(sim, "rerr_sent", "route_broken", "route_discovery_started", "route_found")
    sim.run_until(10.0)
    assert next_hop_path(sim, 4, 7) == [4, 5, 6, 7]
    moved_at = sim.now
    sim.move(6, 950.0, 950.0)
    sim.run_until(20.0)
    after = [(k, f) for t, k, f in seen if t >= moved_at]
    node = {n.address: n.name for n in sim.nodes}
    dst = sim.nodes[7].address
    rerrs = [f for k, f in after if k == "rerr_sent" and f["node"] == sim.nodes[5].name]
    assert rerrs and rerrs[0]["to"] == sim.nodes[4].address and dst in rerrs[0]["dsts"]
    assert any(k == "route_broken" and f["node"] == sim.nodes[4].name and f["dst"] == dst
               for k, f in after)  # the precursor invalidated its route on the RERR
    assert any(k == "route_discovery_started" and f["node"] == sim.nodes[4].name
               and f["dst"] == dst for k, f in after)
    path = next_hop_path(sim, 4, 7)
    assert path is not None and 6 not in path and len(path) == 6
    assert sim.nodes[4].routes.lookup(dst).metric == 5
    assert node[sim.nodes[4].routes.lookup(dst).next_hop] in {sim.nodes[i].name for i in (0, 5, 8)}
    result = sim.run()
    assert result["delivered"] >= result["sent"] - 12  # only packets caught by the break are lost


@pytest.mark.slow
@pytest.mark.parametrize("seed,mode,radio", [(6, "link-layer", []), (5, "hello", []),
                                             (2, "link-layer", UNIT_DISK)])
def test_no_routing_loops_during_random_waypoint(seed, mode, radio):
    # broch: 50 nodes, random waypoint 0-20 m/s, pause 0, 20 flows (seed 6 once caught a loop)
    sim = aodv("broch", *radio, f"scenario.seed={seed}", "scenario.duration=120",
               "traffic.flows=20", "traffic.jitter=10", f"protocol.link_detection={mode}")
    checked = []

    def after_change(t, kind, f):
        src = sim.index_of[sim.node(f["node"]).address]
        next_hop_path(sim, src, sim.index_of[f["dst"]])  # a new loop must pass the changed node
        checked.append(t)

    sim.bus.subscribe(after_change, ("route_added", "route_changed"))
    result = sim.run()
    assert len(checked) > 500 and result["route_changes"] > 0
    assert result["pdr"] > 0.8
    for i in range(sim.n):
        for j in range(sim.n):
            if i != j:
                next_hop_path(sim, i, j)


def tshark_fields(pcap: str, display_filter: str, *fields: str) -> list[list[str]]:
    args = ["tshark", "-r", pcap, "-Y", display_filter, "-T", "fields"]
    for f in fields:
        args += ["-e", f]
    out = subprocess.run(args, capture_output=True, text=True, check=True).stdout
    return [line.split("\t") for line in out.splitlines() if line]


@pytest.mark.skipif(shutil.which("tshark") is None, reason="tshark not installed")
def test_pcap_decodes_with_wiresharks_aodv_dissector(tmp_path):
    from meshnet.pcap import PcapRecorder

    sim = aodv("line", "nodes.placement=grid", "nodes.count=12", "area.width=1000",
               "area.height=1000", "scenario.duration=14", "traffic.pairs=[[5, 8]]",
               "traffic.start=1", "protocol.link_detection=link-layer")
    pcap = str(tmp_path / "aodv.pcap")
    with open(pcap, "wb") as stream:
        recorder = PcapRecorder(sim, stream)
        sim.run_until(10.0)
        sim.move(6, 950.0, 950.0)
        sim.run()
        recorder.close()
    src, dst = sim.nodes[4].address, sim.nodes[7].address
    rreqs = tshark_fields(pcap, "aodv.type == 1", "aodv.flags.rreq_gratuitous",
                          "aodv.flags.rreq_unknown", "aodv.hopcount", "aodv.rreq_id",
                          "aodv.dest_ip", "aodv.orig_ip", "aodv.orig_seqno")
    assert rreqs and all(r[4] == dst and r[5] == src for r in rreqs)
    assert {r[2] for r in rreqs} >= {"0", "1", "2"}
    assert rreqs[0][0] in ("1", "True") and rreqs[0][1] in ("1", "True")
    rreps = tshark_fields(pcap, "aodv.type == 2 && aodv.hopcount > 0", "aodv.hopcount",
                          "aodv.dest_ip", "aodv.orig_ip", "aodv.lifetime")
    assert rreps and all(r[1] == dst and r[2] == src for r in rreps)
    assert {r[0] for r in rreps} >= {"1", "2"}
    rerrs = tshark_fields(pcap, "aodv.type == 3", "ip.src", "ip.dst", "aodv.destcount",
                          "aodv.unreach_dest_ip")
    assert any(r[0] == sim.nodes[5].address and r[1] == src and dst in r[3].split(",")
               for r in rerrs)
