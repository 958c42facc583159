"""Hostile frames on netns: a node's kernel may put anything on its TAP (any root process in
the namespace can, with a packet socket). Short, garbled and oversized frames are counted by
the channel, never crash it, and never stop AODV's route-use reports, so routes that carry
data stay up. A failure while a use report is handled stays in that node (the node contract's
failure isolation) and the reports go on."""

from __future__ import annotations

import os
import re
import socket
import struct
import subprocess
import time

import pytest

from meshnet.protocol_api import Protocol
from tests.netns_support import mn_namespaces, netns_skip_reason, require_tool

pytestmark = [pytest.mark.netns,
              pytest.mark.skipif(netns_skip_reason() is not None,
                                 reason=str(netns_skip_reason()))]

RUN = f"th{os.getpid() % 10**6}"


@pytest.fixture(autouse=True)
def no_leftovers():
    yield
    assert [n for n in mn_namespaces() if n.startswith(f"mn-{RUN}")] == []


def _mac(address: str) -> bytes:
    return b"\x02\x00" + socket.inet_aton(address)


def _ipv4(src: str, dst: str, payload: bytes, ihl_words: int = 5, version: int = 4,
          total: int | None = None, proto: int = 17) -> bytes:
    header_len = ihl_words * 4
    total = header_len + len(payload) if total is None else total
    head = struct.pack("!BBHHHBBH4s4s", (version << 4) | ihl_words, 0, total, 1, 0, 64, proto,
                       0, socket.inet_aton(src), socket.inet_aton(dst))
    return head + b"\x00" * max(header_len - 20, 0) + payload


def hostile_frames(src_mac: bytes, dst_mac: bytes, src: str, dst: str) -> tuple[list[bytes], int]:
    """Frames for ``dst_mac`` and how many of them carry a malformed IPv4 header."""
    eth = dst_mac + src_mac + b"\x08\x00"
    udp_aodv = struct.pack("!HHHH", 654, 654, 8 + 3, 0) + b"\x01\x02\x03"
    malformed = [
        eth,                                                   # IPv4 type, no header at all
        eth + b"\x45",                                         # one byte of header
        eth + b"\x45" * 19,                                    # 19 bytes: one short
        eth + _ipv4(src, dst, b"x" * 20)[:27],                 # cut inside the addresses
        eth + _ipv4(src, dst, b"x" * 40, ihl_words=3),         # IHL below 5
        eth + _ipv4(src, dst, b"x" * 10, ihl_words=15)[:30],   # options run past the frame
        eth + _ipv4(src, dst, b"x" * 40, version=6),           # not version 4
        eth + _ipv4(src, dst, b"x" * 40, total=1400),          # longer than the frame
        eth + _ipv4(src, dst, b"x" * 40, total=12),            # shorter than its header
        eth + _ipv4(src, dst, udp_aodv)[:20 + 5],              # AODV port, UDP header cut
    ]
    well_formed_garbage = [
        eth + _ipv4(src, dst, os.urandom(60), proto=253),      # valid header, junk inside
        eth + _ipv4(src, dst, udp_aodv),                       # a 3-byte "AODV message"
        eth + _ipv4(src, dst, os.urandom(1500 - 20)),          # as large as the MTU allows
        dst_mac + src_mac + b"\x86\xdd" + os.urandom(40),      # junk with the IPv6 type
        dst_mac + src_mac + b"\x12\x34" + os.urandom(100),     # an unknown ethertype
        dst_mac + src_mac + b"\x08\x06" + os.urandom(7),       # a truncated ARP
    ]
    return malformed + well_formed_garbage, len(malformed)


def _packet_socket(emu, node: str) -> socket.socket:
    from meshnet.netns import linux

    net = emu.netnodes[emu.plan.names.index(node)]
    with linux.in_netns(net.ns_fd):
        s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind(("wlan0", 0))
    return s


def test_hostile_frames_are_counted_and_active_routes_stay_up():
    require_tool("ping", "iputils-ping")
    from meshnet.netns.emulation import Emulation
    from meshnet.netns.plan import Plan

    with Emulation(Plan.line(3, protocol="aodv"), name=RUN) as emu:
        n1 = emu.node("n1")
        assert n1.run("ping -c 1 -W 5 10.99.0.3").returncode == 0  # the route is found
        ping = n1.popen(["ping", "-i", "0.2", "-c", "60", "-W", "1", "10.99.0.3"],
                        stdout=subprocess.PIPE, text=True)
        start = emu.now
        sock = _packet_socket(emu, "n1")
        frames, n_malformed = hostile_frames(_mac("10.99.0.1"), _mac("10.99.0.2"),
                                             "10.99.0.1", "10.99.0.2")
        with sock:
            with pytest.raises(OSError):  # larger than the MTU: the kernel refuses it
                sock.send(_mac("10.99.0.2") + _mac("10.99.0.1") + b"\x08\x00"
                          + _ipv4("10.99.0.1", "10.99.0.2", b"x" * 1600))
            rounds = 0
            while emu.now - start < 10:  # steady traffic, hostile frames all along
                for frame in frames:
                    sock.send(frame)
                rounds += 1
                time.sleep(0.5)
        out, _ = ping.communicate(timeout=30)
        counters = emu.counters()
        assert counters.get("malformed", 0) == rounds * n_malformed, counters
        assert emu.runtime.channel.rx_frames > rounds * len(frames)  # the channel read on
        sent, received = map(int, re.search(r"(\d+) packets transmitted, (\d+) received",
                                            out).groups())
        assert sent == 60 and received >= 58, out  # AODV kept the route through it all
        removed = [(t, node, f) for t, node, kind, f in emu.events
                   if kind == "route_removed" and t >= start and node == "n1"
                   and f["dst"] == "10.99.0.3"]
        assert removed == [], removed
        expires = {r["dst"]: r["expires"] for r in emu._call(
            emu.runtime.agents[0].protocol.table_rows)}
        assert expires["10.99.0.3"] > emu.now + 1.0  # refreshed by the use reports
        assert counters.get("protocol_error", 0) == 0


class CountsUse(Protocol):
    """Routes to direct neighbours; its first two route-use reports raise."""

    name = "countsuse"
    port = 6554

    def __init__(self, ctx, params=None) -> None:
        super().__init__(ctx, params)
        self.reports = 0

    def start(self) -> None:
        for j in (self.ctx.node_id - 1, self.ctx.node_id + 1):
            if j in (0, 1):
                self.ctx.routes.add(f"10.99.0.{j + 1}", f"10.99.0.{j + 1}")

    def on_data(self, packet, prev_hop, next_hop) -> None:
        self.reports += 1
        if self.reports <= 2:
            raise RuntimeError("use report failed")


def test_a_failing_use_report_is_isolated_and_the_reports_go_on():
    """The failure is counted and published; even an event consumer that raises on it does not
    end the periodic reports."""
    require_tool("ping", "iputils-ping")
    from meshnet.netns.emulation import Emulation
    from meshnet.netns.plan import Plan

    def consumer(t, node, kind, fields):
        if kind == "protocol_error":
            raise RuntimeError("a consumer that fails too")

    emu = Emulation(Plan.line(2, protocol=CountsUse), name=RUN, on_event=consumer)
    with emu:
        proc = emu.node("n1").popen(["ping", "-i", "0.1", "-c", "40", "10.99.0.2"],
                                    stdout=subprocess.DEVNULL)
        proc.wait(timeout=30)
        protocols = [a.protocol for a in emu.runtime.agents]
        reports = emu._call(lambda: [p.reports for p in protocols])
        errors = [f for _t, _n, kind, f in emu.events if kind == "protocol_error"]
    # 4 s of traffic, a report every 0.5 s at each end: far more than the two that failed
    assert min(reports) >= 5, reports
    assert len(errors) == 4 and all("use report failed" in e["error"] for e in errors)
