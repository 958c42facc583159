"""GPSR (protocols/gpsr): wire formats, planarization, forwarding decisions on a fake context,
delivery around a void on the simulator, loop guards, a short Broch run next to AODV, the header in
pcaps and as an IPv4 option on netns, and ping across GPSR nodes in namespaces."""

from __future__ import annotations

import copy
import itertools
import math
import random
import re
import shutil
import struct
import subprocess

import networkx as nx
import pytest
from hypothesis import given, settings, strategies as st

from meshnet.netns import ipopt
from meshnet.protocol_api import DecodeError, Packet, ProtocolConfigError, build_params
from meshnet.protocols.gpsr import GPSR, OracleLocationService, planar, wire
from meshnet.protocols.gpsr.params import GpsrParams
from meshnet.scenario import load_scenario, scenario_from_dict
from meshnet.sim import Simulation
from tests.fakes import FakeContext
from tests.netns_support import mn_namespaces, netns_skip_reason, require_tool
from tests.simhelpers import assert_conserved

ME = "10.99.0.1"
DST = "10.99.0.9"


# -- wire ----------------------------------------------------------------------------------------
def test_beacon_bytes_are_the_documented_layout():
    raw = wire.encode_beacon(wire.Beacon(1500, -2))
    assert raw == bytes([1, 1, 0, 0]) + struct.pack("!ii", 1500, -2)
    assert len(raw) == wire.BEACON_LEN == 12
    assert wire.decode_beacon(raw) == wire.Beacon(1500, -2)
    assert wire.decode_beacon(raw[:2] + b"\xff\xff" + raw[4:]) == wire.Beacon(1500, -2)  # reserved


def test_greedy_header_bytes_are_the_documented_layout():
    h = wire.Header(wire.GREEDY, (1_900_000, 50_000), "10.99.0.3", 7)
    raw = wire.encode_header(h)
    assert raw == bytes([0x10, 7, 10, 99, 0, 3]) + struct.pack("!ii", 1_900_000, 50_000)
    assert len(raw) == wire.GREEDY_LEN == 14
    assert wire.decode_header(raw) == h


def test_perimeter_header_bytes_are_the_documented_layout():
    h = wire.Header(wire.PERIMETER, (1, 2), "10.99.0.3", 255, (-3, 4), (5, -6),
                    ("10.99.0.4", "10.99.1.2"))
    raw = wire.encode_header(h)
    assert raw == (bytes([0x11, 255, 10, 99, 0, 3]) + struct.pack("!iiiiii", 1, 2, -3, 4, 5, -6)
                   + bytes([10, 99, 0, 4, 10, 99, 1, 2]))
    assert len(raw) == wire.PERIMETER_LEN == 38
    assert wire.decode_header(raw) == h


@pytest.mark.parametrize("raw, message", [
    (b"", "empty"),
    (bytes([0x20]) + bytes(13), "version 2"),
    (bytes([0x12]) + bytes(37), "unknown mode 2"),
    (bytes([0x10]) + bytes(12), "greedy mode needs 14"),
    (bytes([0x10]) + bytes(37), "greedy mode needs 14"),
    (bytes([0x11]) + bytes(13), "perimeter mode needs 38"),
])
def test_malformed_headers_raise_decode_error(raw, message):
    with pytest.raises(DecodeError, match=message):
        wire.decode_header(raw)


@pytest.mark.parametrize("raw, message", [
    (bytes(11), "11 bytes"), (bytes([2, 1]) + bytes(10), "type 2"),
    (bytes([1, 2]) + bytes(10), "version 2"), (bytes(13), "13 bytes"),
])
def test_malformed_beacons_raise_decode_error(raw, message):
    with pytest.raises(DecodeError, match=message):
        wire.decode_beacon(raw)


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=64))
def test_arbitrary_bytes_raise_only_decode_error(data):
    for decode in (wire.decode_header, wire.decode_beacon):
        try:
            decode(data)
        except DecodeError:
            pass


int32 = st.integers(-(1 << 31), (1 << 31) - 1)
points = st.tuples(int32, int32)
addresses = st.integers(0, (1 << 32) - 1).map(
    lambda v: ".".join(str(b) for b in v.to_bytes(4, "big")))


@settings(max_examples=200, deadline=None)
@given(st.booleans(), points, addresses, st.integers(0, 255), points, points, addresses,
       addresses)
def test_header_round_trip(perimeter, d, sender, hops, lp, lf, tail, head):
    if perimeter:
        h = wire.Header(wire.PERIMETER, d, sender, hops, lp, lf, (tail, head))
    else:
        h = wire.Header(wire.GREEDY, d, sender, hops)
    assert wire.decode_header(wire.encode_header(h)) == h


def test_positions_are_millimetres_clamped_to_int32():
    assert wire.to_mm((1.2345, -0.0004)) == (1234, 0)
    assert wire.to_mm((1e12, -1e12)) == ((1 << 31) - 1, -(1 << 31))


# -- planarization -------------------------------------------------------------------------------
def test_gabriel_and_rng_remove_the_right_edges():
    me = (0, 0)
    # w inside the circle on diameter (me, v): GG and RNG both drop v, keep w
    assert planar.gabriel(me, {"v": (100, 0), "w": (50, 10)}) == {"w": (50, 10)}
    assert planar.rng(me, {"v": (100, 0), "w": (50, 10)}) == {"w": (50, 10)}
    # w outside that circle but nearer to both ends than they are to each other: only RNG drops v
    nbrs = {"v": (100, 0), "w": (50, 60)}
    assert planar.gabriel(me, nbrs) == nbrs
    assert planar.rng(me, nbrs) == {"w": (50, 60)}
    # a witness exactly on the circle does not remove the edge (strictly inside only)
    assert planar.gabriel(me, {"v": (100, 0), "w": (50, 50)}) == {"v": (100, 0), "w": (50, 50)}
    assert planar.planarize("none", me, nbrs) == nbrs
    with pytest.raises(ValueError):
        planar.planarize("delaunay", me, nbrs)


def _unit_disk(seed: int, n: int = 60, size: int = 1_000_000, reach: int = 200_000):
    rng = random.Random(seed)
    pts = {f"n{i}": (rng.randrange(size), rng.randrange(size)) for i in range(n)}
    nbrs = {a: {b: pb for b, pb in pts.items() if b != a and planar.d2(pa, pb) <= reach ** 2}
            for a, pa in pts.items()}
    return pts, nbrs


@pytest.mark.parametrize("mode", ["gabriel", "rng"])
@pytest.mark.parametrize("seed", range(6))
def test_local_planarization_is_symmetric_planar_and_keeps_connectivity(mode, seed):
    pts, nbrs = _unit_disk(seed)
    full = nx.Graph((a, b) for a in nbrs for b in nbrs[a])
    full.add_nodes_from(pts)
    kept = {a: set(planar.planarize(mode, pts[a], nbrs[a])) for a in pts}
    assert all(a in kept[b] for a in kept for b in kept[a])  # both ends decide alike
    sub = nx.Graph((a, b) for a in kept for b in kept[a])
    sub.add_nodes_from(pts)
    assert sub.number_of_edges() < full.number_of_edges()
    assert ([sorted(c) for c in nx.connected_components(sub)]
            == [sorted(c) for c in nx.connected_components(full)])
    edges = list(sub.edges())
    for (a, b), (c, d) in itertools.combinations(edges, 2):
        if {a, b} & {c, d}:
            continue
        assert planar.crossing(pts[a], pts[b], pts[c], pts[d]) is None, (a, b, c, d)


def test_right_hand_rule_and_crossings():
    me = (0, 0)
    cands = {"e": (10, 0), "n": (0, 10), "w": (-10, 0), "s": (0, -10)}
    assert planar.next_counterclockwise(me, 0.0, cands) == "n"  # "e" is on the reference
    assert planar.next_counterclockwise(me, math.pi / 2, cands) == "w"
    assert planar.next_counterclockwise(me, 0.0, {"e": (10, 0)}) == "e"  # back the way it came
    assert planar.crossing((0, 0), (10, 10), (0, 10), (10, 0)) == (5.0, 5.0)
    assert planar.crossing((0, 0), (10, 0), (0, 1), (10, 1)) is None  # parallel
    assert planar.crossing((0, 0), (10, 0), (5, 0), (20, 0)) is None  # collinear
    assert planar.crossing((0, 0), (10, 0), (10, 0), (10, 5)) == (10.0, 0.0)  # touching


# -- forwarding on a fake context ---------------------------------------------------------------
def _node(position=(0.0, 0.0), **params) -> tuple[GPSR, FakeContext]:
    ctx = FakeContext(address=ME, position=position)
    ctx.locations[DST] = (1000.0, 0.0)
    return GPSR(ctx, build_params(GPSR, params)), ctx


def _hear(proto: GPSR, address: str, x: float, y: float) -> None:
    proto.on_control(address, wire.encode_beacon(wire.Beacon(*wire.to_mm((x, y)))))


def _packet(dst=DST) -> Packet:
    return Packet(1, ME, dst, 64, 0.0)


def test_params_defaults_and_validation():
    p = GpsrParams()
    assert (p.beacon_interval, p.beacon_jitter, p.neighbor_timeout) == (1.5, 0.5, 6.75)
    assert (p.perimeter, p.planarization, p.max_perimeter_hops) == (True, "gabriel", 255)
    assert build_params(GPSR, {"beacon_interval": 2}).neighbor_timeout == 9.0
    for bad in ({"planarization": "delaunay"}, {"beacon_interval": 0}, {"beacon_jitter": 1.0},
                {"max_perimeter_hops": 0}, {"max_perimeter_hops": 256}):
        with pytest.raises(ProtocolConfigError):
            build_params(GPSR, bad)
    assert GPSR.port == 61500 and GPSR.port not in (654, 269) and GPSR.per_packet


def test_beacons_carry_the_position_and_stop_with_the_node():
    proto, ctx = _node((12.5, -3.0))
    proto.start()
    ctx.advance(0.76)
    assert len(ctx.sent) == 1
    dst, payload = ctx.sent[0]
    assert dst == "255.255.255.255"
    assert wire.decode_beacon(payload) == wire.Beacon(12500, -3000)
    proto.stop()
    ctx.advance(10)
    assert len(ctx.sent) == 1


def test_beacon_intervals_stay_within_the_jitter():
    proto, ctx = _node()
    stamps = []
    real = ctx.broadcast
    ctx.broadcast = lambda payload, tx_power_dbm=None: (stamps.append(ctx.now),
                                                        real(payload, tx_power_dbm))
    proto.start()
    ctx.advance(300)
    assert stamps[0] <= 0.75
    gaps = [b - a for a, b in zip(stamps, stamps[1:])]
    assert min(gaps) >= 0.75 - 1e-9 and max(gaps) <= 2.25 + 1e-9
    assert abs(sum(gaps) / len(gaps) - 1.5) < 0.1


def test_greedy_picks_the_neighbour_closest_to_the_destination():
    proto, ctx = _node()
    _hear(proto, "10.99.0.2", 100, 50)
    _hear(proto, "10.99.0.3", 150, 0)
    _hear(proto, "10.99.0.4", -100, 0)
    packet = _packet()
    assert proto.forward(packet, None) == "10.99.0.3"
    h = wire.decode_header(packet.meta["gpsr"])
    assert h == wire.Header(wire.GREEDY, (1_000_000, 0), ME, 0)


def test_the_last_hop_goes_to_the_destination_without_a_header():
    proto, ctx = _node()
    ctx.locations[DST] = (150.0, 0.0)
    _hear(proto, DST, 150, 0)
    _hear(proto, "10.99.0.3", 140, 0)
    packet = _packet()
    packet.meta = {"gpsr": wire.encode_header(wire.Header(wire.GREEDY, (150_000, 0), "10.99.0.7"))}
    assert proto.forward(packet, "10.99.0.7") == DST
    assert "gpsr" not in packet.meta


def test_neighbours_time_out_and_unknown_destinations_are_dropped():
    proto, ctx = _node()
    _hear(proto, "10.99.0.2", 100, 0)
    ctx.advance(6.7)
    assert proto.forward(_packet(), None) == "10.99.0.2"
    ctx.advance(0.1)
    assert proto.forward(_packet(), None) is None
    assert ctx.dropped[-1][1] == "no_neighbour"
    _hear(proto, "10.99.0.2", 100, 0)
    assert proto.forward(_packet("10.99.7.7"), None) is None
    assert ctx.dropped[-1][1] == "gpsr_no_location"


def test_a_custom_location_service_replaces_the_oracle():
    class Fixed:
        def locate(self, address):
            return (-1000.0, 0.0)

    ctx = FakeContext(address=ME)
    ctx.locations[DST] = (1000.0, 0.0)
    proto = GPSR(ctx, None, location_service=Fixed())
    assert isinstance(GPSR(ctx).locations, OracleLocationService)
    _hear(proto, "10.99.0.2", 100, 0)
    _hear(proto, "10.99.0.3", -100, 0)
    assert proto.forward(_packet(), None) == "10.99.0.3"


def test_local_maximum_enters_perimeter_mode_or_drops_when_greedy_only():
    for perimeter in (True, False):
        proto, ctx = _node(perimeter=perimeter)
        _hear(proto, "10.99.0.2", -50, 100)  # both farther from (1000, 0) than this node
        _hear(proto, "10.99.0.3", -50, -100)
        packet = _packet()
        nxt = proto.forward(packet, None)
        if not perimeter:
            assert nxt is None and ctx.dropped == [(packet, "gpsr_local_maximum")]
            continue
        assert nxt == "10.99.0.2"  # first counterclockwise from the line to D
        h = wire.decode_header(packet.meta["gpsr"])
        assert h.perimeter and h.lp == h.lf == (0, 0) and h.e0 == (ME, "10.99.0.2")
        assert h.perimeter_hops == 1 and h.sender == ME


def test_perimeter_returns_to_greedy_closer_than_lp():
    proto, ctx = _node((500.0, 0.0))
    _hear(proto, "10.99.0.2", 600, 0)
    packet = _packet()
    packet.meta = {"gpsr": wire.encode_header(wire.Header(
        wire.PERIMETER, (1_000_000, 0), "10.99.0.5", 3, (0, 0), (0, 0), ("10.99.0.4", "10.99.0.5")))}
    assert proto.forward(packet, "10.99.0.5") == "10.99.0.2"
    h = wire.decode_header(packet.meta["gpsr"])
    assert h.mode == wire.GREEDY and h.perimeter_hops == 3


def test_perimeter_drops_on_the_first_edge_again_and_after_its_hop_budget():
    proto, ctx = _node(max_perimeter_hops=5)
    _hear(proto, "10.99.0.2", -50, 100)
    _hear(proto, "10.99.0.3", -50, -100)
    # arriving from .3, the right-hand rule picks .2: the face's first edge, already traversed
    e0 = wire.Header(wire.PERIMETER, (1_000_000, 0), "10.99.0.3", 4, (0, 0), (0, 0),
                     (ME, "10.99.0.2"))
    packet = _packet()
    packet.meta = {"gpsr": wire.encode_header(e0)}
    assert proto.forward(packet, "10.99.0.3") is None
    assert ctx.dropped[-1] == (packet, "gpsr_unreachable")
    other = wire.Header(wire.PERIMETER, (1_000_000, 0), "10.99.0.3", 5, (0, 0), (0, 0),
                        ("10.99.0.8", "10.99.0.9"))
    packet = _packet()
    packet.meta = {"gpsr": wire.encode_header(other)}
    assert proto.forward(packet, "10.99.0.3") is None
    assert ctx.dropped[-1] == (packet, "gpsr_ttl")


def test_the_previous_hop_comes_from_the_header_when_the_backend_cannot_tell():
    proto, ctx = _node()
    _hear(proto, "10.99.0.2", -50, 100)
    _hear(proto, "10.99.0.3", -50, -100)
    header = wire.Header(wire.PERIMETER, (1_000_000, 0), "10.99.0.2", 1, (0, 0), (0, 0),
                         ("10.99.0.8", "10.99.0.9"))
    for prev in ("10.99.0.2", None):  # None: netns, the packet came through the TUN
        packet = _packet()
        packet.meta = {"gpsr": wire.encode_header(header)}
        assert proto.forward(packet, prev) == "10.99.0.3"


def test_bad_headers_are_dropped_and_control_raises_only_decode_error():
    proto, ctx = _node()
    _hear(proto, "10.99.0.2", 100, 0)
    packet = _packet()
    packet.meta = {"gpsr": b"\x10\x00"}
    assert proto.forward(packet, None) is None
    assert ctx.dropped == [(packet, "gpsr_bad_header")]
    with pytest.raises(DecodeError):
        proto.on_control("10.99.0.2", b"\x01")


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=48), st.binary(max_size=48))
def test_fuzzed_control_and_headers_never_break_a_node(beacon, header):
    proto, ctx = _node()
    _hear(proto, "10.99.0.2", 100, 0)
    try:
        proto.on_control("10.99.0.5", beacon)
    except DecodeError:
        pass
    packet = _packet()
    packet.meta = {"gpsr": header}
    nxt = proto.forward(packet, None)
    assert nxt is not None or ctx.dropped


def test_link_failure_removes_the_neighbour_and_forwards_again():
    proto, ctx = _node()
    _hear(proto, "10.99.0.2", 100, 0)
    _hear(proto, "10.99.0.3", 90, 0)
    packet = _packet()
    assert proto.forward(packet, None) == "10.99.0.2"
    proto.on_link_failure("10.99.0.2", packet)
    assert "10.99.0.2" not in proto.neighbors
    assert ctx.data_sent == [packet]
    assert proto.forward(packet, None) == "10.99.0.3"
    off, ctx2 = _node(link_layer_feedback=False)
    _hear(off, "10.99.0.2", 100, 0)
    off.on_link_failure("10.99.0.2", _packet())
    assert "10.99.0.2" in off.neighbors and ctx2.data_sent == []


def test_table_rows_list_live_neighbours():
    proto, ctx = _node()
    _hear(proto, "10.99.0.2", 100, 20)
    (row,) = proto.table_rows()
    assert row["dst"] == row["next_hop"] == "10.99.0.2" and row["state"] == "neighbour"
    assert (row["x"], row["y"]) == (100.0, 20.0)


# -- simulator -----------------------------------------------------------------------------------
def _run(spec: str, *overrides: str, protocol: str | None = None) -> dict:
    sim = Simulation(load_scenario(spec, list(overrides), protocol=protocol))
    sim.run()
    result = sim.result()
    assert_conserved(result)
    assert result["protocol_errors"] == 0
    return result


def test_void_greedy_only_fails_where_perimeter_mode_delivers_everything():
    full = _run("gpsr-void")
    greedy = _run("gpsr-void", "protocol.perimeter=false")
    rng = _run("gpsr-void", "protocol.planarization=rng")
    assert full["pdr"] == 1.0 and rng["pdr"] == 1.0
    assert greedy["pdr"] < 0.6 and set(greedy["drops"]) == {"gpsr_local_maximum"}
    assert full["mean_hops"] > greedy["mean_hops"]  # the detours around the hole


def _void_pairs_scenario(**protocol):
    sc = load_scenario("gpsr-void")
    raw = copy.deepcopy(sc.raw)
    n = sc.nodes.count
    raw["protocol"] = {"name": "gpsr", **protocol}
    raw["scenario"]["duration"] = 16
    raw["traffic"] = [{"kind": "cbr", "pairs": [[i, j] for i in range(1, n + 1)
                                                for j in range(1, n + 1) if i != j],
                       "rate": 0.25, "size": 64, "start": 5, "stop": 9, "jitter": 3.9}]
    return scenario_from_dict(raw)


def test_void_every_ordered_pair():
    results = {}
    for name, params in (("full", {}), ("greedy", {"perimeter": False})):
        sim = Simulation(_void_pairs_scenario(**params))
        sim.run()
        results[name] = r = sim.result()
        assert_conserved(r)
    assert results["full"]["sent"] == 51 * 50
    assert results["full"]["pdr"] == 1.0
    failed = results["greedy"]["drops"]["gpsr_local_maximum"]
    assert 0.05 < failed / results["greedy"]["sent"] < 0.2


def test_unreachable_destination_is_detected_by_the_first_edge():
    # a cluster of four nodes and a destination far out of range: the perimeter walk goes round
    # the cluster's outer face and comes back to its first edge
    pts = [(100, 100), (300, 120), (200, 260), (150, 380), (1500, 200)]
    raw = {"scenario": {"name": "island", "duration": 20},
           "area": {"width": 1600, "height": 500},
           "nodes": {"count": 5, "placement": "grid", "spacing": 10},
           "radio": {"propagation": "unit-disk", "range": 250},
           "mobility": {"model": "waypoints", "points": [[[0, x, y]] for x, y in pts]},
           "protocol": {"name": "gpsr"},
           "traffic": [{"kind": "cbr", "pairs": [[1, 5], [4, 5]], "rate": 2, "start": 5,
                        "stop": 15, "jitter": 0}]}
    sim = Simulation(scenario_from_dict(raw))
    sim.run()
    r = sim.result()
    assert_conserved(r)
    assert r["delivered"] == 0 and set(r["drops"]) == {"gpsr_unreachable"}


def test_loop_guards_perimeter_hop_budget_and_ip_ttl():
    budget = _run("gpsr-void", "protocol.max_perimeter_hops=2")
    assert budget["drops"].get("gpsr_ttl", 0) > 0
    ttl = _run("gpsr-void", "traffic.ttl=4")
    assert ttl["drops"].get("ttl", 0) > 0 and ttl["pdr"] < 1.0


def test_broch_shortened_next_to_aodv(capsys):
    rows = {}
    for proto in ("gpsr", "aodv"):
        r = _run("broch", "scenario.duration=60", protocol=proto)
        rows[proto] = r
    with capsys.disabled():
        print("\nbroch, 60 s, seed 1:")
        for proto, r in rows.items():
            print(f"  {proto:5} PDR {r['pdr']:.3f}  delay {r['mean_delay_s'] * 1000:.1f} ms  "
                  f"hops {r['mean_hops']:.2f}  control {r['control_packets']}")
    assert rows["gpsr"]["pdr"] > 0.9 and rows["aodv"]["pdr"] > 0.9
    assert rows["gpsr"]["sent"] == rows["aodv"]["sent"]


def test_meshnet_protocols_lists_gpsr_with_its_parameters(capsys):
    import json

    from meshnet.cli import main

    assert main(["protocols", "--json"]) == 0
    (gpsr,) = [p for p in json.loads(capsys.readouterr().out) if p["name"] == "gpsr"]
    assert gpsr["kind"] == "per-packet" and gpsr["port"] == 61500
    assert gpsr["params"]["planarization"] == "gabriel" and gpsr["params"]["perimeter"] is True


# -- pcap ----------------------------------------------------------------------------------------
@pytest.mark.skipif(shutil.which("tshark") is None, reason="tshark not installed")
def test_pcap_shows_the_header_as_an_ip_option(tmp_path):
    from scapy.utils import rdpcap

    from meshnet.pcap import PcapRecorder

    sim = Simulation(load_scenario("gpsr-void", ["scenario.duration=8", "traffic.stop=7"]))
    pcap = str(tmp_path / "gpsr.pcap")
    with open(pcap, "wb") as stream:
        recorder = PcapRecorder(sim, stream)
        sim.run()
        recorder.close()
    out = subprocess.run(["tshark", "-r", pcap, "-Y", "udp.port == 9", "-T", "fields",
                          "-e", "ip.hdr_len"], capture_output=True, text=True, check=True).stdout
    lengths = set(out.split())
    assert {"20", "36", "60"} <= lengths  # last hop, greedy, perimeter
    beacons = subprocess.run(["tshark", "-r", pcap, "-Y", "udp.port == 61500", "-T", "fields",
                              "-e", "udp.length"], capture_output=True, text=True,
                             check=True).stdout.split()
    assert beacons and set(beacons) == {"20"}
    modes = set()
    for frame in rdpcap(pcap):
        raw = bytes(frame.payload)
        header = ipopt.extract(raw, wire.IP_OPTION)
        if header is not None:
            modes.add(wire.decode_header(header).mode)
    assert modes == {wire.GREEDY, wire.PERIMETER}


# -- IPv4 option plumbing (netns) -------------------------------------------------------------
def _ipv4(payload: bytes = b"abcd", options: bytes = b"") -> bytes:
    ihl = 5 + len(options) // 4
    head = bytearray(struct.pack("!BBHHHBBH4s4s", 0x40 | ihl, 0, 4 * ihl + len(payload), 1, 0,
                                 64, 17, 0, bytes([10, 99, 0, 1]), bytes([10, 99, 0, 5])))
    head += options
    head[10:12] = ipopt.checksum(bytes(head)).to_bytes(2, "big")
    return bytes(head) + payload


def test_ip_option_rewrite_and_extract():
    raw = _ipv4()
    assert ipopt.extract(raw, 0x9E) is None
    body = wire.encode_header(wire.Header(wire.GREEDY, (1, 2), ME))
    with_opt = ipopt.rewrite(raw, 0x9E, body)
    assert with_opt[0] == 0x49 and int.from_bytes(with_opt[2:4], "big") == len(with_opt) == 40
    assert ipopt.checksum(with_opt[:36]) == 0
    assert with_opt[20:22] == b"\x9e\x10" and with_opt[36:] == b"abcd"
    assert ipopt.extract(with_opt, 0x9E) == body
    peri = wire.encode_header(wire.Header(wire.PERIMETER, (1, 2), ME, 1, (3, 4), (5, 6), (ME, DST)))
    again = ipopt.rewrite(with_opt, 0x9E, peri)
    assert again[0] == 0x4F and ipopt.extract(again, 0x9E) == peri and again[60:] == b"abcd"
    stripped = ipopt.rewrite(again, 0x9E, None)
    assert stripped == raw
    # other options are kept (padding is redone); no room for a 38-byte body next to them
    rr = _ipv4(options=bytes([7, 7, 4, 0, 0, 0, 0, 1]))  # record route + NOP
    both = ipopt.rewrite(rr, 0x9E, body)
    assert both[20:27] == bytes([7, 7, 4, 0, 0, 0, 0]) and ipopt.extract(both, 0x9E) == body
    assert both[0] == 0x4B and ipopt.checksum(both[:44]) == 0
    assert ipopt.rewrite(rr, 0x9E, peri) is None
    assert ipopt.rewrite(b"\x45" + bytes(10), 0x9E, body) is None


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=80))
def test_ip_option_parsing_never_raises(data):
    ipopt.extract(data, 0x9E)
    ipopt.rewrite(data, 0x9E, b"x" * 14)


# -- netns ---------------------------------------------------------------------------------------
netns = [pytest.mark.netns,
         pytest.mark.skipif(netns_skip_reason() is not None, reason=str(netns_skip_reason()))]


def _emulate(plan, name):
    from meshnet.netns.emulation import Emulation

    return Emulation(plan, name=name)


def _settle(emu, seconds: float = 3.5) -> None:
    import time

    time.sleep(seconds)  # beacons fill the neighbour tables (first within 0.75 s, then 0.75-2.25 s)


@pytest.fixture
def no_leftovers():
    require_tool("ping", "iputils-ping")
    yield
    assert [n for n in mn_namespaces() if n.startswith("mn-pg")] == []


@pytest.mark.usefixtures("no_leftovers")
@pytest.mark.netns
@pytest.mark.skipif(netns_skip_reason() is not None, reason=str(netns_skip_reason()))
def test_netns_ping_crosses_a_four_hop_gpsr_line():
    from meshnet.netns.plan import Plan

    with _emulate(Plan.line(5, protocol="gpsr"), "pgline") as emu:
        _settle(emu)
        n1 = emu.node("n1")
        assert n1.routes() == [] or all(r[0] != "10.99.0.5" for r in n1.routes())
        out = n1.run("ping -c 3 -i 0.3 -W 3 10.99.0.5").stdout
        assert re.search(r"3 received", out) and re.search(r"ttl=61 ", out), out
        assert "unknown option" not in out  # the destination gets the packet without the header


@pytest.mark.usefixtures("no_leftovers")
@pytest.mark.netns
@pytest.mark.skipif(netns_skip_reason() is not None, reason=str(netns_skip_reason()))
def test_netns_perimeter_mode_needs_the_header_to_travel_in_the_packet():
    """An arc around a void: n1 and n7 are 400 m apart with 150 m radios. Greedy fails at n1 (and
    at n7 for the reply); n2 is farther from n7 than n1 and would send a greedy packet straight
    back, so the packet reaches n3 only because n2 reads perimeter mode and Lp from the IPv4
    option the agent of n1 wrote."""
    from meshnet.netns.plan import Plan

    arc = [(0, 0), (0, 140), (0, 280), (140, 300), (280, 260), (390, 160), (400, 20)]
    for perimeter in (True, False):
        plan = Plan.line(7, protocol="gpsr", range_m=150, perimeter=perimeter)
        plan.initial = list(arc)
        with _emulate(plan, "pgarc") as emu:
            _settle(emu)
            out = emu.node("n1").run("ping -c 3 -i 0.3 -W 2 10.99.0.7").stdout
            drops = {f.get("reason") for _t, _n, kind, f in emu.events if kind == "data_dropped"}
            counters = [dict(a.counters) for a in emu.runtime.agents]
        if perimeter:
            assert re.search(r"3 received", out) and re.search(r"ttl=59 ", out), out  # 6 hops each way
            assert "unknown option" not in out
        else:
            assert re.search(r" 0 received", out), out
            assert counters[0].get("drop_gpsr_local_maximum", 0) == 3, counters


@pytest.mark.usefixtures("no_leftovers")
@pytest.mark.netns
@pytest.mark.skipif(netns_skip_reason() is not None, reason=str(netns_skip_reason()))
def test_netns_perimeter_walk_may_pass_the_source_again():
    """n1 is a local maximum; the first edge counterclockwise leads to n2, a dead end that sends
    the packet straight back through n1 (the node kernel must accept a packet with its own source
    address) and on round the arc below to n8."""
    from meshnet.netns.plan import Plan

    pts = [(0, 0), (0, 140), (0, -140), (0, -280), (140, -300), (280, -260), (390, -160),
           (400, -20)]
    plan = Plan.line(8, protocol="gpsr", range_m=150)
    plan.initial = list(pts)
    with _emulate(plan, "pgback") as emu:
        _settle(emu)
        out = emu.node("n1").run("ping -c 3 -i 0.3 -W 2 10.99.0.8").stdout
    assert re.search(r"3 received", out) and re.search(r"ttl=59 ", out), out
