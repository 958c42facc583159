"""meshnet's Wireshark dissectors (meshnet/wireshark/*.lua) read what meshnet writes.

Every protocol with a dissector runs a short scenario with ``--pcap`` and ``--trace``; tshark then
decodes the pcap with the Lua plug-ins. The tests hold every frame to: no Lua error, nothing
malformed, every control frame claimed by its dissector, and each field equal to what meshnet's own
Python decoder reads from the same bytes and to what the trace says was sent. Crafted and mutated
frames check that the dissectors flag exactly the messages the Python decoders reject.

tshark comes from the apt package ``tshark`` (.ci/run installs it). Without it these tests skip,
except with CI=true, where they fail.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import random
import shutil
import subprocess
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import pytest
from scapy.layers.inet import IP, UDP, IPOption
from scapy.layers.l2 import Ether
from scapy.packet import Raw
from scapy.utils import PcapReader, wrpcap

from meshnet.cli import main
from meshnet.netns import ipopt
from meshnet.pcap import DATA_PORT
from meshnet.protocol_api import DecodeError
from meshnet.protocols.aodv import wire as aodv_wire
from meshnet.protocols.dsdv import wire as dsdv_wire
from meshnet.protocols.gpsr import wire as gpsr_wire
from meshnet.protocols.odmrp import wire as odmrp_wire
from meshnet.protocols.power import wire as power_wire
from meshnet.protocols.smf import wire as smf_wire
from meshnet.protocols.zigbee import wire as zigbee_wire
from meshnet.protocols.zwave import wire as zwave_wire
from meshnet.registry import load_protocol
from meshnet.scenario import load_scenario
from meshnet.sim import Simulation
from meshnet.wireshark import DISSECTORS, dissector_for, tshark_args

IN_CI = os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")

# A short scenario per protocol that makes it send every kind of message it has; a protocol not
# listed (a new dissector's) runs the 10-node line for 20 s.
SCENARIOS: dict[str, tuple[str, float, tuple[str, ...]]] = {
    "aodv": ("broch", 30, ("protocol.link_detection=hello",)),  # RREQ, RREP, hellos, RERR
    "dsdv": ("broch", 40, ()),  # full dumps, incremental updates, broken routes
    "gpsr": ("gpsr-void", 8, ()),  # beacons, greedy and perimeter headers
    "mtpr": ("broch", 35, ()),  # RREQ, RREP, RERR (the first breaks come near 30 s)
    "mmbcr": ("power-relay", 15, ()),
    "cmmbcr": ("power-relay", 15, ()),
    # associations, beacons, link status, Device_annce, NWK_addr_req/rsp, data headers
    "zigbee-tree": ("zigbee-home", 25, ()),
    # the same joins, plus route requests (many-to-one too), replies and route records
    "zigbee-mesh": ("zigbee-home", 25, ()),
    # find nodes, range info, assign routes, explorers, routed acks and errors, data headers
    "zwave": ("zwave-house", 30, ()),
    "smf": ("multicast", 12, ()),  # HELLOs (E-CDS relays among them)
    "odmrp": ("multicast", 14, ()),  # Join Queries and Join Replies (traffic starts at 10 s)
}
DEFAULT_SCENARIO = ("line", 20, ())
PROTOCOLS = [p for d in DISSECTORS for p in d.protocols]


@pytest.fixture(scope="module")
def tshark() -> str:
    exe = shutil.which("tshark")
    if exe is None:
        if IN_CI:
            pytest.fail("tshark is not installed, and CI=true requires it (apt package tshark, "
                        "installed by .ci/run)")
        pytest.skip("tshark is not installed (apt install tshark): the Lua dissectors are not "
                    "checked")
    return exe


@dataclass
class Frame:
    number: int
    time: float  # when it went on the air (pcap resolution: 1 us)
    eth_src: str
    ip: bytes  # the IPv4 packet, header and options included
    port: int  # UDP destination port
    payload: bytes


def read_frames(pcap: Path) -> list[Frame]:
    out = []
    with PcapReader(str(pcap)) as reader:
        for number, pkt in enumerate(reader, 1):
            out.append(Frame(number, float(pkt.time), pkt[Ether].src, bytes(pkt[IP]),
                             pkt[UDP].dport, bytes(pkt[UDP].payload)))
    return out


def decode_with_tshark(tshark: str, pcap: Path, fields: list[str]) -> list[dict[str, list[str]]]:
    """Every frame of ``pcap`` as tshark decodes it with all meshnet plug-ins loaded:
    field -> all its values in tree order. Fails on anything tshark says on stderr (a Lua
    plug-in that does not load says it there)."""
    base = ["frame.number", "frame.protocols", "_ws.lua.error", "_ws.malformed",
            "_ws.expert.severity"]
    names = base + [f for f in fields if f not in base]
    cmd = [tshark, "-n", *tshark_args(), "-r", str(pcap), "-T", "fields", "-E", "header=n",
           "-E", "separator=\t", "-E", "occurrence=a", "-E", "aggregator=|"]
    for name in names:
        cmd += ["-e", name]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300,
                          env={**os.environ, "LC_ALL": "C"})
    noise = [line for line in done.stderr.splitlines()
             if line.strip() and "Running as user" not in line]
    assert done.returncode == 0 and not noise, done.stderr
    rows = []
    for line in done.stdout.splitlines():
        values = line.split("\t")
        rows.append({name: (v.split("|") if v else []) for name, v in zip(names, values)})
    assert [int(r["frame.number"][0]) for r in rows] == list(range(1, len(rows) + 1))
    return rows


def problems(row: dict[str, list[str]]) -> list[str]:
    """What is wrong with one decoded frame: Lua errors, malformed parts, error-level experts."""
    out = []
    if row["_ws.lua.error"]:
        out.append("Lua error")
    if row["_ws.malformed"]:
        out.append("malformed")
    if any(int(s) >= 0x800000 for s in row["_ws.expert.severity"]):  # PI_ERROR
        out.append("error expert")
    return out


@dataclass
class Capture:
    protocol: str
    port: int
    frames: list[Frame]
    events: list[dict]
    rows: list[dict[str, list[str]]]
    address: dict[str, str]  # node name -> IPv4 address
    index: dict[str, int]  # IPv4 address -> node index
    duration: float
    max_payload: int  # the largest packet the radio sends without fragmenting it

    def control(self) -> list[tuple[Frame, dict[str, list[str]]]]:
        return [(f, self.rows[f.number - 1]) for f in self.frames if f.port == self.port]

    def sends(self) -> dict[str, list[tuple[dict, list[Frame]]]]:
        """Per sender address, each ctrl_tx event of the trace with the frames of its attempts.

        The pcap has one record per attempt, as it goes on the air; the event comes when the
        transmission is over. So the frames of a send are the sender's frames since its previous
        send, up to the event's time. Some frames have no event, as the run counts no
        transmission for a send the MAC gave up on: the attempts of a unicast that was never
        acknowledged, a packet the radio fragments when a later fragment could not go out, and a
        frame still on the air when the run ended. Anything else left over fails."""
        frames: dict[str, list[Frame]] = defaultdict(list)
        for frame, _ in self.control():
            frames[_src(frame)].append(frame)
        out: dict[str, list] = defaultdict(list)
        unaccounted: list[list[Frame]] = []
        for event in self.events:
            if event["ev"] != "ctrl_tx" or event["port"] != self.port:
                continue
            src = self.address[event["node"]]
            queue, attempts = frames[src], []
            while queue and queue[0].time <= event["t"] + 1e-6:
                attempts.append(queue.pop(0))
            runs = _runs(attempts)
            unaccounted += runs[:-1]
            out[src].append((event, runs[-1] if runs else []))
        for queue in frames.values():
            unaccounted += _runs(queue)
        unexplained = [(run[0].number, _dst(run[0])) for run in unaccounted
                       if _broadcast(run[0]) and len(run[0].ip) <= self.max_payload
                       and run[0].time < self.duration - 0.5]
        assert unexplained == [], "frames no ctrl_tx accounts for"
        return out

    def per_sender(self) -> dict[str, list[tuple[Frame, dict[str, list[str]]]]]:
        """Each sender's transmissions (first attempts), in order, with their decoded rows."""
        return {src: [(attempts[0], self.rows[attempts[0].number - 1])
                      for _, attempts in sends if attempts]
                for src, sends in self.sends().items()}


def _src(frame: Frame) -> str:
    return ".".join(str(b) for b in frame.ip[12:16])


def _dst(frame: Frame) -> str:
    return ".".join(str(b) for b in frame.ip[16:20])


def _broadcast(frame: Frame) -> bool:
    return _dst(frame) == "255.255.255.255"


def _runs(frames: list[Frame]) -> list[list[Frame]]:
    """``frames`` cut where the bytes or the destination change: the attempts of one send."""
    out: list[list[Frame]] = []
    for frame in frames:
        if out and (out[-1][0].ip, _dst(out[-1][0])) == (frame.ip, _dst(frame)):
            out[-1].append(frame)
        else:
            out.append([frame])
    return out


FIELDS = {
    "aodv": ["aodv.type", "aodv.hopcount", "aodv.rreq_id", "aodv.dest_ip", "aodv.dest_seqno",
             "aodv.orig_ip", "aodv.orig_seqno", "aodv.lifetime", "aodv.destcount",
             "aodv.unreach_dest_ip", "meshnet.aodv.extensions", "meshnet.aodv.ext.type",
             "meshnet.aodv.ext.length", "meshnet.aodv.ttl"],
    "dsdv": ["meshnet.dsdv.version", "meshnet.dsdv.full", "meshnet.dsdv.count",
             "meshnet.dsdv.dest", "meshnet.dsdv.seqno", "meshnet.dsdv.metric",
             "meshnet.dsdv.broken"],
    "gpsr": ["meshnet.gpsr.type", "meshnet.gpsr.version", "meshnet.gpsr.x", "meshnet.gpsr.y",
             "meshnet.gpsr.header.version", "meshnet.gpsr.header.mode",
             "meshnet.gpsr.header.perimeter_hops", "meshnet.gpsr.header.sender",
             "meshnet.gpsr.header.dest_x", "meshnet.gpsr.header.dest_y",
             "meshnet.gpsr.header.lp_x", "meshnet.gpsr.header.lp_y", "meshnet.gpsr.header.lf_x",
             "meshnet.gpsr.header.lf_y", "meshnet.gpsr.header.e0_tail",
             "meshnet.gpsr.header.e0_head"],
    "power": ["meshnet.power.type", "meshnet.power.ttl", "meshnet.power.hop_count",
              "meshnet.power.tx_power", "meshnet.power.min_battery", "meshnet.power.rreq_id",
              "meshnet.power.orig", "meshnet.power.orig_seq", "meshnet.power.dest",
              "meshnet.power.dest_seq", "meshnet.power.cost", "meshnet.power.lifetime",
              "meshnet.power.count", "meshnet.power.unreachable.dest",
              "meshnet.power.unreachable.seq"],
    "zigbee": [f"meshnet.zigbee.{name}" for name in (
        # NWK header of control frames
        "frame_type", "version", "discover_route", "multicast", "security", "source_route",
        "dst_ieee_present", "src_ieee_present", "dst", "src", "radius", "seq", "dst_ieee",
        "dst_node", "src_ieee", "src_node", "relay_count", "relay_index", "relay",
        # NWK commands
        "command", "rreq.many_to_one", "rreq.dst_ieee_present", "rreq.id", "rreq.dst",
        "rreq.path_cost", "rreq.dst_ieee", "rreq.dst_node", "rrep.orig_ieee_present",
        "rrep.resp_ieee_present", "rrep.id", "rrep.originator", "rrep.responder",
        "rrep.path_cost", "rrep.orig_ieee", "rrep.orig_node", "rrep.resp_ieee", "rrep.resp_node",
        "status.code", "status.dst", "record.count", "record.relay", "link_status.count",
        "link_status.first", "link_status.last", "link_status.address", "link_status.incoming",
        "link_status.outgoing",
        # ZDO
        "zdo.cluster", "zdo.tsn", "zdo.address", "zdo.ieee", "zdo.node", "zdo.status",
        "capability", "capability.router",
        # joins
        "mac", "join", "assoc.address", "assoc.status", "beacon.src", "beacon.pan_coordinator",
        "beacon.permit_join", "beacon.protocol_id", "beacon.protocol_version",
        "beacon.router_capacity", "beacon.depth", "beacon.end_device_capacity",
        "beacon.extended_pan_id", "beacon.update_id",
        # a data packet's NWK header (IPv4 option 222)
        "header.frame_type", "header.version", "header.discover_route", "header.multicast",
        "header.security", "header.source_route", "header.dst_ieee_present",
        "header.src_ieee_present", "header.dst", "header.src", "header.radius", "header.seq", "header.dst_ieee",
        "header.dst_node", "header.src_ieee", "header.src_node", "header.relay_count",
        "header.relay_index", "header.relay")],
    "zwave": [f"meshnet.zwave.{name}" for name in (
        "type", "sender", "orig", "target", "seq", "flags.inbound", "repeater_count", "hop",
        "max_repeaters", "collected", "repeater", "body", "address", "neighbor.id",
        "neighbor.address", "dest", "routes", "route.count", "route.repeater", "reason", "hops",
        "failed_from", "failed_to",
        # a data packet's header (IPv4 option 158 of 5 to 9 bytes)
        "header.version", "header.src", "header.dst", "header.seq", "header.repeater_count",
        "header.hop", "header.repeater")],
    "smf": [f"meshnet.smf.{name}" for name in (
        "type", "version", "priority", "flags.relay", "validity", "count", "link.address",
        "link.status", "link.mpr", "link.priority")],
    "odmrp": [f"meshnet.odmrp.{name}" for name in (
        "type", "ttl", "hop_count", "group", "seq", "source", "prev_hop", "count", "sender",
        "entry.source", "entry.seq", "entry.next_hop")],
}
ALL_FIELDS = [f for fields in FIELDS.values() for f in fields]


@pytest.fixture(scope="module")
def capture(tshark, tmp_path_factory):
    """capture(protocol): the protocol's scenario, run once per module and decoded by tshark."""
    done: dict[str, Capture] = {}

    def get(protocol: str) -> Capture:
        if protocol not in done:
            folder = tmp_path_factory.mktemp(protocol)
            pcap, trace = folder / "run.pcap", folder / "run.jsonl"
            scenario, duration, sets = SCENARIOS.get(protocol, DEFAULT_SCENARIO)
            argv = ["run", scenario, "-p", protocol, "--duration", str(duration), "--json",
                    "--pcap", str(pcap), "--trace", str(trace)]
            for s in sets:
                argv += ["--set", s]
            with contextlib.redirect_stdout(io.StringIO()):
                assert main(argv) == 0
            events = [json.loads(line) for line in trace.read_text().splitlines()]
            sim = Simulation(load_scenario(scenario, list(sets), protocol=protocol))
            done[protocol] = Capture(protocol, load_protocol(protocol).port, read_frames(pcap),
                                     events, decode_with_tshark(tshark, pcap, ALL_FIELDS),
                                     {n.name: n.address for n in sim.nodes},
                                     {n.address: n.index for n in sim.nodes}, duration,
                                     sim.world.profile.max_payload_bytes)
        return done[protocol]

    return get


# --- every dissector, every frame ----------------------------------------------------------

@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_every_frame_decodes_without_errors_and_each_control_frame_is_claimed(capture, protocol):
    cap = capture(protocol)
    dissector = dissector_for(protocol)
    bad = {row["frame.number"][0]: problems(row) for row in cap.rows if problems(row)}
    assert bad == {}
    control = cap.control()
    assert len(control) >= 20
    for frame, row in control:
        assert dissector.filter in row["frame.protocols"][0].split(":"), frame.number
    # the pcap holds exactly the control transmissions of the trace, from the nodes that sent
    # them: one frame per send, more only for a unicast the MAC retried (the same bytes again)
    sends = [s for per_node in cap.sends().values() for s in per_node]
    assert len(sends) == sum(e["ev"] == "ctrl_tx" and e["port"] == cap.port for e in cap.events)
    for event, attempts in sends:
        assert attempts, event
        assert {(f.ip, _dst(f)) for f in attempts} == {(attempts[0].ip, event["dst"])}, event
        assert len(attempts[0].ip) == event["bytes"]
        assert len(attempts) == 1 or event["dst"] != "255.255.255.255"


def test_the_catalogue_names_registered_protocols_on_the_ports_they_use():
    for d in DISSECTORS:
        text = d.path.read_text()
        assert d.filter.startswith("meshnet.") and f'"{d.filter}"' in text
        assert 'require "meshnet_common"' in text
        for name in d.protocols:
            port = load_protocol(name).port
            assert f"local PORT = {port}\n" in text, (d.script, name, port)


# --- field by field, against the Python decoders and the trace -----------------------------

def _ints(row, field):
    return [int(v) for v in row[field]]


def test_dsdv_fields_equal_the_decoder_and_the_trace(capture):
    cap = capture("dsdv")
    kinds = set()
    for frame, row in cap.control():
        update = dsdv_wire.decode(frame.payload)
        assert _ints(row, "meshnet.dsdv.version") == [dsdv_wire.VERSION]
        assert _ints(row, "meshnet.dsdv.full") == [int(update.full)]
        assert _ints(row, "meshnet.dsdv.count") == [len(update.entries)]
        assert row["meshnet.dsdv.dest"] == [e.dst for e in update.entries]
        assert _ints(row, "meshnet.dsdv.seqno") == [e.seqno for e in update.entries]
        assert _ints(row, "meshnet.dsdv.metric") == [e.metric for e in update.entries]
        assert _ints(row, "meshnet.dsdv.broken") == [int(e.broken) for e in update.entries]
        kinds.add("full" if update.full else "incremental")
        if any(e.broken for e in update.entries):
            kinds.add("broken")
    assert kinds == {"full", "incremental", "broken"}
    addresses = cap.address  # node name -> IPv4 address
    announced = defaultdict(list)
    for e in cap.events:
        if e["ev"] == "update_sent":
            announced[addresses[e["node"]]].append((e["mode"] == "full", e["entries"]))
    seen = {src: [(bool(_ints(row, "meshnet.dsdv.full")[0]), _ints(row, "meshnet.dsdv.count")[0])
                  for _, row in frames] for src, frames in cap.per_sender().items()}
    assert seen == dict(announced)


def test_aodv_fields_equal_the_decoder_and_the_trace(capture):
    cap = capture("aodv")
    kinds = set()
    for frame, row in cap.control():
        msg = aodv_wire.decode(frame.payload, strict=True)
        exts = msg.extensions if hasattr(msg, "extensions") else ()
        assert _ints(row, "meshnet.aodv.extensions") == [len(exts)]
        assert _ints(row, "meshnet.aodv.ext.type") == [k for k, _ in exts]
        assert _ints(row, "meshnet.aodv.ext.length") == [len(v) for _, v in exts]
        if isinstance(msg, aodv_wire.RREQ):
            kinds.add("RREQ")
            assert _ints(row, "aodv.type") == [1]
            assert _ints(row, "aodv.rreq_id") == [msg.rreq_id]
            assert row["aodv.dest_ip"] == [msg.dst] and row["aodv.orig_ip"] == [msg.orig]
            assert _ints(row, "aodv.dest_seqno") == [msg.dst_seq]
            assert _ints(row, "aodv.orig_seqno") == [msg.orig_seq]
            assert _ints(row, "aodv.hopcount") == [msg.hop_count]
            assert msg.ttl is not None and _ints(row, "meshnet.aodv.ttl") == [msg.ttl]
        elif isinstance(msg, aodv_wire.RREP):
            kinds.add("hello" if msg.is_hello else "RREP")
            assert _ints(row, "aodv.type") == [2]
            assert row["aodv.dest_ip"] == [msg.dst] and row["aodv.orig_ip"] == [msg.orig]
            assert _ints(row, "aodv.dest_seqno") == [msg.dst_seq]
            assert _ints(row, "aodv.lifetime") == [msg.lifetime_ms]
            assert _ints(row, "aodv.hopcount") == [msg.hop_count]
            assert row["meshnet.aodv.ttl"] == []
        elif isinstance(msg, aodv_wire.RERR):
            kinds.add("RERR")
            assert _ints(row, "aodv.type") == [3]
            assert _ints(row, "aodv.destcount") == [len(msg.unreachable)]
            assert row["aodv.unreach_dest_ip"] == [d for d, _ in msg.unreachable]
            assert _ints(row, "aodv.dest_seqno") == [s for _, s in msg.unreachable]
    assert kinds == {"RREQ", "RREP", "hello", "RERR"}
    # each node's RREQs, in order, with the TTL the trace says it sent them with
    addresses = cap.address  # node name -> IPv4 address
    announced = defaultdict(list)
    for e in cap.events:
        if e["ev"] == "rreq_sent":
            announced[addresses[e["node"]]].append((e["rreq_id"], e["orig"], e["dst"], e["ttl"]))
    seen = {src: [(int(row["aodv.rreq_id"][0]), row["aodv.orig_ip"][0], row["aodv.dest_ip"][0],
                   int(row["meshnet.aodv.ttl"][0]))
                  for _, row in frames if row["aodv.type"] == ["1"]]
            for src, frames in cap.per_sender().items()}
    assert {k: v for k, v in seen.items() if v} == dict(announced)


def test_power_fields_equal_the_decoder_and_the_trace(capture):
    cap = capture("mtpr")
    kinds = set()
    for frame, row in cap.control():
        msg = power_wire.decode(frame.payload)
        assert _ints(row, "meshnet.power.tx_power") == [msg.tx_cdbm]
        if isinstance(msg, power_wire.RREQ):
            kinds.add("RREQ")
            assert _ints(row, "meshnet.power.type") == [1]
            assert _ints(row, "meshnet.power.rreq_id") == [msg.rreq_id]
            assert row["meshnet.power.orig"] == [msg.orig]
            assert _ints(row, "meshnet.power.orig_seq") == [msg.orig_seq]
            assert row["meshnet.power.dest"] == [msg.dst]
            assert _ints(row, "meshnet.power.ttl") == [msg.ttl]
            assert _ints(row, "meshnet.power.hop_count") == [msg.hop_count]
            assert _ints(row, "meshnet.power.cost") == [msg.cost]
            assert _ints(row, "meshnet.power.min_battery") == [msg.min_battery]
        elif isinstance(msg, power_wire.RREP):
            kinds.add("RREP")
            assert _ints(row, "meshnet.power.type") == [2]
            assert _ints(row, "meshnet.power.rreq_id") == [msg.rreq_id]
            assert row["meshnet.power.orig"] == [msg.orig]
            assert row["meshnet.power.dest"] == [msg.dst]
            assert _ints(row, "meshnet.power.dest_seq") == [msg.dst_seq]
            assert _ints(row, "meshnet.power.lifetime") == [msg.lifetime_ms]
            assert _ints(row, "meshnet.power.hop_count") == [msg.hop_count]
            assert _ints(row, "meshnet.power.cost") == [msg.cost]
            assert _ints(row, "meshnet.power.min_battery") == [msg.min_battery]
        else:
            kinds.add("RERR")
            assert _ints(row, "meshnet.power.type") == [3]
            assert _ints(row, "meshnet.power.count") == [len(msg.unreachable)]
            assert row["meshnet.power.unreachable.dest"] == [d for d, _ in msg.unreachable]
            assert _ints(row, "meshnet.power.unreachable.seq") == [s for _, s in msg.unreachable]
    assert kinds == {"RREQ", "RREP", "RERR"}
    addresses = cap.address  # node name -> IPv4 address
    announced = defaultdict(list)
    for e in cap.events:
        if e["ev"] == "rreq_sent":
            announced[addresses[e["node"]]].append((e["rreq_id"], e["orig"], e["dst"], e["ttl"]))
    seen = {src: [(int(row["meshnet.power.rreq_id"][0]), row["meshnet.power.orig"][0],
                   row["meshnet.power.dest"][0], int(row["meshnet.power.ttl"][0]))
                  for _, row in frames if row["meshnet.power.type"] == ["1"]]
            for src, frames in cap.per_sender().items()}
    assert {k: v for k, v in seen.items() if v} == dict(announced)


def test_gpsr_beacons_and_headers_equal_the_decoder_and_the_positions(capture):
    cap = capture("gpsr")
    addresses = cap.address  # node name -> IPv4 address
    position = {addresses[e["node"]]: gpsr_wire.to_mm((e["x"], e["y"]))
                for e in cap.events if e["ev"] == "node_moved" and e["t"] == 0}
    assert len(position) == len(addresses)  # a static scenario: beacons carry these positions
    for frame, row in cap.control():
        beacon = gpsr_wire.decode_beacon(frame.payload)
        assert _ints(row, "meshnet.gpsr.type") == [gpsr_wire.BEACON]
        assert _ints(row, "meshnet.gpsr.x") == [beacon.x]
        assert _ints(row, "meshnet.gpsr.y") == [beacon.y]
        assert (beacon.x, beacon.y) == position[_src(frame)]
    address_of_mac = {f.eth_src: _src(f) for f, _ in cap.control()}
    modes = set()
    for frame in cap.frames:
        if frame.port != DATA_PORT:
            continue
        row = cap.rows[frame.number - 1]
        raw = ipopt.extract(frame.ip, gpsr_wire.IP_OPTION)
        if raw is None:  # the last hop, to D itself, carries no header
            assert row["meshnet.gpsr.header.mode"] == []
            continue
        h = gpsr_wire.decode_header(raw)
        modes.add(h.mode)
        assert _ints(row, "meshnet.gpsr.header.version") == [gpsr_wire.VERSION]
        assert _ints(row, "meshnet.gpsr.header.mode") == [h.mode]
        assert _ints(row, "meshnet.gpsr.header.perimeter_hops") == [h.perimeter_hops]
        assert row["meshnet.gpsr.header.sender"] == [h.sender]
        assert (_ints(row, "meshnet.gpsr.header.dest_x"),
                _ints(row, "meshnet.gpsr.header.dest_y")) == ([h.dst[0]], [h.dst[1]])
        # the header names the node that sent the frame, and D is where the destination is
        assert h.sender == address_of_mac[frame.eth_src]
        assert h.dst == position[_dst(frame)]
        if h.perimeter:
            assert _ints(row, "meshnet.gpsr.header.lp_x") + _ints(row, "meshnet.gpsr.header.lp_y") \
                == list(h.lp)
            assert _ints(row, "meshnet.gpsr.header.lf_x") + _ints(row, "meshnet.gpsr.header.lf_y") \
                == list(h.lf)
            assert row["meshnet.gpsr.header.e0_tail"] + row["meshnet.gpsr.header.e0_head"] \
                == list(h.e0)
        else:
            assert row["meshnet.gpsr.header.lp_x"] == [] and row["meshnet.gpsr.header.e0_tail"] == []
    assert modes == {gpsr_wire.GREEDY, gpsr_wire.PERIMETER}


# --- ZigBee, Z-Wave, SMF and ODMRP: every field as the Python decoder reads it ---------------

def _value(text: str) -> int | str:
    """A field value as tshark prints it: numbers (decimal, or hex as 0x…) and booleans (1/0,
    or True/False in newer tshark) as int, IPv4 addresses as text."""
    if text in ("True", "False"):
        return int(text == "True")
    try:
        return int(text, 0)
    except ValueError:
        return text


def assert_fields(row: dict[str, list[str]], fields: list[str], expected: dict[str, list],
                  what: object) -> None:
    """Each of ``fields`` holds exactly the values ``expected`` gives it, and no value at all when
    ``expected`` does not name it."""
    assert set(expected) <= set(fields), set(expected) - set(fields)
    actual = {f: [_value(v) for v in row[f]] for f in fields}
    wanted = {f: list(expected.get(f, ())) for f in fields}
    assert actual == wanted, (what, {f: (actual[f], wanted[f]) for f in fields
                                     if actual[f] != wanted[f]})


def _prefixed(prefix: str, values: dict[str, list]) -> dict[str, list]:
    return {f"{prefix}.{name}": v for name, v in values.items()}


def zigbee_header_fields(h: zigbee_wire.NwkHeader, prefix: str = "meshnet.zigbee") -> dict:
    out = {"frame_type": [h.frame_type], "version": [zigbee_wire.PROTOCOL_VERSION],
           "discover_route": [h.discover_route], "multicast": [0], "security": [0],
           "source_route": [int(h.relays is not None)],
           "dst_ieee_present": [int(h.dst_ieee is not None)],
           "src_ieee_present": [int(h.src_ieee is not None)], "dst": [h.dst], "src": [h.src],
           "radius": [h.radius], "seq": [h.seq]}
    for end, ieee in (("dst", h.dst_ieee), ("src", h.src_ieee)):
        if ieee is not None:
            out[f"{end}_ieee"], out[f"{end}_node"] = [zigbee_wire.ieee_of(ieee)], [ieee]
    if h.relays is not None:
        out.update(relay_count=[len(h.relays)], relay_index=[h.relay_index],
                   relay=list(h.relays))
    return _prefixed(prefix, out)


def _ieee(prefix: str, ip: str | None, sep: str = "_") -> dict[str, list]:
    """An IEEE address field and the node it stands for: ``{prefix}_ieee``, ``{prefix}_node``."""
    return {} if ip is None else {f"{prefix}{sep}ieee": [zigbee_wire.ieee_of(ip)],
                                  f"{prefix}{sep}node": [ip]}


def zigbee_fields(msg: zigbee_wire.Message) -> dict[str, list]:
    """The meshnet.zigbee fields of a control frame, from the Python decoder's reading."""
    z = zigbee_wire
    if isinstance(msg, z.NwkFrame):
        out, b = zigbee_header_fields(msg.header), msg.body
        if isinstance(b, z.RouteRequest):
            body = {"command": [z.CMD_ROUTE_REQUEST], "rreq.many_to_one": [b.many_to_one],
                    "rreq.dst_ieee_present": [int(b.dst_ieee is not None)], "rreq.id": [b.rreq_id],
                    "rreq.dst": [b.dst], "rreq.path_cost": [b.path_cost],
                    **_ieee("rreq.dst", b.dst_ieee)}
        elif isinstance(b, z.RouteReply):
            body = {"command": [z.CMD_ROUTE_REPLY],
                    "rrep.orig_ieee_present": [int(b.originator_ieee is not None)],
                    "rrep.resp_ieee_present": [int(b.responder_ieee is not None)],
                    "rrep.id": [b.rreq_id], "rrep.originator": [b.originator],
                    "rrep.responder": [b.responder], "rrep.path_cost": [b.path_cost],
                    **_ieee("rrep.orig", b.originator_ieee), **_ieee("rrep.resp", b.responder_ieee)}
        elif isinstance(b, z.NetworkStatus):
            body = {"command": [z.CMD_NETWORK_STATUS], "status.code": [b.code],
                    "status.dst": [b.dst]}
        elif isinstance(b, z.RouteRecord):
            body = {"command": [z.CMD_ROUTE_RECORD], "record.count": [len(b.relays)],
                    "record.relay": list(b.relays)}
        elif isinstance(b, z.LinkStatus):
            body = {"command": [z.CMD_LINK_STATUS], "link_status.count": [len(b.entries)],
                    "link_status.first": [int(b.first)], "link_status.last": [int(b.last)],
                    "link_status.address": [a for a, _, _ in b.entries],
                    "link_status.incoming": [i for _, i, _ in b.entries],
                    "link_status.outgoing": [o for _, _, o in b.entries]}
        elif isinstance(b, z.DeviceAnnounce):
            body = {"zdo.cluster": [z.ZDO_DEVICE_ANNCE], "zdo.tsn": [b.tsn],
                    "zdo.address": [b.address], **_ieee("zdo", b.ieee, "."),
                    "capability": [b.capability], "capability.router": [b.capability >> 1 & 1]}
        elif isinstance(b, z.AddressRequest):
            body = {"zdo.cluster": [z.ZDO_NWK_ADDR_REQ], "zdo.tsn": [b.tsn], **_ieee("zdo", b.ieee, ".")}
        else:
            body = {"zdo.cluster": [z.ZDO_NWK_ADDR_RSP], "zdo.tsn": [b.tsn], "zdo.status": [b.status],
                    **_ieee("zdo", b.ieee, "."), "zdo.address": [b.address]}
        return {**out, **_prefixed("meshnet.zigbee", body)}
    out = {"mac": [z.MAC]}
    if isinstance(msg, z.BeaconRequest):
        out["join"] = [z.MAC_BEACON_REQUEST]
    elif isinstance(msg, z.AssociationRequest):
        out.update(join=[z.MAC_ASSOCIATION_REQUEST], capability=[msg.capability],
                   **{"capability.router": [int(msg.router)]})
    elif isinstance(msg, z.AssociationResponse):
        out.update(join=[z.MAC_ASSOCIATION_RESPONSE],
                   **{"assoc.address": [msg.address], "assoc.status": [msg.status]})
    else:
        out.update(join=[z.MAC_BEACON], **_prefixed("beacon", {
            "src": [msg.address], "pan_coordinator": [int(msg.pan_coordinator)],
            "permit_join": [int(msg.permit_join)], "protocol_id": [0],
            "protocol_version": [z.PROTOCOL_VERSION], "router_capacity": [int(msg.router_capacity)],
            "depth": [msg.depth], "end_device_capacity": [int(msg.end_device_capacity)],
            "extended_pan_id": [msg.extended_pan_id], "update_id": [msg.update_id]}))
    return _prefixed("meshnet.zigbee", out)


def _zwave_body(b: zwave_wire.Body) -> dict[str, list]:
    w = zwave_wire
    kinds = {w.RangeInfo: w.RANGE_INFO, w.AssignRoutes: w.ASSIGN_ROUTES,
             w.RouteRequest: w.ROUTE_REQUEST, w.Unreachable: w.UNREACHABLE, w.Ack: w.ACK,
             w.Error: w.ERROR, w.Nop: w.NOP, w.NeighborUpdate: w.NEIGHBOR_UPDATE}
    out: dict[str, list] = {"body": [kinds[type(b)]]}
    if isinstance(b, w.RangeInfo):
        out.update({"address": [b.address], "neighbor.id": [i for i, _ in b.neighbors],
                    "neighbor.address": [a for _, a in b.neighbors]})
    elif isinstance(b, w.AssignRoutes):
        out.update({"dest": [b.dst], "address": [b.address], "routes": [len(b.routes)],
                    "route.count": [len(r) for r in b.routes],
                    "route.repeater": [n for r in b.routes for n in r]})
    elif isinstance(b, w.RouteRequest):
        out["address"] = [b.address]
    elif isinstance(b, w.Unreachable):
        out.update(address=[b.address], reason=[w.TOO_FAR if b.too_far else w.NO_ROUTE],
                   hops=[b.hops])
    elif isinstance(b, w.Error):
        out.update(failed_from=[b.failed_from], failed_to=[b.failed_to])
    return out


def zwave_fields(msg: zwave_wire.Message) -> dict[str, list]:
    """The meshnet.zwave fields of a control frame, from the Python decoder's reading."""
    w = zwave_wire
    if isinstance(msg, (w.FindNodes, w.NodeInRange)):
        out = {"type": [w.FIND_NODES if isinstance(msg, w.FindNodes) else w.NODE_IN_RANGE],
               "sender": [msg.src]}
    elif isinstance(msg, w.Routed):
        out = {"type": [w.ROUTED], "orig": [msg.orig], "target": [msg.target], "seq": [msg.seq],
               "flags.inbound": [int(msg.inbound)], "repeater_count": [len(msg.repeaters)],
               "hop": [msg.hop], "repeater": list(msg.repeaters), **_zwave_body(msg.body)}
    else:
        out = {"type": [w.EXPLORER], "orig": [msg.orig], "target": [msg.target],
               "seq": [msg.seq], "max_repeaters": [msg.max_repeaters],
               "collected": [len(msg.repeaters)], "repeater": list(msg.repeaters),
               **_zwave_body(msg.body)}
    return _prefixed("meshnet.zwave", out)


def zwave_header_fields(h: zwave_wire.DataHeader) -> dict[str, list]:
    return _prefixed("meshnet.zwave.header", {
        "version": [zwave_wire.VERSION], "src": [h.src], "dst": [h.dst], "seq": [h.seq],
        "repeater_count": [len(h.repeaters)], "hop": [h.hop], "repeater": list(h.repeaters)})


def smf_fields(hello: smf_wire.Hello) -> dict[str, list]:
    return _prefixed("meshnet.smf", {
        "type": [smf_wire.TYPE_HELLO], "version": [smf_wire.VERSION], "priority": [hello.priority],
        "flags.relay": [int(hello.relay)], "validity": [round(hello.validity * 100)],
        "count": [len(hello.links)], "link.address": [k.address for k in hello.links],
        "link.status": [k.status for k in hello.links],
        "link.mpr": [int(k.mpr) for k in hello.links],
        "link.priority": [k.priority for k in hello.links]})


def odmrp_fields(msg: odmrp_wire.JoinQuery | odmrp_wire.JoinReply) -> dict[str, list]:
    if isinstance(msg, odmrp_wire.JoinQuery):
        out = {"type": [odmrp_wire.JOIN_QUERY], "ttl": [msg.ttl], "hop_count": [msg.hops],
               "group": [msg.group], "seq": [msg.seq], "source": [msg.source],
               "prev_hop": [msg.prev_hop]}
    else:
        out = {"type": [odmrp_wire.JOIN_REPLY], "count": [len(msg.entries)],
               "group": [msg.group], "sender": [msg.sender],
               "entry.source": [e.source for e in msg.entries],
               "entry.seq": [e.seq for e in msg.entries],
               "entry.next_hop": [e.next_hop for e in msg.entries]}
    return _prefixed("meshnet.odmrp", out)


def _kind(msg) -> str:
    body = getattr(msg, "body", None)
    return type(msg).__name__ + (f"/{type(body).__name__}" if body is not None else "")


def _transmitter(frame: Frame) -> int:
    """The index of the node that sent ``frame`` (meshnet/pcap.py: MAC 02:00:00 + index)."""
    return int(frame.eth_src.replace(":", "")[6:], 16)


def _short_addresses(cap: Capture) -> dict[str, list[tuple[float, int]]]:
    """Per node address, the ZigBee short addresses the trace says it joined with, in time."""
    out: dict[str, list[tuple[float, int]]] = defaultdict(list)
    for e in cap.events:
        if e["ev"] == "zigbee_joined":
            out[cap.address[e["node"]]].append((e["t"], e["address"]))
    return out


def _short_at(joined: list[tuple[float, int]], t: float) -> int | None:
    current = None
    for when, address in joined:
        if when <= t + 1e-6:
            current = address
    return current


ZIGBEE_KINDS = {"BeaconRequest", "Beacon", "AssociationRequest", "AssociationResponse",
                "NwkFrame/LinkStatus", "NwkFrame/DeviceAnnounce", "header"}


@pytest.mark.parametrize("protocol, kinds", [
    ("zigbee-tree", ZIGBEE_KINDS | {"NwkFrame/AddressRequest", "NwkFrame/AddressResponse"}),
    ("zigbee-mesh", ZIGBEE_KINDS | {"NwkFrame/RouteRequest", "NwkFrame/RouteReply",
                                    "NwkFrame/RouteRecord", "many-to-one"}),
])
def test_zigbee_fields_equal_the_decoder_and_the_trace(capture, protocol, kinds):
    cap = capture(protocol)
    joined = _short_addresses(cap)
    seen = set()
    for frame in cap.frames:
        row = cap.rows[frame.number - 1]
        if frame.port == cap.port:
            msg = zigbee_wire.decode(frame.payload)
            assert_fields(row, FIELDS["zigbee"], zigbee_fields(msg), frame.number)
            seen.add(_kind(msg))
            if isinstance(msg, zigbee_wire.Beacon):  # a router beacons its own short address
                assert msg.address == _short_at(joined[_src(frame)], frame.time)
            body = getattr(msg, "body", None)
            if isinstance(body, zigbee_wire.DeviceAnnounce):  # the announced node's address
                assert body.address == _short_at(joined[body.ieee], frame.time)
            if isinstance(body, zigbee_wire.RouteRequest) and body.many_to_one:
                seen.add("many-to-one")
        else:
            raw = ipopt.extract(frame.ip, zigbee_wire.IP_OPTION)
            assert raw is not None, frame.number  # every data packet carries its NWK header
            header, size = zigbee_wire.decode_header(raw)
            assert size == len(raw) and header.frame_type == zigbee_wire.DATA
            assert_fields(row, FIELDS["zigbee"],
                          zigbee_header_fields(header, "meshnet.zigbee.header"), frame.number)
            # the NWK source is the originator's short address
            assert header.src == _short_at(joined[_src(frame)], frame.time)
            seen.add("header")
    assert seen >= kinds, kinds - seen


def test_zwave_fields_equal_the_decoder_and_the_routes(capture):
    cap = capture("zwave")
    node_id = {address: index + 1 for address, index in cap.index.items()}  # Z-Wave node IDs
    seen = set()
    for frame in cap.frames:
        row = cap.rows[frame.number - 1]
        sender = _transmitter(frame) + 1
        if frame.port == cap.port:
            msg = zwave_wire.decode(frame.payload)
            assert_fields(row, FIELDS["zwave"], zwave_fields(msg), frame.number)
            seen.add(_kind(msg))
            if isinstance(msg, (zwave_wire.FindNodes, zwave_wire.NodeInRange)):
                assert msg.src == sender == node_id[_src(frame)]
            elif isinstance(msg, zwave_wire.Routed):  # the hop index names the transmitter
                assert msg.path[msg.hop] == sender, frame.number
            continue
        raw = ipopt.extract(frame.ip, zwave_wire.IP_OPTION)
        if raw is None:  # a packet sent over a direct link carries no header
            assert row["meshnet.zwave.header.src"] == [] and row["meshnet.gpsr.header.mode"] == []
            continue
        h = zwave_wire.decode_header(raw)
        assert_fields(row, FIELDS["zwave"], zwave_header_fields(h), frame.number)
        assert row["meshnet.gpsr.header.mode"] == []  # option 158 of 5-9 bytes is not GPSR's
        assert (h.src, h.dst) == (node_id[_src(frame)], node_id[_dst(frame)])
        assert h.path[h.hop] == sender, frame.number
        seen.add(f"header/{len(h.repeaters)}")
    assert seen >= {"FindNodes", "NodeInRange", "Routed/RangeInfo", "Routed/AssignRoutes",
                    "Routed/Ack", "Routed/Error", "Routed/NeighborUpdate", "Explorer/Nop",
                    "Explorer/RangeInfo", "header/1"}, seen


def test_smf_fields_equal_the_decoder(capture):
    cap = capture("smf")
    relays = mprs = 0
    for frame, row in cap.control():
        hello = smf_wire.decode_hello(frame.payload)
        assert_fields(row, FIELDS["smf"], smf_fields(hello), frame.number)
        assert all(k.address in cap.index and k.address != _src(frame) for k in hello.links)
        relays += hello.relay
        mprs += sum(k.mpr for k in hello.links)
    assert relays > 0  # E-CDS: some senders are relays


def test_odmrp_fields_equal_the_decoder_and_the_trace(capture):
    cap = capture("odmrp")
    kinds = set()
    for frame, row in cap.control():
        msg = odmrp_wire.decode(frame.payload)
        assert_fields(row, FIELDS["odmrp"], odmrp_fields(msg), frame.number)
        kinds.add(type(msg).__name__)
    assert kinds == {"JoinQuery", "JoinReply"}
    # each node's Join Queries and Join Replies, in order, as the trace says it sent them
    announced = defaultdict(list)
    for e in cap.events:
        if e["ev"] == "join_query_sent":
            announced[cap.address[e["node"]]].append(("query", e["group"], e["source"], e["seq"]))
        elif e["ev"] == "join_reply_sent":
            announced[cap.address[e["node"]]].append(("reply", e["group"], *e["sources"]))
    seen = {}
    for src, frames in cap.per_sender().items():
        seen[src] = []
        for _, row in frames:
            group = row["meshnet.odmrp.group"][0]
            if row["meshnet.odmrp.type"] == ["1"]:
                seen[src].append(("query", group, row["meshnet.odmrp.source"][0],
                                  int(row["meshnet.odmrp.seq"][0])))
            else:
                seen[src].append(("reply", group, *row["meshnet.odmrp.entry.source"]))
    assert seen == dict(announced)


def _crafted() -> list[tuple[Ether, str, object]]:
    """Every message kind of the four formats, with the options the runs may not send (IEEE
    addresses, source routes, network status, unreachable …), as (frame, format, message)."""
    z, w = zigbee_wire, zwave_wire
    a, b, c = "10.99.0.7", "10.99.1.12", "10.99.0.250"
    head = z.NwkHeader(z.COMMAND, 0x1234, 0x0001, 30, 77)
    zigbee = [
        z.NwkFrame(head, z.RouteRequest(9, 0x0203, 5)),
        z.NwkFrame(z.NwkHeader(z.COMMAND, z.BROADCAST_ROUTERS, 0, 30, 1, src_ieee=a),
                   z.RouteRequest(200, z.UNKNOWN_ADDRESS, 0, z.MANY_TO_ONE_NO_RECORD, b)),
        z.NwkFrame(head, z.RouteReply(9, 0x0001, 0x0203, 14)),
        z.NwkFrame(z.NwkHeader(z.COMMAND, 1, 2, 5, 6, dst_ieee=b, src_ieee=c, relays=(3, 4, 5),
                               relay_index=2), z.RouteReply(3, 0x0002, 0x0001, 7, a, c)),
        z.NwkFrame(head, z.NetworkStatus(z.STATUS_SOURCE_ROUTE_FAILURE, 0xBEEF)),
        z.NwkFrame(head, z.RouteRecord(())),
        z.NwkFrame(head, z.RouteRecord((0x0010, 0x0200, 0xFFF0))),
        z.NwkFrame(head, z.LinkStatus(((1, 7, 1), (0x8001, 3, 5)), first=False)),
        z.NwkFrame(head, z.LinkStatus((), last=False)),
        z.NwkFrame(z.NwkHeader(z.DATA, z.BROADCAST_ALL, 0x4321, 1, 2, 1, src_ieee=a),
                   z.DeviceAnnounce(3, 0x4321, a, z.CAP_FFD | z.CAP_ALLOCATE_ADDRESS)),
        z.NwkFrame(z.NwkHeader(z.DATA, 0xFFFD, 0, 3, 4), z.AddressRequest(250, b)),
        z.NwkFrame(z.NwkHeader(z.DATA, 0, 7, 3, 4, relays=()),
                   z.AddressResponse(1, z.ZDO_DEVICE_NOT_FOUND, c, 0xFFFE)),
        z.BeaconRequest(), z.AssociationRequest(z.CAP_RX_ON_IDLE),
        z.AssociationResponse(0x0102, z.ASSOC_ACCESS_DENIED),
        z.Beacon(0x0F0F, 15, False, True, True, False, 0x0123456789ABCDEF, 255),
    ]
    zigbee_headers = [z.NwkHeader(z.DATA, 0x0102, 0x0304, 9, 200, 1),
                      z.NwkHeader(z.DATA, 1, 2, 3, 4, 0, dst_ieee=a, relays=(9, 8, 7, 6), relay_index=3),
                      z.NwkHeader(z.DATA, 1, 2, 3, 4, 2, src_ieee=b, relays=(), relay_index=0)]
    info = w.RangeInfo(a, ((1, b), (9, c), (232, a)))
    zwave = [
        w.FindNodes(232), w.NodeInRange(1),
        w.Routed(1, 232, 255, (2, 3, 4, 5), info, hop=0),
        w.Routed(7, 1, 0, (), w.AssignRoutes(9, c, ((), (2,), (2, 3, 4, 5))), hop=1),
        w.Routed(7, 1, 1, (3,), w.RouteRequest(b), hop=2, inbound=True),
        w.Routed(7, 1, 2, (3, 4), w.Unreachable(a, True, 0), hop=3),
        w.Routed(7, 1, 3, (3,), w.Unreachable(a, False, 6), inbound=True),
        w.Routed(7, 1, 4, (3,), w.Ack(), hop=1, inbound=True),
        w.Routed(7, 1, 5, (3, 4), w.Error(4, 1), hop=1, inbound=True),
        w.Routed(1, 7, 6, (), w.NeighborUpdate()),
        w.Explorer(5, 6, 7, 4, (1, 2, 3), w.Nop()),
        w.Explorer(5, 6, 8, 0, (), w.RangeInfo(b, ())),
    ]
    zwave_headers = [w.DataHeader(1, 2, 3, ()), w.DataHeader(9, 232, 255, (1, 2, 3, 4), 5)]
    smf = [smf_wire.Hello(0, 0.01, ()),
           smf_wire.Hello(255, 655.35, (smf_wire.Link(a, smf_wire.HEARD, False, 0),
                                        smf_wire.Link(b, smf_wire.SYMMETRIC, True, 255)), True)]
    odmrp = [odmrp_wire.JoinQuery("239.1.1.1", 2 ** 32 - 1, a, b, 0, 255),
             odmrp_wire.JoinReply("224.0.0.251", c, (odmrp_wire.ReplyEntry(a, 7, b),
                                                     odmrp_wire.ReplyEntry(b, 0, c)))]
    return ([(_udp(zigbee_wire.PORT, z.encode(m)), "zigbee", m) for m in zigbee]
            + [(_with_option(z.encode_header(h), z.IP_OPTION), "zigbee.header", h)
               for h in zigbee_headers]
            + [(_udp(w.PORT, w.encode(m)), "zwave", m) for m in zwave]
            + [(_with_option(w.encode_header(h)), "zwave.header", h) for h in zwave_headers]
            + [(_udp(61503, smf_wire.encode_hello(m)), "smf", m) for m in smf]
            + [(_udp(61504, odmrp_wire.encode(m)), "odmrp", m) for m in odmrp])


def test_every_message_kind_the_encoders_make_decodes_field_by_field(tshark, tmp_path):
    cases = _crafted()
    pcap = tmp_path / "crafted.pcap"
    wrpcap(str(pcap), [frame for frame, _, _ in cases])
    rows = decode_with_tshark(tshark, pcap, ALL_FIELDS)
    expect = {"zigbee": zigbee_fields, "zwave": zwave_fields, "smf": smf_fields,
              "odmrp": odmrp_fields, "zwave.header": zwave_header_fields,
              "zigbee.header": lambda h: zigbee_header_fields(h, "meshnet.zigbee.header")}
    for (frame, kind, msg), row in zip(cases, rows):
        assert problems(row) == [], (kind, msg)
        protocol = kind.split(".")[0]
        assert f"meshnet.{kind}" in row["frame.protocols"][0].split(":") or kind.endswith(
            "header"), (kind, msg)
        assert_fields(row, FIELDS[protocol], expect[kind](msg), msg)


# --- malformed input: the dissectors flag what the decoders reject --------------------------

def _udp(port: int, payload: bytes, src: str = "10.99.0.1") -> Ether:
    return (Ether(src="02:00:00:00:00:01", dst="ff:ff:ff:ff:ff:ff")
            / IP(src=src, dst="255.255.255.255", ttl=1) / UDP(sport=port, dport=port)
            / Raw(payload))


def _with_option(body: bytes, kind: int = 0x9E) -> Ether:
    ip = IP(src="10.99.0.1", dst="10.99.0.2", options=[IPOption(bytes((kind, len(body) + 2))
                                                                 + body)])
    return Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02") / ip / UDP(
        sport=DATA_PORT, dport=DATA_PORT) / Raw(bytes(16))


def _mutants(valid: list[bytes], rng: random.Random, count: int, limit: int = 80) -> list[bytes]:
    """Valid messages cut short, lengthened, with bytes changed, plus plain random bytes; never
    empty (Wireshark hands an empty UDP payload to no dissector)."""
    out = []
    for _ in range(count):
        data = bytearray(rng.choice(valid))
        how = rng.randrange(5)
        if how == 0 and data:
            del data[rng.randrange(len(data)):]
        elif how == 1:
            data += bytes(rng.randrange(256) for _ in range(rng.randrange(1, 12)))
        elif how == 2:
            for _ in range(rng.randrange(1, 4)):
                if data:
                    data[rng.randrange(len(data))] = rng.randrange(256)
        elif how == 3:
            data = bytearray(rng.randrange(256) for _ in range(rng.randrange(limit)))
        else:  # only the tail changes: AODV extensions, DSDV entries, RERR lists
            keep = rng.randrange(len(data) + 1)
            data = data[:keep] + bytes(rng.randrange(256) for _ in range(rng.randrange(12)))
        if data:
            out.append(bytes(data[:limit]))
    return out


def _rejects(decode, data: bytes) -> bool:
    try:
        decode(data)
    except DecodeError:
        return True
    return False


def _flagged(row: dict[str, list[str]], filters: tuple[str, ...]) -> bool:
    return bool(row["_ws.malformed"] or any(row.get(f"{f}.malformed") for f in filters))


def _zigbee_data_header(raw: bytes) -> None:
    """What a ZigBee router accepts as a data packet's header (protocols/zigbee/tree.py): one
    NWK header of frame type data, nothing after it; raises DecodeError otherwise."""
    header, size = zigbee_wire.decode_header(raw)
    if size != len(raw) or header.frame_type != zigbee_wire.DATA:
        raise DecodeError("not a data packet's NWK header")


def _option_158(raw: bytes) -> None:
    """IPv4 option 158 as the dissectors read it: Z-Wave's data header when it is 5 to 9 bytes
    long, GPSR's header otherwise."""
    if 5 <= len(raw) <= 9:
        zwave_wire.decode_header(raw)
    else:
        gpsr_wire.decode_header(raw)


def _spread(items: list, count: int = 200) -> list:
    """Up to ``count`` of ``items``, taken evenly over the whole run (every kind of message)."""
    return items[::max(1, len(items) // count)][:count]


def test_dissectors_flag_exactly_the_messages_the_decoders_reject(capture, tshark, tmp_path):
    rng = random.Random(20240611)
    valid = {name: _spread([f.payload for f, _ in capture(name).control()])
             for name in ("dsdv", "mtpr", "gpsr", "aodv", "zwave", "smf", "odmrp")}
    valid["dsdv"] = [f.payload for f, _ in capture("dsdv").control()][:200]
    crafted = defaultdict(list)  # kinds the runs may not send, from the Python encoders
    for frame, kind, _ in _crafted():
        crafted[kind].append(bytes(frame[Raw]) if "header" not in kind
                             else bytes(frame[IP].options[0])[2:])
    valid["zigbee"] = (_spread([f.payload for f, _ in capture("zigbee-tree").control()], 100)
                       + _spread([f.payload for f, _ in capture("zigbee-mesh").control()], 100)
                       + crafted["zigbee"])
    for name in ("zwave", "smf", "odmrp"):
        valid[name] += crafted[name]
    valid["zigbee.header"] = _spread([ipopt.extract(f.ip, zigbee_wire.IP_OPTION)
                                      for f in capture("zigbee-mesh").frames
                                      if f.port == DATA_PORT], 100) + crafted["zigbee.header"]
    valid["option158"] = (_spread([h for h in (ipopt.extract(f.ip, 0x9E)
                                               for f in capture("gpsr").frames) if h])
                          + _spread([h for h in (ipopt.extract(f.ip, 0x9E)
                                                 for f in capture("zwave").frames) if h], 100)
                          + crafted["zwave.header"])
    cases = []  # (frame, decoder verdict: True = rejected, filters whose expert reports it)
    for data in _mutants(valid["dsdv"], rng, 400):
        data = b"\x01" + data[1:]  # on port 269 a first byte other than 1 is PacketBB's
        cases.append((_udp(269, data), _rejects(dsdv_wire.decode, data), ("meshnet.dsdv",)))
    for data in _mutants(valid["mtpr"], rng, 400):
        cases.append((_udp(6550, data), _rejects(power_wire.decode, data), ("meshnet.power",)))
    for data in _mutants(valid["gpsr"], rng, 300):
        cases.append((_udp(61500, data), _rejects(gpsr_wire.decode_beacon, data),
                      ("meshnet.gpsr",)))
    for data in _mutants(valid["option158"], rng, 400, limit=38):
        cases.append((_with_option(data), _rejects(_option_158, data),
                      ("meshnet.gpsr.header", "meshnet.zwave.header")))
    for data in _mutants(valid["zigbee"], rng, 500, limit=160):
        cases.append((_udp(zigbee_wire.PORT, data), _rejects(zigbee_wire.decode, data),
                      ("meshnet.zigbee",)))
    for data in _mutants(valid["zigbee.header"], rng, 300, limit=38):
        cases.append((_with_option(data, zigbee_wire.IP_OPTION),
                      _rejects(_zigbee_data_header, data), ("meshnet.zigbee.header",)))
    for data in _mutants(valid["zwave"], rng, 500, limit=200):
        cases.append((_udp(zwave_wire.PORT, data), _rejects(zwave_wire.decode, data),
                      ("meshnet.zwave",)))
    for data in _mutants(valid["smf"], rng, 300, limit=200):
        cases.append((_udp(61503, data), _rejects(smf_wire.decode_hello, data),
                      ("meshnet.smf",)))
    for data in _mutants(valid["odmrp"], rng, 300, limit=60):
        cases.append((_udp(61504, data), _rejects(odmrp_wire.decode, data), ("meshnet.odmrp",)))
    # AODV: Wireshark's own dissector decodes the fixed part; the extensions after it are ours
    for data in valid["aodv"][:150]:
        fixed = len(aodv_wire.encode(_without_extensions(aodv_wire.decode(data))))
        for _ in range(3):
            tail = (_mutants([data[fixed:] or b"\xc8\x01\x05"], rng, 1, limit=20) or [b""])[0]
            data2 = data[:fixed] + tail
            cases.append((_udp(654, data2), _rejects(aodv_wire.decode, data2), ("meshnet.aodv",)))
    pcap = tmp_path / "mutants.pcap"
    wrpcap(str(pcap), [c[0] for c in cases])
    fields = sorted({f"{f}.malformed" for c in cases for f in c[2]})
    rows = decode_with_tshark(tshark, pcap, fields)
    verdicts = defaultdict(lambda: [0, 0])  # per format: [accepted, rejected]
    for _, rejected, filters in cases:
        verdicts[filters[0]][rejected] += 1
    assert all(accepted >= 20 and rejected >= 20 for accepted, rejected in verdicts.values()), \
        dict(verdicts)
    disagree = []
    for (frame, rejected, filters), row in zip(cases, rows):
        raw = frame[IP].options[0] if frame[UDP].dport == DATA_PORT else frame[Raw]
        assert not row["_ws.lua.error"], (filters, bytes(raw).hex())
        if _flagged(row, filters) != rejected:
            disagree.append((filters[0], rejected, bytes(raw).hex()))
    assert disagree == []


def _without_extensions(msg):
    import dataclasses

    return dataclasses.replace(msg, extensions=()) if hasattr(msg, "extensions") else msg


def test_port_269_stays_packetbb_for_packetbb_and_dsdv_is_found_on_other_ports(tshark, tmp_path):
    update = dsdv_wire.encode(dsdv_wire.Update(True, (dsdv_wire.Entry("10.99.0.7", 4, 2),
                                                      dsdv_wire.Entry("10.99.0.9", 3, 255))))
    # RFC 5444: version 0, no flags; one message of type 1, 4-byte addresses, size 6, empty TLVs
    packetbb = bytes([0x00, 0x01, 0x03, 0x00, 0x06, 0x00, 0x00])
    frames = [_udp(269, update), _udp(269, packetbb), _udp(5000, update),
              _udp(5000, b"\x01\x00\x00\x01" + bytes(9)),  # even seqno with metric 0: valid
              _udp(5000, b"\x01\x00\x00\x01" + bytes(7) + b"\x01\x07"),  # odd seqno, metric 7
              _udp(5000, b"\x01\x02\x03\x04 not a routing update")]
    pcap = tmp_path / "ports.pcap"
    wrpcap(str(pcap), frames)
    rows = decode_with_tshark(tshark, pcap, ["meshnet.dsdv.dest", "meshnet.dsdv.metric"])
    layers = [row["frame.protocols"][0].split(":") for row in rows]
    assert [problems(row) for row in rows] == [[]] * len(rows)
    assert "meshnet.dsdv" in layers[0] and "packetbb" not in layers[0]
    assert "packetbb" in layers[1] and rows[1]["meshnet.dsdv.dest"] == []
    assert rows[0]["meshnet.dsdv.dest"] == rows[2]["meshnet.dsdv.dest"] == ["10.99.0.7",
                                                                            "10.99.0.9"]
    assert rows[2]["meshnet.dsdv.metric"] == ["2", "255"]
    assert "meshnet.dsdv" in layers[3]
    assert "meshnet.dsdv" not in layers[4] and "meshnet.dsdv" not in layers[5]


# protocol -> (filter, what its messages are called, the types its dissector knows)
TYPED = {
    "gpsr": ("meshnet.gpsr", "GPSR message", "1 Beacon"),
    "mtpr": ("meshnet.power", "power-aware message", "1 RREQ, 2 RREP, 3 RERR"),
    "zwave": ("meshnet.zwave", "Z-Wave frame",
              "1 Find nodes in range, 2 Node in range, 3 Routed, 4 Explorer"),
    "smf": ("meshnet.smf", "SMF message", "1 HELLO"),
    "odmrp": ("meshnet.odmrp", "ODMRP message", "1 Join Query, 2 Join Reply"),
}


def test_an_unknown_message_type_is_malformed_naming_the_known_types(tshark, tmp_path):
    frames = [_udp(load_protocol(name).port, b"\xee" + bytes(40)) for name in TYPED]
    pcap = tmp_path / "types.pcap"
    wrpcap(str(pcap), frames)
    rows = decode_with_tshark(tshark, pcap, ["_ws.expert.message", "_ws.col.Info"]
                              + [f"{f}.type" for f, _, _ in TYPED.values()])
    for row, (name, (filter_, what, known)) in zip(rows, TYPED.items()):
        assert filter_ in row["frame.protocols"][0].split(":"), name
        assert row[f"{filter_}.type"] == ["238"], name
        assert f"unknown {what} type 238 (expected {known})" in row["_ws.expert.message"], name
        assert problems(row) == ["malformed", "error expert"], name
        assert "238" not in row["_ws.col.Info"][0], name  # nothing decoded past the type


# --- the command ---------------------------------------------------------------------------

def _cli(argv: list[str], capsys) -> tuple[int, str, str]:
    status = main(argv)
    out, err = capsys.readouterr()
    return status, out, err


def test_command_prints_the_shipped_folder_and_installs_where_wireshark_looks(
        tshark, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("HOME", str(tmp_path))
    status, out, _ = _cli(["wireshark-plugins", "--path"], capsys)
    assert status == 0 and Path(out.strip()) == DISSECTORS[0].path.parent
    personal = tmp_path / ".local" / "lib" / "wireshark" / "plugins"
    status, out, _ = _cli(["wireshark-plugins"], capsys)
    assert status == 0 and str(personal) in out and "--install" in out
    for d in DISSECTORS:
        assert d.script in out and d.filter in out
    status, out, _ = _cli(["wireshark-plugins", "--install"], capsys)
    assert status == 0
    assert sorted(p.name for p in personal.iterdir()) == sorted(
        ["meshnet_common.lua", *(d.script for d in DISSECTORS)])
    # Wireshark, started with that home, loads them with no -X option and decodes DSDV with them
    pcap = tmp_path / "one.pcap"
    wrpcap(str(pcap), [_udp(269, dsdv_wire.encode(dsdv_wire.Update(
        False, (dsdv_wire.Entry("10.99.0.3", 6, 1),))))])
    done = subprocess.run([tshark, "-n", "-r", str(pcap), "-T", "fields", "-e", "meshnet.dsdv.dest",
                           "-e", "_ws.lua.error"], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "HOME": str(tmp_path), "LC_ALL": "C"})
    assert done.stdout.split("\t")[0] == "10.99.0.3", done.stderr
    # every plug-in loaded (in the folder's alphabetical order, before their helpers' file): a
    # Lua plug-in that fails to load says so on stderr
    assert [line for line in done.stderr.splitlines()
            if line.strip() and "Running as user" not in line] == [], done.stderr


def test_command_bad_input_is_one_line_and_status_2(tmp_path, capsys):
    not_a_folder = tmp_path / "file"
    not_a_folder.write_text("")
    status, out, err = _cli(["wireshark-plugins", "--install", "--dir", str(not_a_folder)],
                            capsys)
    assert status == 2 and out == "" and err.count("\n") == 1 and "not a directory" in err
    status, out, err = _cli(["wireshark-plugins", "--install", "--path"], capsys)
    assert status == 2 and err.count("\n") == 1 and "not allowed with" in err


def test_install_into_a_given_folder_replaces_older_copies(tmp_path, capsys):
    target = tmp_path / "plugins" / "nested"
    (target).mkdir(parents=True)
    (target / "meshnet_dsdv.lua").write_text("-- an older copy\n")
    status, out, _ = _cli(["wireshark-plugins", "--install", "--dir", str(target)], capsys)
    assert status == 0 and out.count("installed ") == 1 + len(DISSECTORS)
    assert (target / "meshnet_dsdv.lua").read_bytes() == dissector_for("dsdv").path.read_bytes()
