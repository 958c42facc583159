"""The traffic runner of the netns backend remembers the packets it sent for a bounded time.

Before, ``TrafficRunner.sent`` kept one record per packet for the whole run: ~160 bytes a
packet, 2.7 MiB an hour per packet a second (80 packets/s in ``benchmarks/netns_soak.py``:
~45 MiB an hour). These tests drive the runner on a fake loop, without namespaces: many
packets through a flow must leave at most ``keep`` seconds of records, while deliveries,
duplicates and ICMP errors inside that window keep their events and counts.
"""

from __future__ import annotations

import random
import socket
import struct
import time

import pytest

from meshnet.netns import traffic
from meshnet.netns.traffic import TrafficRunner, payload_for
from meshnet.traffic import Flow
from tests.netns_support import mn_namespaces, netns_skip_reason


class FakeLoop:
    """The loop's clock and timers, run by hand."""

    def __init__(self) -> None:
        self.t = 0.0
        self.pending: list[tuple[float, object, tuple]] = []

    def time(self) -> float:
        return self.t

    def call_at(self, when, fn, *args):
        self.pending.append((when, fn, args))
        return self

    def cancel(self) -> None:  # the handle
        pass

    def run_until(self, end: float) -> None:
        while self.pending:
            self.pending.sort(key=lambda p: p[0])
            when, fn, args = self.pending[0]
            if when > end:
                break
            self.pending.pop(0)
            self.t = max(self.t, when)
            fn(*args)
        self.t = max(self.t, end)


class Node:
    def __init__(self, i: int) -> None:
        self.name = f"n{i + 1}"
        self.address = f"10.99.0.{i + 1}"


class SinkSocket:
    """A source socket whose kernel takes every datagram."""

    def __init__(self) -> None:
        self.sent: list[bytes] = []

    def sendto(self, data, address):
        self.sent.append(data)


class InboxSocket:
    """A receiving socket holding the given datagrams (TTL 62 and a timestamp each)."""

    def __init__(self, datagrams: list[bytes], rx_wall: float) -> None:
        self.datagrams = list(datagrams)
        sec = int(rx_wall)
        self.anc = [(socket.IPPROTO_IP, socket.IP_TTL, struct.pack("@i", 62)),
                    (socket.SOL_SOCKET, traffic.SO_TIMESTAMPNS,
                     struct.pack("@qq", sec, int((rx_wall - sec) * 1e9)))]

    def recvmsg(self, bufsize, ancbufsize, flags=0):
        if not self.datagrams:
            raise BlockingIOError
        return self.datagrams.pop(0), self.anc, 0, ("10.99.0.1", 40000)


def runner(rate: float, stop: float, keep: float | None = None):
    loop = FakeLoop()
    events: list[tuple[str, dict]] = []
    flow = Flow(0, "cbr", 0, 1, rate, 64, 0.0, stop, 64)
    r = TrafficRunner(loop, [Node(0), Node(1)], [flow], seed=1, t0=0.0,
                      emit=lambda t, node, kind, f: events.append((kind, f)), keep=keep)
    r._senders[0] = SinkSocket()
    r._running = True
    loop.call_at(flow.start, r._generate, flow, random.Random(1), flow.start)
    return loop, r, events


def test_records_of_a_long_run_stay_within_the_window():
    rate, keep = 50.0, 30.0
    loop, r, events = runner(rate, stop=1e9, keep=keep)
    most = 0
    for step in range(1, 41):            # 2,000 s, 100,000 packets
        loop.run_until(50.0 * step)
        most = max(most, len(r.sent))
    assert r.stats["sent"] >= 100_000
    # keep seconds, plus the granularity of forgetting, plus the packets at both edges
    assert most <= rate * (keep + traffic.MARK_S) + 2, most
    assert len(r.sent) >= rate * keep  # what is recent is still there
    newest = r.uid
    assert all(newest - uid < rate * (keep + traffic.MARK_S) + 1 for uid in r.sent)
    assert r.is_flow_uid(1) and r.is_flow_uid(newest) and not r.is_flow_uid(newest + 1)
    assert not r.is_flow_uid(0) and not r.is_flow_uid(1 << 32)


def test_default_window_is_longer_than_any_queue_timeout():
    loop, r, _ = runner(10.0, stop=1e9)
    assert r.keep == traffic.KEEP_S >= 60.0  # AODV's buffer holds a packet for 30 s at most
    loop.run_until(1000.0)
    assert len(r.sent) <= 10.0 * (traffic.KEEP_S + traffic.MARK_S) + 1


def test_deliveries_inside_the_window_count_and_late_copies_do_not():
    loop, r, events = runner(10.0, stop=100.0, keep=20.0)
    loop.run_until(30.0)                 # uids 1..300 sent at 0.0 .. 29.9
    recent, old = r.uid - 5, 3           # 0.5 s old, and ~29.7 s old (forgotten)
    assert recent in r.sent and old not in r.sent
    datagrams = [payload_for(recent, 0, 0.0, 64), payload_for(recent, 0, 0.0, 64),
                 payload_for(old, 0, 0.0, 64), payload_for(10**6, 0, 0.0, 64)]
    wall = r.sent[recent].wall
    r._on_receive(InboxSocket(datagrams, wall + 0.25), 1)
    delivered = [f for kind, f in events if kind == "data_delivered"]
    # the packet and its duplicate (the metrics count the second as a duplicate)
    assert [f["uid"] for f in delivered] == [recent, recent]
    assert delivered[0]["hops"] == 3 and delivered[0]["delay"] == pytest.approx(0.25, abs=1e-3)
    assert r.stats["delivered"] == 2
    assert r.stats["late"] == 1          # ours, arrived after the window
    assert r.stats["foreign"] == 1       # never sent by this runner


def test_icmp_errors_inside_the_window_still_drop_the_packet():
    loop, r, events = runner(10.0, stop=100.0, keep=20.0)
    loop.run_until(30.0)
    recent = r.uid
    record = r.sent[recent]
    assert not record.done
    r._drop(record, recent, "ttl")
    assert events[-1] == ("data_dropped", {"uid": recent, "reason": "ttl"})


@pytest.mark.netns
@pytest.mark.skipif(netns_skip_reason() is not None, reason=str(netns_skip_reason()))
def test_a_short_window_keeps_the_metrics_of_a_real_run(monkeypatch):
    """On namespaces, with a 1-s window over a 6-s flow: the runner forgets most packets
    during the run, yet every packet is sent, delivered and counted as without the window."""
    from meshnet.netns.emulation import Emulation
    from meshnet.netns.plan import Plan

    monkeypatch.setattr(traffic, "KEEP_S", 1.0)
    flows = [Flow(0, "cbr", 0, 2, 16.0, 64, 0.25, 6.25, 64)]  # 1/16 s: exact gaps
    sizes = []
    with Emulation(Plan.line(3), name="tkeep", flows=flows) as emu:
        emu.install_static_routes()
        while emu.now < 6.25:
            sizes.append(emu._call(lambda: len(emu.traffic.sent)))
            time.sleep(0.1)
        r = emu.finish(at=6.25)
    assert r["sent"] == 96 and r["traffic"]["sent"] == 96
    assert 16 <= max(sizes) <= 16 * (1.0 + traffic.MARK_S) + 2, max(sizes)
    assert r["delivered"] == r["traffic"]["delivered"] >= 92, r
    assert r["traffic"]["late"] == 0 and r["traffic"]["foreign"] == 0
    assert r["mean_hops"] == 2.0
    assert r["sent"] == r["delivered"] + r["dropped"] + r["queued"] + r["unaccounted"]
    assert [n for n in mn_namespaces() if n.startswith("mn-tkeep-")] == []
