"""Several AODV nodes wired together by a tiny in-test network (no simulator): discovery over
many hops, repair after a link break, and loop freedom while links come and go."""

from __future__ import annotations

import heapq
import itertools
import math
import random

import pytest

from meshnet.protocol_api import BROADCAST, Packet
from meshnet.protocols.aodv import AODV, AodvParams
from meshnet.protocols.aodv.wire import RERR, decode
from tests.fakes import FakeContext, FakeRoutes, FakeTimer
from tests.simhelpers import walk_next_hops

HOP_DELAY = 0.002


class NetRoutes(FakeRoutes):
    def add(self, dst, next_hop, metric=1, seqno=None, expires=None):
        super().add(dst, next_hop, metric, seqno, expires)
        self._owner.net.route_changed(dst)

    def remove(self, dst):
        super().remove(dst)


class NetContext(FakeContext):
    """A FakeContext whose clock, timers and radio belong to a shared :class:`Net`."""

    def __init__(self, net: "Net", index: int) -> None:
        super().__init__(address=f"10.1.0.{index + 1}", node_id=index, seed=index + 1)
        self.net = net
        self.index = index
        self.routes = NetRoutes(self)

    @property
    def now(self):
        return self.net.now

    def call_later(self, delay, fn, *args):
        return self.net.schedule(delay, fn, *args)

    def broadcast(self, payload):
        super().broadcast(payload)
        self.net.control(self.index, BROADCAST, payload)

    def send(self, next_hop, payload):
        super().send(next_hop, payload)
        self.net.control(self.index, next_hop, payload)

    def send_packet(self, packet):
        super().send_packet(packet)
        self.held.remove(packet)
        self.net.route(self.index, packet, None)

    def drop(self, packet, reason):
        super().drop(packet, reason)
        if packet in self.held:
            self.held.remove(packet)


class Net:
    def __init__(self, n: int, links: set[frozenset[int]], **params) -> None:
        self.now = 0.0
        self._heap: list = []
        self._seq = itertools.count()
        self.links = set(links)
        self.ctx = [NetContext(self, i) for i in range(n)]
        self.index_of = {c.address: i for i, c in enumerate(self.ctx)}
        defaults = {"link_detection": "link-layer"}
        self.proto = [AODV(c, AodvParams(**{**defaults, **params})) for c in self.ctx]
        self.delivered: list[Packet] = []
        self.loop_checks = 0
        for p in self.proto:
            p.start()

    # clock
    def schedule(self, delay, fn, *args):
        timer = FakeTimer()
        heapq.heappush(self._heap, (self.now + delay, next(self._seq), timer, fn, args))
        return timer

    def run_until(self, t: float) -> None:
        while self._heap and self._heap[0][0] <= t:
            when, _, timer, fn, args = heapq.heappop(self._heap)
            self.now = when
            if not timer.cancelled:
                fn(*args)
        self.now = t

    # radio
    def linked(self, i: int, j: int) -> bool:
        return frozenset((i, j)) in self.links

    def control(self, i: int, to: str, payload: bytes) -> None:
        src = self.ctx[i].address
        if to == BROADCAST:
            for j in range(len(self.ctx)):
                if j != i and self.linked(i, j):
                    self.schedule(HOP_DELAY, self.proto[j].on_control, src, payload)
            return
        j = self.index_of[to]
        if self.linked(i, j):
            self.schedule(HOP_DELAY, self.proto[j].on_control, src, payload)
        else:
            self.schedule(HOP_DELAY, self.proto[i].on_link_failure, to, None)

    # data plane, as a backend does it
    def send_data(self, src: int, dst: int, uid: int) -> Packet:
        packet = Packet(uid=uid, src=self.ctx[src].address, dst=self.ctx[dst].address, size=64,
                        created=self.now)
        self.route(src, packet, None)
        return packet

    def route(self, i: int, packet: Packet, prev_hop: str | None) -> None:
        ctx, proto = self.ctx[i], self.proto[i]
        if packet.dst == ctx.address:
            self.delivered.append(packet)
            proto.on_data(packet, prev_hop, None)
            return
        r = ctx.routes.lookup(packet.dst)
        if r is None:
            proto.on_no_route(packet)
            return
        proto.on_data(packet, prev_hop, r.next_hop)
        j = self.index_of[r.next_hop]
        if self.linked(i, j):
            packet.hops += 1
            self.schedule(HOP_DELAY, self.route, j, packet, ctx.address)
        else:
            self.schedule(HOP_DELAY, self._failed, i, r.next_hop, packet)

    def _failed(self, i: int, next_hop: str, packet: Packet) -> None:
        self.proto[i].on_link_failure(next_hop, packet)

    # invariants
    def path(self, src: int, dst: int) -> list[int] | None:
        try:
            return walk_next_hops([c.routes for c in self.ctx], self.index_of, src, dst,
                                  self.ctx[dst].address)
        except AssertionError as e:
            raise AssertionError(f"{e} at t={self.now}") from None

    def route_changed(self, dst_addr: str) -> None:
        dst = self.index_of.get(dst_addr)
        if dst is None:
            return
        self.loop_checks += 1
        for i in range(len(self.ctx)):
            if i != dst:
                self.path(i, dst)


def line_links(n: int) -> set[frozenset[int]]:
    return {frozenset((i, i + 1)) for i in range(n - 1)}


def grid_links(w: int, h: int) -> set[frozenset[int]]:
    links = set()
    for y in range(h):
        for x in range(w):
            i = y * w + x
            if x + 1 < w:
                links.add(frozenset((i, i + 1)))
            if y + 1 < h:
                links.add(frozenset((i, i + w)))
    return links


def reachable(links: set[frozenset[int]], src: int) -> set[int]:
    seen, todo = {src}, [src]
    while todo:
        i = todo.pop()
        for link in links:
            if i in link:
                (j,) = link - {i}
                if j not in seen:
                    seen.add(j)
                    todo.append(j)
    return seen


@pytest.mark.parametrize("mode", ["link-layer", "hello"])
def test_line_first_packet_finds_multi_hop_route(mode):
    net = Net(8, line_links(8), link_detection=mode)
    net.run_until(1.0)
    first = net.send_data(0, 7, uid=0)
    net.run_until(3.0)
    assert first in net.delivered and first.hops == 7
    assert net.path(0, 7) == list(range(8))
    assert net.ctx[0].routes.lookup(net.ctx[7].address).metric == 7
    for k in range(1, 20):
        net.send_data(0, 7, uid=k)
        net.run_until(net.now + 0.25)
    assert len(net.delivered) == 20
    assert [f for k, f in net.ctx[0].events if k == "route_discovery_started"] == [
        {"dst": net.ctx[7].address}]


@pytest.mark.parametrize("mode", ["link-layer", "hello"])
def test_grid_link_break_rerr_and_rediscovery(mode):
    # 4 x 3 grid, flow from corner 0 to corner 11
    net = Net(12, grid_links(4, 3), link_detection=mode)
    net.run_until(1.0)
    uid = itertools.count()
    for _ in range(8):
        net.send_data(0, 11, next(uid))
        net.run_until(net.now + 0.25)
    before = net.path(0, 11)
    assert before is not None and len(before) == 6
    relay = before[2]  # an intermediate node with a precursor upstream
    for j in range(12):
        net.links.discard(frozenset((relay, j)))  # the relay walks away
    rerr_before = sum(isinstance(decode(raw), RERR) for c in net.ctx for _, raw in c.sent)
    for _ in range(40):
        net.send_data(0, 11, next(uid))
        net.run_until(net.now + 0.25)
    rerrs = [(c.index, to) for c in net.ctx for to, raw in c.sent if isinstance(decode(raw), RERR)]
    assert len(rerrs) > rerr_before
    after = net.path(0, 11)
    assert after is not None and relay not in after and len(after) == 6
    started = [f for k, f in net.ctx[0].events if k == "route_discovery_started"]
    assert len(started) >= 2  # the source rediscovered
    assert len(net.delivered) >= 40  # only packets in flight at the break may be lost


@pytest.mark.parametrize("seed,mode", [(1, "link-layer"), (2, "hello"), (3, "link-layer"),
                                       (4, "hello"), (13, "hello"), (15, "link-layer"),
                                       (17, "hello"), (17, "link-layer"), (21, "hello")])
def test_loop_free_under_moving_nodes(seed, mode):
    rng = random.Random(seed)
    n, size, reach = 20, 1000.0, 300.0
    pos = [[rng.uniform(0, size), rng.uniform(0, size)] for _ in range(n)]
    vel = [[rng.uniform(-15, 15), rng.uniform(-15, 15)] for _ in range(n)]

    def links():
        return {frozenset((i, j)) for i in range(n) for j in range(i + 1, n)
                if math.dist(pos[i], pos[j]) <= reach}

    net = Net(n, links(), link_detection=mode, local_repair=(seed % 2 == 1))
    flows = [(rng.randrange(n), rng.randrange(n)) for _ in range(8)]
    flows = [(s, d) for s, d in flows if s != d]
    uid = itertools.count()
    connected = 0  # packets sent while a path existed: the rest may be undeliverable
    for step in range(240):  # 60 s of 0.25 s steps
        for p, v in zip(pos, vel):
            for k in (0, 1):
                p[k] += v[k] * 0.25
                if not 0 <= p[k] <= size:
                    v[k] = -v[k]
                    p[k] = min(max(p[k], 0), size)
        net.links = links()
        for s, d in flows:
            connected += d in reachable(net.links, s)
            net.send_data(s, d, next(uid))
        net.run_until(net.now + 0.25)
        for dst in range(n):  # also between changes: links moved under the routes
            for i in range(n):
                if i != dst:
                    net.path(i, dst)
    assert net.loop_checks > 100
    assert len(net.delivered) > 0.6 * connected, (len(net.delivered), connected, next(uid))
