"""GPSR, Greedy Perimeter Stateless Routing (Karp & Kung, MobiCom 2000), as a per-packet plug-in.

Every node broadcasts its position in periodic, jittered beacons; neighbours keep it in a table
with a timeout. Each data packet carries a small header (:mod:`.wire`) and is forwarded hop by hop
in ``forward``:

- greedy mode: to the neighbour closest to the destination's location D, if it is closer to D
  than this node;
- at a local maximum (no such neighbour) the packet enters perimeter mode: it records Lp (here)
  and walks the faces of a planar subgraph of the neighbour table (Gabriel graph or RNG,
  :mod:`.planar`) by the right-hand rule, starting with the first edge counterclockwise from the
  line to D. When the next edge crosses segment Lp-D at a point closer to D than Lf (where the
  packet entered the current face), it changes face: Lf becomes that point, the edge after it
  counterclockwise is taken, and it becomes e0, the first edge of the new face. Back at a node
  closer to D than Lp, the packet returns to greedy mode. About to traverse e0 a second time,
  the packet is dropped: D is unreachable;
- a link-layer failure removes the neighbour and forwards the packet again, as in the paper.

Destination locations come from a :class:`~.location.LocationService`, by default the oracle.

Drop reasons: ``no_neighbour`` (empty table), ``gpsr_no_location`` (location service does not
know D), ``gpsr_local_maximum`` (greedy only, ``perimeter = false``), ``gpsr_unreachable`` (e0
again), ``gpsr_ttl`` (``max_perimeter_hops`` spent; the IP TTL guards every packet as well),
``gpsr_bad_header`` (the header did not decode).

Event: ``gpsr_perimeter`` {uid, dst, entered} where a packet enters perimeter mode (``entered``
True) and where it leaves it (False: back in greedy mode, or handed straight to D).

Departures from the paper: positions are integer millimetres (see :mod:`.wire`); the header also
names the transmitting node, because on netns the packet reaches the agent through a TUN device
without the link-layer source; a counter of perimeter hops bounds perimeter walks that mobility
makes inconsistent; positions are not piggybacked on data packets (only beacons carry them).
"""

from __future__ import annotations

import math
from typing import Any

from meshnet.protocol_api import Packet, Protocol

from . import planar, wire
from .location import LocationService, OracleLocationService
from .neighbors import NeighborTable
from .params import GpsrParams

EPS_MM = 1.0  # a face change needs a crossing at least this much closer to D than Lf


class GPSR(Protocol):
    name = "gpsr"
    port = wire.PORT
    per_packet = True
    ip_option = wire.IP_OPTION  # the header's IPv4 option type on netns and in pcaps
    description = "Greedy Perimeter Stateless Routing (Karp & Kung 2000), oracle locations"
    Params = GpsrParams

    def __init__(self, ctx: Any, params: GpsrParams | None = None,
                 location_service: LocationService | None = None) -> None:
        super().__init__(ctx, params)
        self.locations: LocationService = location_service or OracleLocationService(ctx)
        self.neighbors = NeighborTable()
        self._timer = None
        self._retry: tuple[Packet, wire.Point] | None = None  # (packet, failed neighbour)

    # -- beacons ------------------------------------------------------------------------------
    def start(self) -> None:
        p = self.params
        self._timer = self.ctx.call_later(
            self.ctx.random.uniform(0.0, p.beacon_jitter * p.beacon_interval), self._beacon)

    def stop(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _beacon(self) -> None:
        ctx, p = self.ctx, self.params
        self.neighbors.purge(ctx.now)
        x, y = self._me()
        ctx.broadcast(wire.encode_beacon(wire.Beacon(x, y)))
        j = p.beacon_jitter
        self._timer = ctx.call_later(p.beacon_interval * ctx.random.uniform(1 - j, 1 + j),
                                     self._beacon)

    def on_control(self, src: str, payload: bytes) -> None:
        beacon = wire.decode_beacon(payload)
        if src != self.ctx.address:
            self.neighbors.update(src, (beacon.x, beacon.y),
                                  self.ctx.now + self.params.neighbor_timeout)

    def on_link_failure(self, next_hop: str, packet: Packet | None) -> None:
        if not self.params.link_layer_feedback:
            return
        lost = self.neighbors.remove(next_hop)
        if packet is None or lost is None:
            return
        self._retry = (packet, lost.position)
        try:
            self.ctx.send_packet(packet)  # forward() again, without the failed neighbour
        finally:
            self._retry = None

    # -- forwarding ---------------------------------------------------------------------------
    def _me(self) -> wire.Point:
        return wire.to_mm(self.ctx.position())

    def forward(self, packet: Packet, prev_hop: str | None) -> str | None:
        ctx = self.ctx
        retry = self._retry
        failed_at = retry[1] if retry is not None and retry[0] is packet else None
        meta = packet.meta
        raw = meta.get(self.name) if meta else None
        if raw is None:
            where = self.locations.locate(packet.dst)
            if where is None:
                ctx.drop(packet, "gpsr_no_location")
                return None
            header = wire.Header(wire.GREEDY, wire.to_mm(where))
        else:
            try:
                header = wire.decode_header(raw)
            except ValueError:
                ctx.drop(packet, "gpsr_bad_header")
                return None
        if prev_hop is None and header.sender != ctx.address and header.sender != "0.0.0.0":
            prev_hop = header.sender  # netns: the TUN does not say who sent the packet
        nbrs = self.neighbors.live(ctx.now)
        if not nbrs:
            ctx.drop(packet, "no_neighbour")
            return None
        me = self._me()
        dst = packet.dst
        if dst in nbrs:  # the last hop: D needs no header (and its stack gets the packet as sent)
            if meta:
                meta.pop(self.name, None)
            if header.perimeter:  # a direct hop to D is a greedy one
                ctx.emit("gpsr_perimeter", uid=packet.uid, dst=dst, entered=False)
            return dst
        if header.perimeter:
            if planar.d2(me, header.dst) < planar.d2(header.lp, header.dst):
                header = wire.Header(wire.GREEDY, header.dst, perimeter_hops=header.perimeter_hops)
                ctx.emit("gpsr_perimeter", uid=packet.uid, dst=dst, entered=False)
            else:
                return self._perimeter(packet, header, me, nbrs, prev_hop, failed_at)
        best = self._greedy(me, header.dst, nbrs)
        if best is not None:
            return self._send(packet, header, best)
        if not self.params.perimeter:
            ctx.drop(packet, "gpsr_local_maximum")
            return None
        return self._enter_perimeter(packet, header, me, nbrs)

    @staticmethod
    def _greedy(me: wire.Point, dst: wire.Point, nbrs: dict[str, wire.Point]) -> str | None:
        best, best_d = None, planar.d2(me, dst)
        for address, p in nbrs.items():
            d = planar.d2(p, dst)
            if d < best_d:
                best, best_d = address, d
        return best

    def _planar(self, me: wire.Point, nbrs: dict[str, wire.Point]) -> dict[str, wire.Point]:
        return planar.planarize(self.params.planarization, me, nbrs)

    def _enter_perimeter(self, packet: Packet, header: wire.Header, me: wire.Point,
                         nbrs: dict[str, wire.Point]) -> str | None:
        graph = self._planar(me, nbrs)
        first = planar.next_counterclockwise(me, planar.bearing(me, header.dst), graph)
        if first is None:
            self.ctx.drop(packet, "no_neighbour")
            return None
        peri = wire.Header(wire.PERIMETER, header.dst, perimeter_hops=header.perimeter_hops,
                           lp=me, lf=me, e0=(self.ctx.address, first))
        self.ctx.emit("gpsr_perimeter", uid=packet.uid, dst=packet.dst, entered=True)
        return self._perimeter_hop(packet, peri, first)

    def _perimeter(self, packet: Packet, header: wire.Header, me: wire.Point,
                   nbrs: dict[str, wire.Point], prev_hop: str | None,
                   failed_at: wire.Point | None) -> str | None:
        graph = self._planar(me, nbrs)
        if failed_at is not None:
            reference = planar.bearing(me, failed_at)  # the edge after the one that failed
        elif prev_hop is not None and prev_hop in nbrs:
            reference = planar.bearing(me, nbrs[prev_hop])
        else:  # the previous hop is unknown here: restart the face walk from the line to D
            reference = planar.bearing(me, header.dst)
        nxt = planar.next_counterclockwise(me, reference, graph)
        if nxt is None:
            self.ctx.drop(packet, "no_neighbour")
            return None
        lp, lf, e0 = header.lp, header.lf, header.e0
        lf_dist = math.dist(lf, header.dst)
        changed = False
        for _ in range(len(graph) + 1):
            cross = planar.crossing(me, graph[nxt], lp, header.dst)
            if cross is None:
                break
            dist = math.dist(cross, header.dst)
            if not dist < lf_dist - EPS_MM:
                break
            # face change: the edge to nxt crosses Lp-D closer to D than Lf
            lf, lf_dist, changed = (round(cross[0]), round(cross[1])), dist, True
            nxt = planar.next_counterclockwise(me, planar.bearing(me, graph[nxt]), graph)
        if changed:
            e0 = (self.ctx.address, nxt)
        elif e0 == (self.ctx.address, nxt):
            self.ctx.drop(packet, "gpsr_unreachable")
            return None
        return self._perimeter_hop(packet, wire.Header(
            wire.PERIMETER, header.dst, perimeter_hops=header.perimeter_hops, lp=lp, lf=lf,
            e0=e0), nxt)

    def _perimeter_hop(self, packet: Packet, header: wire.Header, nxt: str) -> str | None:
        if header.perimeter_hops >= self.params.max_perimeter_hops:
            self.ctx.drop(packet, "gpsr_ttl")
            return None
        return self._send(packet, wire.Header(
            header.mode, header.dst, perimeter_hops=header.perimeter_hops + 1, lp=header.lp,
            lf=header.lf, e0=header.e0), nxt)

    def _send(self, packet: Packet, header: wire.Header, next_hop: str) -> str:
        header = wire.Header(header.mode, header.dst, self.ctx.address, header.perimeter_hops,
                             header.lp, header.lf, header.e0)
        if packet.meta is None:
            packet.meta = {}
        packet.meta[self.name] = wire.encode_header(header)
        return next_hop

    # -- display ------------------------------------------------------------------------------
    def table_rows(self) -> list[dict[str, Any]]:
        now = self.ctx.now
        return [{"dst": e.address, "next_hop": e.address, "metric": 1, "seqno": None,
                 "expires": e.expires, "state": "neighbour",
                 "x": e.position[0] / 1000, "y": e.position[1] / 1000}
                for e in self.neighbors.entries() if e.expires > now]
