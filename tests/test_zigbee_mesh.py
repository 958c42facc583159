"""zigbee-mesh (protocols/zigbee/mesh.py) on the simulator: on the ZigBee home, routes converge
and are loop-free and nearly every packet arrives; many-to-one routes and route records let the
coordinator source-route its packets to the sensors without any discovery; the link cost from
the received signal takes two good hops over one poor one, where hop count takes the poor one;
and the tree fallback carries packets when discovery is impossible."""

from __future__ import annotations

from meshnet.protocol_api import Packet
from meshnet.protocols.zigbee import ZigbeeMesh, linkcost, wire
from meshnet.protocols.zigbee.params import MeshParams
from tests.fakes import FakeContext
from tests.simhelpers import assert_conserved
from tests.zigbee_support import packet_paths, run

SENSORS = (7, 12, 18, 24, 30)  # zigbee-home's reporting nodes (1-based)


def test_link_cost_follows_the_spec_formula():
    assert linkcost.link_cost(1.0) == 1 and linkcost.link_cost(0.0) == 7
    assert linkcost.link_cost(0.8) == 2  # round(1 / 0.8^4) = round(2.44)
    assert linkcost.link_cost(0.7) == 4  # round(4.16)
    assert linkcost.link_cost(0.5) == 7  # min(7, 16)
    p = linkcost.delivery_probability(-91.0, -95.0, 4.0)
    assert abs(p - 0.8413) < 1e-3  # one sigma above the sensitivity
    assert linkcost.cost_from_rssi(None, -95.0, 4.0) == 1  # unit disk: hop count


def test_home_mesh_converges_loop_free_and_delivers():
    sim, rec, _ = run("zigbee-home", "protocol.name=zigbee-mesh", "scenario.duration=150")
    result = sim.result()
    assert_conserved(result)
    assert result["pdr"] >= 0.97, result
    protos = [n.protocol for n in sim.nodes]
    assert all(p.joined for p in protos)
    for path in packet_paths(sim, rec).values():
        assert len(path) == len(set(path)), f"a packet visited a node twice: {path}"
    # the routes now: from every router to the coordinator and from the coordinator to every
    # sensor, next hop by next hop, ends at the destination without revisiting a node
    by_ip = {n.address: n.index for n in sim.nodes}
    for src in range(len(protos)):
        for dst in [0] + [s - 1 for s in SENSORS]:
            if src == dst or not protos[src].routes_frames:
                continue
            here, seen = src, [src]
            while here != dst:
                nxt = protos[here].next_hop(protos[dst].address)
                if nxt is None:
                    break
                here = by_ip[nxt]
                assert here not in seen, f"routing loop: {seen + [here]}"
                seen.append(here)
            if dst == 0:
                assert here == 0, f"n{src + 1} has no route to the coordinator: {seen}"
    # every router keeps a many-to-one route to the concentrator
    assert all(p._route_to(0) is not None for p in protos[1:] if p.routes_frames)


def test_route_records_let_the_coordinator_source_route_to_the_sensors():
    back = ",".join(f"[1, {s}]" for s in SENSORS)
    sim, rec, _ = run("zigbee-home", "protocol.name=zigbee-mesh", "scenario.duration=90",
                      f"traffic.pairs=[[7, 1], [12, 1], [18, 1], [24, 1], [30, 1], {back}]",
                      "traffic.start=10")
    n1 = sim.nodes[0].protocol
    # sensors that are not n1's good neighbours (those it reaches directly) are source-routed
    sensors = {sim.nodes[s - 1].address for s in SENSORS
               if n1._direct_hop(sim.nodes[s - 1].protocol.address) is None}
    assert len(sensors) >= 3
    recorded = {f["src"] for f in rec.of("zigbee_route_record") if f["node"] == "n1"}
    assert sensors <= recorded
    first_record = {}
    for t, k, f in rec.events:
        if k == "zigbee_route_record" and f["node"] == "n1":
            first_record.setdefault(f["src"], t)
    # n1 discovers a sensor only while it has no record of it (both directions start together)
    late = [f for t, k, f in rec.events if k == "zigbee_route_discovery" and f["node"] == "n1"
            and f["dst"] in first_record and t > first_record[f["dst"]]]
    assert late == []
    source_routes = {r["dst"] for r in n1.table_rows() if r["state"] == "source-route"}
    assert sensors <= source_routes
    sent = {f["uid"]: f for f in rec.of("data_sent")}
    delivered = [f for f in rec.of("data_delivered") if sent[f["uid"]]["src"] == sim.nodes[0].address]
    generated = [f for f in sent.values() if f["src"] == sim.nodes[0].address]
    assert len(delivered) >= 0.95 * len(generated) and len(generated) >= 300
    # a packet n1 sends after a record arrived takes that record's path backwards
    records: dict[str, list[tuple[float, list[int]]]] = {}
    sent_at = {}
    for t, k, f in rec.events:
        if k == "zigbee_route_record" and f["node"] == "n1":
            records.setdefault(f["src"], []).append((t, [int(r, 16) for r in f["relays"]]))
        elif k == "data_sent":
            sent_at[f["uid"]] = t
    address_of = {n.index: n.protocol.address for n in sim.nodes}
    checked = 0
    for uid, path in packet_paths(sim, rec).items():
        dst = sent[uid]["dst"]
        if path[0] != 0 or dst not in sensors:
            continue
        valid = [relays for t, relays in records.get(dst, ()) if t < sent_at[uid]]
        if valid:
            assert [address_of[i] for i in path[1:-1]] == list(reversed(valid[-1]))
            checked += 1
    assert checked >= 100


def test_link_cost_prefers_two_good_hops_to_one_poor_one():
    # three nodes 75 m apart outdoors without shadowing: n1 hears n3 0.5 dB above the
    # sensitivity (cost 7), each 75 m hop 8 dB above it (cost 1)
    line = ("scenario.duration=60", "nodes.count=3", "nodes.placement=line", "nodes.spacing=75",
            "radio.propagation=outdoor", "radio.sigma=0", "area.width=300", "area.height=50",
            "traffic.pairs=[[1, 3]]", "traffic.rate=2", "traffic.start=10", "traffic.jitter=0")
    mesh, _, _ = run("zigbee-home", *line, "protocol.name=zigbee-mesh")
    result = mesh.result()
    assert result["pdr"] == 1.0 and result["mean_hops"] >= 1.95, result
    n1 = mesh.nodes[0].protocol
    poor = n1.neighbors.get(mesh.nodes[2].address)
    assert n1.neighbors.link_cost(poor) == 7
    assert n1.next_hop(mesh.nodes[2].protocol.address) == mesh.nodes[1].address
    aodv, _, _ = run("zigbee-home", *line, "protocol.name=aodv")
    assert aodv.result()["mean_hops"] == 1.0  # hop count takes the poor link


def test_tree_fallback_routes_when_no_reply_comes():
    ctx = FakeContext("10.99.0.1", node_id=0)
    proto = ZigbeeMesh(ctx, MeshParams(tree_fallback=True, concentrator=0, rreq_retries=0))
    proto.start()
    proto.on_control("10.99.0.2", wire.encode(wire.AssociationRequest(
        wire.CAP_FFD | wire.CAP_ALLOCATE_ADDRESS)))
    child = proto.children["10.99.0.2"]
    deep = proto.shape.router_child(child.address, 1, 1)  # a grandchild behind n2
    proto.addresses.learn("10.99.0.7", deep)
    packet = Packet(1, "10.99.0.1", "10.99.0.7", 40, 0.0)
    assert proto.forward(packet, None) is None and ctx.queued == [packet]
    ctx.advance(2.0)  # the discovery times out unanswered
    assert [f["outcome"] for k, f in ctx.events if k == "zigbee_route_discovery"] == [
        "started", "failed"]
    assert ctx.data_sent == [packet]
    assert proto.forward(packet, None) == "10.99.0.2"  # down the tree towards the grandchild
