"""Traffic and metrics on netns: the scenario's flows as real UDP between namespaces, measured by
the simulator's MetricsCollector, and `meshnet emulate --json` printing the simulator's object."""

from __future__ import annotations

import json
import random
import re
import socket
import struct
import subprocess
import sys
import time

import pytest

from meshnet.netns.traffic import PORT, flow_uid, frame_uid, hops_from_ttl, payload_for
from tests.netns_support import mn_namespaces, netns_skip_reason, require_tool

needs_netns = pytest.mark.skipif(netns_skip_reason() is not None,
                                 reason=str(netns_skip_reason()))

LINE = ["nodes.count=4", "traffic.0.pairs=[[1,4]]", "scenario.duration=6"]  # 3 hops, n1 -> n4


def _ip_udp(payload: bytes, dport: int = PORT, ihl: int = 5, frag: int = 0) -> bytes:
    options = bytes(4 * (ihl - 5))
    udp = struct.pack("!HHHH", 40000, dport, 8 + len(payload), 0) + payload
    total = 4 * ihl + len(udp)
    ip = struct.pack("!BBHHHBBH4s4s", 0x40 | ihl, 0, total, 1, frag, 64, 17, 0,
                     socket.inet_aton("10.99.0.1"), socket.inet_aton("10.99.0.4"))
    return ip + options + udp


# -- the datagram format (no namespaces needed) ------------------------------------------------
def test_flow_uid_finds_the_uid_and_ignores_everything_else():
    payload = payload_for(123456, 7, 1.25, 64)
    assert len(payload) == 64  # the flow's size: IP packet = size + 28, as in the simulator
    pkt = _ip_udp(payload)
    assert len(pkt) == 64 + 28
    assert flow_uid(pkt) == 123456
    assert flow_uid(bytearray(pkt)) == 123456 and flow_uid(memoryview(pkt)) == 123456
    assert flow_uid(_ip_udp(payload, ihl=7)) == 123456  # IP options
    assert frame_uid(b"\x02" * 12 + b"\x08\x00" + pkt) == 123456
    assert frame_uid(b"\x02" * 12 + b"\x86\xdd" + pkt) is None
    assert flow_uid(_ip_udp(payload, dport=654)) is None  # another port (AODV)
    assert flow_uid(_ip_udp(b"XXXX" + payload[4:])) is None  # no magic
    assert flow_uid(_ip_udp(payload, frag=100)) is None  # not the first fragment
    assert flow_uid(_ip_udp(payload_for(9, 0, 0.0, 1))) == 9  # shortest payload: magic + uid


def test_flow_uid_never_raises_on_garbage():
    rng = random.Random(5)
    pkt = _ip_udp(payload_for(1, 0, 0.0, 40))
    samples = [b"", b"\x45", None, 42, "text", pkt[:20], pkt[:35], pkt[:36]]
    samples += [bytes(rng.randrange(256) for _ in range(rng.randrange(80))) for _ in range(500)]
    samples += [bytes([0x4F]) + pkt[1:]]  # IHL 15 beyond the packet
    for s in samples:
        assert flow_uid(s) in (None, 1)
        assert frame_uid(s) is None or isinstance(frame_uid(s), int)


def test_hops_count_links_crossed():
    assert hops_from_ttl(64, 64) == 1  # a neighbour: nobody forwarded
    assert hops_from_ttl(64, 62) == 3  # two forwarders


# -- live runs ---------------------------------------------------------------------------------
def _run_to_end(emu, duration: float) -> dict:
    while emu.now < duration:
        time.sleep(0.05)
    return emu.finish(at=duration)


@pytest.mark.netns
@needs_netns
@pytest.mark.parametrize("protocol", ["aodv"])
def test_line_flow_on_netns_gives_the_simulators_metrics(protocol):
    from meshnet.netns.emulation import Emulation
    from meshnet.scenario import load_scenario
    from meshnet.sim import Simulation

    from meshnet.event_schema import SchemaChecker

    overrides = LINE + [f"protocol.name={protocol}"]
    sim = Simulation(load_scenario("line", overrides)).run()
    delivered_events = []
    emu = Emulation("line", name="tmet", overrides=overrides,
                    on_event=lambda t, n, k, f: k == "data_delivered" and delivered_events.append(
                        (n, f)))
    checker = SchemaChecker()
    emu.bus.subscribe(checker)  # the bus gets the simulator's fields, node included
    with emu:
        r = _run_to_end(emu, 6.0)
    assert not checker.problems, checker.problems
    assert checker.seen["data_sent"] == r["sent"] and checker.seen["ctrl_tx"] > 0
    assert r["backend"] == "netns" and sim["backend"] == "sim"
    assert set(sim) <= set(r), set(sim) - set(r)
    assert r["sent"] == sim["sent"] == 20  # 4 packets/s from t=1 to t=6, same generator
    assert r["pdr"] > 0.9, r
    assert r["mean_hops"] == 3.0 == sim["mean_hops"]
    assert r["delivered"] == len({f["uid"] for _n, f in delivered_events}) > 0
    assert all(n == "n4" and f["hops"] == 3 for n, f in delivered_events)
    assert r["sent"] == r["delivered"] + r["dropped"] + r["queued"] + r["unaccounted"]
    assert 0 < r["mean_delay_s"] < 1.0
    assert r["control_packets"] > 0 and r["control_bytes"] > 0  # ctrl_tx from the channel
    assert (r["scenario"], r["protocol"], r["seed"], r["nodes"], r["duration_s"]) == (
        sim["scenario"], sim["protocol"], sim["seed"], sim["nodes"], sim["duration_s"])
    assert [n for n in mn_namespaces() if n.startswith("mn-tmet-")] == []


@pytest.mark.netns
@needs_netns
@pytest.mark.parametrize("n", [2, 4])
def test_hops_agree_with_ping_ttl(n):
    require_tool("ping", "iputils-ping")
    from meshnet.netns.emulation import Emulation
    from meshnet.netns.plan import Plan
    from meshnet.traffic import Flow

    flows = [Flow(0, "cbr", 0, n - 1, 20.0, 100, 0.2, 1.2, 64)]
    with Emulation(Plan.line(n), name=f"thop{n}", flows=flows) as emu:
        emu.install_static_routes()
        out = emu.node("n1").run(f"ping -c 1 -W 2 10.99.0.{n}").stdout
        r = _run_to_end(emu, 1.2)
    ttl = int(re.search(r"ttl=(\d+)", out).group(1))
    assert r["sent"] == 20 and r["delivered"] == 20, r
    assert r["mean_hops"] == hops_from_ttl(64, ttl) == n - 1


@pytest.mark.netns
@needs_netns
def test_ttl_expiry_is_a_ttl_drop_or_unaccounted():
    from meshnet.netns.emulation import Emulation
    from meshnet.netns.plan import Plan
    from meshnet.traffic import Flow

    flows = [Flow(0, "cbr", 0, 3, 8.0, 64, 0.25, 1.25, 2)]  # TTL 2 cannot cross 3 hops
    with Emulation(Plan.line(4), name="tttl", flows=flows) as emu:
        emu.install_static_routes()
        r = _run_to_end(emu, 1.25)
    assert r["sent"] == 8 and r["delivered"] == 0
    assert r["drops"].get("ttl", 0) >= 1  # the kernel's ICMP time exceeded (rate-limited)
    assert r["drops"].get("ttl", 0) + r["unaccounted"] == 8


@pytest.mark.netns
@needs_netns
def test_cli_emulate_json_prints_one_metrics_object():
    proc = subprocess.run([sys.executable, "-m", "meshnet.cli", "emulate", "line", "--duration",
                           "8", "--json", "--name", "tmcli"], capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)  # the whole of stdout is one object
    assert isinstance(result, dict) and {"pdr", "energy_j"} <= set(result)
    assert result["backend"] == "netns" and result["sent"] > 0 and result["duration_s"] == 8.0
    assert [n for n in mn_namespaces() if n.startswith("mn-tmcli-")] == []
