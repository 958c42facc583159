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
from meshnet.protocols.power import wire as power_wire
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

    def control(self) -> list[tuple[Frame, dict[str, list[str]]]]:
        return [(f, self.rows[f.number - 1]) for f in self.frames if f.port == self.port]

    def sends(self) -> dict[str, list[tuple[dict, list[Frame]]]]:
        """Per sender address, each ctrl_tx event of the trace with the frames of its attempts.

        The pcap has one record per attempt, as it goes on the air; the event comes when the
        transmission is over. So the frames of a send are the sender's frames since its previous
        send, up to the event's time."""
        frames: dict[str, list[Frame]] = defaultdict(list)
        for frame, _ in self.control():
            frames[_src(frame)].append(frame)
        out: dict[str, list] = defaultdict(list)
        for event in self.events:
            if event["ev"] != "ctrl_tx" or event["port"] != self.port:
                continue
            src = self.address[event["node"]]
            queue, attempts = frames[src], []
            while queue and queue[0].time <= event["t"] + 1e-6:
                attempts.append(queue.pop(0))
            out[src].append((event, attempts))
        assert {src: q for src, q in frames.items() if q} == {}, "frames no ctrl_tx accounts for"
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
                                     {n.name: n.address for n in sim.nodes})
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


# --- malformed input: the dissectors flag what the decoders reject --------------------------

def _udp(port: int, payload: bytes, src: str = "10.99.0.1") -> Ether:
    return (Ether(src="02:00:00:00:00:01", dst="ff:ff:ff:ff:ff:ff")
            / IP(src=src, dst="255.255.255.255", ttl=1) / UDP(sport=port, dport=port)
            / Raw(payload))


def _with_option(body: bytes) -> Ether:
    ip = IP(src="10.99.0.1", dst="10.99.0.2", options=[IPOption(bytes((0x9E, len(body) + 2))
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


def _flagged(row: dict[str, list[str]], filter_name: str) -> bool:
    return bool(row["_ws.malformed"] or row.get(f"{filter_name}.malformed"))


def test_dissectors_flag_exactly_the_messages_the_decoders_reject(capture, tshark, tmp_path):
    rng = random.Random(20240611)
    valid = {name: [f.payload for f, _ in capture(name).control()][:200]
             for name in ("dsdv", "mtpr", "gpsr", "aodv")}
    headers = [ipopt.extract(f.ip, gpsr_wire.IP_OPTION) for f in capture("gpsr").frames]
    valid["header"] = [h for h in headers if h][:200]
    cases = []  # (frame, decoder verdict: True = rejected, filter whose expert reports it)
    for data in _mutants(valid["dsdv"], rng, 400):
        data = b"\x01" + data[1:]  # on port 269 a first byte other than 1 is PacketBB's
        cases.append((_udp(269, data), _rejects(dsdv_wire.decode, data), "meshnet.dsdv"))
    for data in _mutants(valid["mtpr"], rng, 400):
        cases.append((_udp(6550, data), _rejects(power_wire.decode, data), "meshnet.power"))
    for data in _mutants(valid["gpsr"], rng, 300):
        cases.append((_udp(61500, data), _rejects(gpsr_wire.decode_beacon, data), "meshnet.gpsr"))
    for data in _mutants(valid["header"], rng, 300, limit=38):
        cases.append((_with_option(data), _rejects(gpsr_wire.decode_header, data),
                      "meshnet.gpsr.header"))
    # AODV: Wireshark's own dissector decodes the fixed part; the extensions after it are ours
    for data in valid["aodv"][:150]:
        fixed = len(aodv_wire.encode(_without_extensions(aodv_wire.decode(data))))
        for _ in range(3):
            tail = (_mutants([data[fixed:] or b"\xc8\x01\x05"], rng, 1, limit=20) or [b""])[0]
            data2 = data[:fixed] + tail
            cases.append((_udp(654, data2), _rejects(aodv_wire.decode, data2), "meshnet.aodv"))
    pcap = tmp_path / "mutants.pcap"
    wrpcap(str(pcap), [c[0] for c in cases])
    fields = sorted({f"{c[2]}.malformed" for c in cases})
    rows = decode_with_tshark(tshark, pcap, fields)
    assert sum(rejected for _, rejected, _ in cases) > 300
    assert sum(not rejected for _, rejected, _ in cases) > 300
    disagree = []
    for (frame, rejected, name), row in zip(cases, rows):
        assert not row["_ws.lua.error"], (name, bytes(frame[Raw]).hex())
        if _flagged(row, name) != rejected:
            disagree.append((name, rejected, bytes(frame[Raw] if name != "meshnet.gpsr.header"
                                                   else frame[IP].options[0]).hex()))
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
                          env={**os.environ, "HOME": str(tmp_path)})
    assert done.stdout.split("\t")[0] == "10.99.0.3", done.stderr


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
