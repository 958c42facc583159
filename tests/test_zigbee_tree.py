"""zigbee-tree (protocols/zigbee/tree.py): association under the Cm/Rm/Lm limits on a fake
context (addresses, refusals and their events), and on the simulator: every node of the ZigBee
home joins, packets follow the tree hop by hop, end devices never relay, nodes beyond the depth or
children limits are refused, and an orphan rejoins elsewhere."""

from __future__ import annotations

from meshnet.protocol_api import Packet
from meshnet.protocols.zigbee import ZigbeeTree, wire
from meshnet.protocols.zigbee.params import TreeParams
from tests.fakes import FakeContext
from tests.simhelpers import assert_conserved
from tests.zigbee_support import packet_paths, run, tree_path

ROUTER_REQ = wire.encode(wire.AssociationRequest(
    wire.CAP_FFD | wire.CAP_RX_ON_IDLE | wire.CAP_ALLOCATE_ADDRESS))
DEVICE_REQ = wire.encode(wire.AssociationRequest(wire.CAP_ALLOCATE_ADDRESS))


def coordinator(**params) -> tuple[FakeContext, ZigbeeTree]:
    ctx = FakeContext("10.99.0.1", node_id=0)
    proto = ZigbeeTree(ctx, TreeParams(**params))
    proto.start()
    ctx.take_sent()
    return ctx, proto


def join(ctx: FakeContext, proto: ZigbeeTree, parent_depth: int, address: int) -> None:
    """Play the parent (10.99.0.1) to a joining node: a beacon answers its beacon request, an
    association response its association request."""
    for _ in range(200):
        if any(isinstance(wire.decode(raw), wire.BeaconRequest) for _, raw in ctx.take_sent()):
            break
        ctx.advance(0.05)
    ctx.rx_power_dbm = -70.0
    proto.on_control("10.99.0.1", wire.encode(wire.Beacon(0, parent_depth, True, True, True)))
    ctx.advance(proto.params.scan_duration)
    sent = ctx.take_sent()
    assert sent[-1] == ("10.99.0.1", ROUTER_REQ if proto.role == "router" else DEVICE_REQ)
    proto.on_control("10.99.0.1", wire.encode(wire.AssociationResponse(address, wire.ASSOC_SUCCESS)))


def answers(ctx: FakeContext) -> list[tuple[str, wire.AssociationResponse]]:
    return [(to, msg) for to, raw in ctx.take_sent()
            if isinstance(msg := wire.decode(raw), wire.AssociationResponse)]


def test_parent_hands_out_cskip_addresses_and_refuses_beyond_its_limits():
    ctx, proto = coordinator(max_children=3, max_routers=2, max_depth=3)
    for i in (2, 3, 4):
        proto.on_control(f"10.99.0.{i}", ROUTER_REQ)
    proto.on_control("10.99.0.5", DEVICE_REQ)
    proto.on_control("10.99.0.6", DEVICE_REQ)
    # Cskip(0) = (1 + 3 - 2 - 3 * 2^2) / (1 - 2) = 10: routers 1 and 11, end device 0 + 20 + 1
    assert answers(ctx) == [
        ("10.99.0.2", wire.AssociationResponse(1, wire.ASSOC_SUCCESS)),
        ("10.99.0.3", wire.AssociationResponse(11, wire.ASSOC_SUCCESS)),
        ("10.99.0.4", wire.AssociationResponse(0xFFFF, wire.ASSOC_PAN_AT_CAPACITY)),
        ("10.99.0.5", wire.AssociationResponse(21, wire.ASSOC_SUCCESS)),
        ("10.99.0.6", wire.AssociationResponse(0xFFFF, wire.ASSOC_PAN_AT_CAPACITY)),
    ]
    refused = [f for k, f in ctx.events if k == "zigbee_join_refused"]
    assert refused == [
        {"child": "10.99.0.4", "reason": "router_capacity", "depth": 0, "routers": 2, "end_devices": 0},
        {"child": "10.99.0.6", "reason": "end_device_capacity", "depth": 0, "routers": 2,
         "end_devices": 1},
    ]
    assert proto.summary() == {"device_type": "coordinator", "joined": True, "address": 0,
                               "depth": 0, "parent": None, "routers": 2, "end_devices": 1}
    # a repeated request (its answer was lost) gets the same address, not a second slot
    proto.on_control("10.99.0.3", ROUTER_REQ)
    assert answers(ctx) == [("10.99.0.3", wire.AssociationResponse(11, wire.ASSOC_SUCCESS))]


def test_a_router_at_max_depth_refuses_and_its_beacon_says_so():
    ctx = FakeContext("10.99.0.3", node_id=2)
    proto = ZigbeeTree(ctx, TreeParams(max_depth=1))
    proto.start()
    join(ctx, proto, 0, 1)
    assert proto.summary()["depth"] == 1 and proto.summary()["address"] == 1
    ctx.take_sent()
    proto.on_control("10.99.0.9", wire.encode(wire.BeaconRequest()))
    ctx.advance(0.2)
    beacons = [wire.decode(raw) for _, raw in ctx.take_sent()]
    beacon = next(b for b in beacons if isinstance(b, wire.Beacon))
    assert (beacon.depth, beacon.router_capacity, beacon.end_device_capacity) == (1, False, False)
    proto.on_control("10.99.0.9", ROUTER_REQ)
    assert answers(ctx) == [("10.99.0.9", wire.AssociationResponse(0xFFFF, wire.ASSOC_PAN_AT_CAPACITY))]
    assert [f["reason"] for k, f in ctx.events if k == "zigbee_join_refused"] == ["depth"]


def test_an_unjoined_node_buffers_its_packets_until_it_has_joined():
    ctx = FakeContext("10.99.0.2", node_id=1)
    proto = ZigbeeTree(ctx)
    proto.start()
    packet = Packet(1, "10.99.0.2", "10.99.0.1", 40, 0.0)
    assert proto.forward(packet, None) is None and ctx.queued == [packet]
    join(ctx, proto, 0, 1)
    assert ctx.data_sent == [packet] and ctx.queued == []
    # the coordinator's address is known to every node: 0x0000; its IEEE address was learnt from
    # the parent's association
    assert proto.forward(packet, None) == "10.99.0.1"
    header, _ = wire.decode_header(packet.meta["zigbee-tree"])
    assert (header.dst, header.src, header.radius) == (0, 1, TreeParams().broadcast_radius - 1)


def test_home_tree_joins_everyone_and_packets_follow_the_tree():
    sim, rec, _ = run("zigbee-home", "protocol.name=zigbee-tree", "scenario.duration=120")
    result = sim.result()
    assert_conserved(result)
    assert result["pdr"] > 0.97, result
    protos = [n.protocol for n in sim.nodes]
    assert all(p.joined for p in protos)
    assert not rec.of("zigbee_orphaned")
    depth = {p.address: p.depth for p in protos}
    assert len(depth) == len(protos)  # unique short addresses
    shape = protos[0].shape
    for p in protos[1:]:
        parent = sim.nodes[sim.index_of[p.parent]].protocol
        assert p.depth == parent.depth + 1 <= shape.max_depth
        assert shape.is_descendant(parent.address, parent.depth, p.address)
    paths = packet_paths(sim, rec)
    assert len(paths) == result["delivered"]
    for path in paths.values():
        assert path == tree_path(sim, path[0], path[-1])
    # the coordinator's children counts are those its events reported last
    added = [f for f in rec.of("zigbee_child_added") if f["node"] == "n1"]
    assert (added[-1]["routers"], added[-1]["end_devices"]) == protos[0].child_counts()


def test_end_devices_never_relay():
    sim, rec, _ = run("zigbee-home", "protocol.name=zigbee-tree", "scenario.duration=120",
                      "protocol.end_device_fraction=0.4")
    result = sim.result()
    assert result["pdr"] > 0.95, result
    devices = {n.name for n in sim.nodes if n.protocol.role == "end_device"}
    assert len(devices) >= 6
    source = {f["uid"]: f["node"] for f in rec.of("data_sent")}
    relayed = [f for f in rec.of("data_tx") if f["node"] in devices and source[f["uid"]] != f["node"]]
    assert relayed == []
    assert all(not n.protocol.children for n in sim.nodes if n.name in devices)
    types = {r["child"]: r["device_type"] for r in rec.of("zigbee_child_added")}
    assert all((types[n.address] == "end_device") == (n.name in devices) for n in sim.nodes[1:])
    for n in sim.nodes:
        if n.name in devices:
            parent = sim.nodes[sim.index_of[n.protocol.parent]].protocol
            assert parent.role != "end_device"


LINE = ("scenario.duration=40", "nodes.count=5", "nodes.spacing=100", "radio.range=150",
        "protocol.name=zigbee-tree", "protocol.link_status_period=2.0")


def test_a_node_beyond_max_depth_is_refused_and_never_joins():
    sim, rec, _ = run("line", *LINE, "protocol.max_depth=2", "traffic.pairs=[[4, 1], [2, 1]]",
                      "traffic.rate=1")
    joined = {f["node"]: f["depth"] for f in rec.of("zigbee_joined")}
    assert joined == {"n1": 0, "n2": 1, "n3": 2}
    n3_joined = next(t for t, k, f in rec.events if k == "zigbee_joined" and f["node"] == "n3")
    failed = [f for t, k, f in rec.events
              if k == "zigbee_join_failed" and f["node"] == "n4" and t > n3_joined + 0.5]
    assert len(failed) >= 5 and {f["reason"] for f in failed} == {"no_capacity"}  # n3 is at Lm
    assert {f["reason"] for f in rec.of("zigbee_join_failed") if f["node"] == "n5"} == {"no_beacon"}
    delivered_from = {f["uid"] for f in rec.of("data_delivered")}
    sent = {f["uid"]: f["node"] for f in rec.of("data_sent")}
    assert {sent[u] for u in delivered_from} == {"n2"}


def test_children_limit_refuses_the_extra_routers():
    # 3 x 3 grid, 100 m apart, 120 m radios: the centre (n5) hears only n2, n4, n6 and n8
    sim, rec, _ = run("line", "scenario.duration=20", "nodes.count=9", "nodes.placement=grid",
                      "nodes.spacing=100", "radio.range=120", "area.height=200", "area.width=200",
                      "protocol.name=zigbee-tree",
                      "protocol.coordinator=5", "protocol.max_children=2",
                      "protocol.max_routers=2", "protocol.max_depth=1", "traffic.pairs=[[2, 5]]")
    joined = {f["node"] for f in rec.of("zigbee_joined")} - {"n5"}
    assert len(joined) == 2 and joined <= {"n2", "n4", "n6", "n8"}
    others = {"n2", "n4", "n6", "n8"} - joined
    reasons = {f["reason"] for f in rec.of("zigbee_join_failed") if f["node"] in others}
    assert reasons == {"no_capacity"}
    assert sim.nodes[4].protocol.child_counts() == (2, 0)


def test_an_orphan_rejoins_under_another_parent_and_its_packets_get_through():
    # a 2 x 3 grid: n1 n2 n3 / n4 n5 n6, 100 m apart, 150 m radios (diagonals reach)
    def poke(sim):
        sim.run_until(15.0)
        n3 = sim.nodes[2].protocol
        poke.parent = n3.parent
        sim.kill(sim.index_of[n3.parent])

    sim, rec, _ = run("line", "scenario.duration=60", "nodes.count=6", "nodes.placement=grid",
                      "nodes.spacing=100", "radio.range=150", "area.width=200", "area.height=100",
                      "protocol.name=zigbee-tree", "protocol.link_status_period=2.0",
                      "traffic.pairs=[[3, 1]]", "traffic.rate=2", poke=poke)
    n3 = sim.nodes[2].protocol
    orphaned = [f for f in rec.of("zigbee_orphaned") if f["node"] == "n3"]
    assert orphaned and orphaned[0]["parent"] == poke.parent
    rejoined = [f for f in rec.of("zigbee_joined") if f["node"] == "n3" and f["rejoin"]]
    assert rejoined and n3.joined and n3.parent != poke.parent
    late = [f for t, k, f in rec.events if k == "data_delivered" and t > 40]
    assert len(late) >= 30
