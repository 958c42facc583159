"""ZigBee PRO mesh routing (ZigBee PRO §3.6.3), sans-I/O, on the tree's association and
addressing (:mod:`.tree`).

Route discovery (§3.6.3.5): a router with no route for a data packet buffers it (the shared
``RequestQueue``) and broadcasts a route request carrying the destination's short and IEEE
address and a path cost. A router hearing a copy from neighbour P adds the cost of the link from
P (:mod:`.linkcost`), keeps the best copy per (originator, request id) and its sender in the route
discovery table, and relays the first and every cheaper copy (at most ``max_forwards``) after a
random jitter. The destination, or the parent of an end-device destination, answers each cheaper
copy with a route reply, unicast back along the senders; every router on the way that sees a
cheaper reply installs a route to the responder (next hop: where the reply came from) and, as
nwkSymLink prescribes, one back to the originator. Routes expire after ``route_timeout`` unused.
Within one discovery the residual cost strictly falls along the next hops, so its routes have no
loop. A discovery that gets no reply is repeated ``rreq_retries`` times; then, with
``tree_fallback`` (nwkUseTreeRouting), the packets go along the tree, else they are dropped
(``discovery_failed``).

Many-to-one routing and source routing (§3.6.3.5.4, §3.6.3.3.2): the concentrator (the
coordinator by default) broadcasts a many-to-one route request every ``concentrator_interval``;
no reply is sent, every router keeps the cheapest next hop towards the concentrator and marks the
route "route record required". Before the next data packet towards the concentrator, its source
(or the parent of an end-device source) sends a route record, to which each relay appends its
address; the concentrator keeps the relay list and sends its own packets to that node with a
source route in the NWK header (relay list, relay index counted down at each relay). A relay that
cannot reach the next relay reports a source route failure (network status 0x0b) to the
concentrator, which forgets the record, and routes the packet on by itself.

A failed unicast to a neighbour invalidates every route through it; the packet is buffered and
discovered again from there, once per packet and node.

Drop reasons besides the tree's: ``discovery_failed``, ``queue_full``, ``queue_timeout``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from meshnet.protocol_api import BROADCAST, Packet

from . import wire
from .neighbors import Neighbor
from .params import MeshParams
from .tree import ROUTER, ZigbeeTree

MAX_PATH_COST = 0xFF
# A neighbour is sent to directly when its link costs at most this (§3.6.1.4.1.1's bound for an
# acceptable parent link); over a worse link a discovered route, possibly longer but cheaper, is
# taken. End-device children are always reached directly.
GOOD_LINK_COST = 3
SALVAGE_MEMORY = 256  # packets a node remembers having re-routed after a link failure


@dataclass(slots=True)
class RouteEntry:
    """A routing table entry (§3.6.3.2), to a short address."""

    next_hop: str
    cost: int
    expires: float
    many_to_one: bool = False
    rreq_id: int | None = None  # the many-to-one request that set it
    recorded: set[int] = field(default_factory=set)  # sources whose route record was sent


@dataclass(slots=True)
class DiscoveryEntry:
    """A route discovery table entry: one request, as this router saw it."""

    sender: str | None  # neighbour towards the originator (None at the originator)
    forward_cost: int
    expires: float
    residual_cost: int = MAX_PATH_COST + 1
    forwards: int = 0
    pending: Any = None  # the relay waiting for its jitter
    request: tuple[wire.NwkHeader, wire.RouteRequest] | None = None


@dataclass(slots=True)
class Discovery:
    """A discovery this router started for the packets it buffers."""

    dst_ip: str
    dst: int
    tries: int = 0
    timer: Any = None


class ZigbeeMesh(ZigbeeTree):
    name = "zigbee-mesh"
    description = ("ZigBee PRO mesh routing (§3.6.3): route discovery by link cost from the "
                   "received signal, many-to-one routes to a concentrator with route records "
                   "and source routes, optional tree fallback")
    Params = MeshParams

    def __init__(self, ctx: Any, params: MeshParams | None = None) -> None:
        super().__init__(ctx, params)
        self.routes: dict[int, RouteEntry] = {}
        self.discovery_table: dict[tuple[int, int], DiscoveryEntry] = {}
        self.discoveries: dict[str, Discovery] = {}
        self.records: dict[int, tuple[int, ...]] = {}  # concentrator: source -> relays
        self._rreq_id = 0
        self._salvaged: dict[int, None] = {}
        p: MeshParams = self.params
        self.concentrator = p.concentrator == ctx.node_id + 1 and self.role != "end_device"

    # --- lifecycle ----------------------------------------------------------------------------
    def _joined(self, parent: str | None, parent_address: int | None, address: int, depth: int,
                rejoin: bool) -> None:
        self.routes.clear()
        self.records.clear()
        super()._joined(parent, parent_address, address, depth, rejoin)
        if self.concentrator:
            self.timers.later(self.ctx.random.uniform(0, 1.0), self._many_to_one)

    def _orphan(self, reason: str) -> None:
        super()._orphan(reason)
        if not self.joined:
            self.routes.clear()
            self.records.clear()

    # --- route table ----------------------------------------------------------------------------
    def _route_to(self, dst: int) -> RouteEntry | None:
        e = self.routes.get(dst)
        if e is not None and e.expires < self.ctx.now:
            del self.routes[dst]
            return None
        return e

    def _set_route(self, dst: int, next_hop: str, cost: int, many_to_one: bool = False,
                   rreq_id: int | None = None) -> RouteEntry:
        e = self.routes.get(dst)
        expires = self.ctx.now + self.params.route_timeout
        if e is None:
            e = self.routes[dst] = RouteEntry(next_hop, cost, expires, many_to_one, rreq_id)
        else:
            e.next_hop, e.cost, e.expires = next_hop, cost, expires
            e.many_to_one, e.rreq_id = many_to_one, rreq_id
        return e

    def _neighbor_ip(self, address: int) -> str | None:
        n = self.neighbors.by_address(address)
        return n.ip if n is not None else None

    def _direct_hop(self, dst: int) -> str | None:
        """The neighbour ``dst`` if it is an end-device child or its link is good."""
        child = self._child_at(dst)
        if child is not None and not child.router:
            return child.ip
        n = self.neighbors.by_address(dst)
        if n is not None and self.neighbors.link_cost(n) <= GOOD_LINK_COST:
            return n.ip
        return None

    def _frame_next_hop(self, dst: int) -> str | None:
        if not self.joined:
            return None
        if not self.routes_frames:
            return self.parent
        if dst == self.address:
            return None
        nxt = self._direct_hop(dst)
        if nxt is not None:
            return nxt
        e = self._route_to(dst)
        if e is not None:
            e.expires = self.ctx.now + self.params.route_timeout
            return e.next_hop
        if self.params.tree_fallback:
            return self._tree_next_hop(dst)
        return None

    # --- data plane ----------------------------------------------------------------------------
    def _originate(self, packet: Packet) -> str | None:
        if self.joined and self.routes_frames and self.addresses.short(packet.dst) is None:
            # the route request carries the IEEE address: discovery resolves the short one
            self._hold(packet)
            self._discover(packet.dst, wire.UNKNOWN_ADDRESS)
            return None
        return super()._originate(packet)

    def _data_next_hop(self, packet: Packet, header: wire.NwkHeader
                       ) -> tuple[str, wire.NwkHeader] | None:
        if not self.routes_frames:
            return self.parent, header
        if header.relays is not None:
            if header.src != self.address:
                return self._source_route_hop(packet, header)
            header = dataclasses.replace(header, relays=None, relay_index=0)
        dst = header.dst
        nxt = self._direct_hop(dst)
        if nxt is not None:
            return nxt, header
        relays = self.records.get(dst) if header.src == self.address else None
        if relays is not None and relays:
            index = len(relays) - 1
            first = self._neighbor_ip(relays[index])
            if first is not None:
                return first, dataclasses.replace(header, relays=relays, relay_index=index)
            self._forget_record(dst)
        e = self._route_to(dst)
        if e is not None:
            e.expires = self.ctx.now + self.params.route_timeout
            if e.many_to_one:
                self._route_record_before(packet, header, e)
            return e.next_hop, header
        self._hold(packet)
        self._discover(packet.dst, dst)
        return None

    def _source_route_hop(self, packet: Packet, header: wire.NwkHeader
                          ) -> tuple[str, wire.NwkHeader] | None:
        relays, index = header.relays, header.relay_index
        if index == 0:
            nxt_address, out = header.dst, header
        else:
            nxt_address = relays[index - 1]
            out = dataclasses.replace(header, relay_index=index - 1)
        nxt = self._neighbor_ip(nxt_address)
        if nxt is not None:
            return nxt, out
        self._source_route_failed(header)
        stripped = dataclasses.replace(header, relays=None, relay_index=0)
        self._put_header(packet, stripped)  # if it waits for a discovery, it resumes without
        return self._data_next_hop(packet, stripped)

    def _source_route_failed(self, header: wire.NwkHeader) -> None:
        """Network status 0x0b to the concentrator, which then forgets its record."""
        status = wire.NetworkStatus(wire.STATUS_SOURCE_ROUTE_FAILURE, header.dst)
        self._send_unicast(self._header(wire.COMMAND, header.src, self.params.broadcast_radius),
                           status)

    def _forget_record(self, dst: int) -> None:
        self.records.pop(dst, None)

    def on_link_failure(self, next_hop: str, packet: Packet | None) -> None:
        super().on_link_failure(next_hop, packet)
        broken = [dst for dst, e in self.routes.items() if e.next_hop == next_hop]
        for dst in broken:
            del self.routes[dst]
        if broken or packet is not None:
            self.ctx.emit("zigbee_link_failed", neighbor=next_hop, routes=len(broken))
        if packet is None or not self.joined or not self.routes_frames:
            return
        if packet.uid in self._salvaged:
            return  # the backend drops it (mac_retries)
        self._salvaged[packet.uid] = None
        if len(self._salvaged) > SALVAGE_MEMORY:
            del self._salvaged[next(iter(self._salvaged))]
        raw = packet.meta.get(self.name) if packet.meta else None
        if raw is None:
            return
        try:
            header, _ = wire.decode_header(raw)
        except ValueError:
            return
        if header.relays is not None and header.src != self.address:
            self._source_route_failed(header)
        elif header.relays is not None:
            self._forget_record(header.dst)
        header = dataclasses.replace(header, relays=None, relay_index=0, radius=header.radius + 1)
        self._put_header(packet, header)  # as it arrived here: it is sent again from this node
        self._hold(packet)
        self._discover(packet.dst, header.dst)

    # --- route discovery -------------------------------------------------------------------------
    def _discover(self, dst_ip: str, dst: int) -> None:
        if dst_ip in self.discoveries:
            return
        d = self.discoveries[dst_ip] = Discovery(dst_ip, dst)
        self.ctx.emit("zigbee_route_discovery", dst=dst_ip, outcome="started")
        self._send_route_request(d)

    def _send_route_request(self, d: Discovery) -> None:
        if self.discoveries.get(d.dst_ip) is not d:
            return
        p: MeshParams = self.params
        if not self.joined:
            return self._discovery_failed(d)
        short = self.addresses.short(d.dst_ip)
        if short is not None and self._route_to(short) is not None:
            return self._discovery_done(d.dst_ip)
        if d.tries > p.rreq_retries:
            return self._discovery_failed(d)
        d.tries += 1
        self._rreq_id = (self._rreq_id + 1) & 0xFF
        dst = short if short is not None else d.dst
        body = wire.RouteRequest(self._rreq_id, dst, 0, dst_ieee=d.dst_ip)
        self.discovery_table[(self.address, self._rreq_id)] = DiscoveryEntry(
            None, 0, self.ctx.now + p.discovery_memory)
        self._broadcast(wire.COMMAND, body, p.broadcast_radius, dst=wire.BROADCAST_ROUTERS)
        d.timer = self.timers.later(p.discovery_timeout * d.tries, self._send_route_request, d)

    def _discovery_done(self, dst_ip: str) -> None:
        d = self.discoveries.pop(dst_ip, None)
        short = self.addresses.short(dst_ip)
        e = self._route_to(short) if short is not None else None
        if d is not None:
            if d.timer is not None:
                self.timers.cancel(d.timer)
            self.ctx.emit("zigbee_route_discovery", dst=dst_ip, outcome="found",
                          next_hop=e.next_hop if e else "", cost=e.cost if e else 0)
        self._release(dst_ip)

    def _discovery_failed(self, d: Discovery) -> None:
        self.discoveries.pop(d.dst_ip, None)
        self.ctx.emit("zigbee_route_discovery", dst=d.dst_ip, outcome="failed")
        short = self.addresses.short(d.dst_ip)
        for packet in self.queue.take(d.dst_ip):
            if self.params.tree_fallback and self.joined and short is not None:
                self._tree_send(packet, short)
            else:
                self.ctx.drop(packet, "discovery_failed")

    def _tree_send(self, packet: Packet, dst: int) -> None:
        """nwkUseTreeRouting: after a failed discovery the packet goes along the tree."""
        nxt = self._tree_next_hop(dst)
        if nxt is None:
            self.ctx.drop(packet, "discovery_failed")
            return
        self._set_route(dst, nxt, MAX_PATH_COST)  # the tree's hop, until a discovery finds better
        self.ctx.send_packet(packet)

    def _on_command(self, src: str, nb: Neighbor, h: wire.NwkHeader, body: Any) -> bool:
        if isinstance(body, wire.RouteRequest):
            if self.routes_frames and h.src != self.address:
                self._on_route_request(src, nb, h, body)
            return True
        if isinstance(body, wire.RouteReply):
            if self.routes_frames:  # every router on the way back handles it
                self._on_route_reply(src, nb, h, body)
            return True
        return False

    def _on_route_request(self, src: str, nb: Neighbor, h: wire.NwkHeader,
                          body: wire.RouteRequest) -> None:
        p: MeshParams = self.params
        now = self.ctx.now
        if h.src_ieee is not None:
            self.addresses.learn(h.src_ieee, h.src)
        cost = min(MAX_PATH_COST, body.path_cost + self.neighbors.link_cost(nb))
        key = (h.src, body.rreq_id)
        entry = self.discovery_table.get(key)
        if entry is not None and entry.expires < now:
            entry = None
        if entry is None:
            if len(self.discovery_table) > 256:
                self.discovery_table = {k: e for k, e in self.discovery_table.items()
                                        if e.expires >= now}
            entry = self.discovery_table[key] = DiscoveryEntry(src, cost, now + p.discovery_memory)
        elif entry.sender is None or cost >= entry.forward_cost:
            return  # our own request, or no cheaper than a copy already seen
        else:
            entry.sender, entry.forward_cost = src, cost
        if body.many_to_one:
            e = self._route_to(h.src)
            if e is None or not e.many_to_one or e.rreq_id != body.rreq_id or cost < e.cost:
                fresh = e is None or e.rreq_id != body.rreq_id
                e = self._set_route(h.src, src, cost, many_to_one=True, rreq_id=body.rreq_id)
                if fresh:
                    e.recorded.clear()  # a new request: the concentrator wants new records
        else:
            responder = self._responder_for(body)
            if responder is not None:
                self._set_route(h.src, src, cost)  # nwkSymLink: the route back
                reply = wire.RouteReply(body.rreq_id, h.src, responder[0], 0,
                                        responder_ieee=responder[1])
                self._send_frame(src, self._header(wire.COMMAND, h.src, p.broadcast_radius), reply)
                return
        if h.radius <= 1 or entry.forwards >= p.max_forwards:
            return
        entry.request = (dataclasses.replace(h, radius=h.radius - 1), body)
        if entry.pending is None:
            entry.forwards += 1
            entry.pending = self.timers.later(self.ctx.random.uniform(0, p.broadcast_jitter),
                                              self._relay_route_request, key)

    def _relay_route_request(self, key: tuple[int, int]) -> None:
        entry = self.discovery_table.get(key)
        if entry is None or entry.request is None:
            return
        entry.pending = None
        h, body = entry.request
        self._send_frame(BROADCAST, h, dataclasses.replace(body, path_cost=entry.forward_cost))

    def _responder_for(self, body: wire.RouteRequest) -> tuple[int, str] | None:
        """(short, IEEE) we answer for: ourselves or one of our end-device children."""
        me = self.ctx.address
        if body.dst_ieee == me or (body.dst_ieee is None and body.dst == self.address):
            return self.address, me
        for c in self.children.values():
            if not c.router and (body.dst_ieee == c.ip
                                 or (body.dst_ieee is None and body.dst == c.address)):
                return c.address, c.ip
        return None

    def _on_route_reply(self, src: str, nb: Neighbor, h: wire.NwkHeader,
                        body: wire.RouteReply) -> None:
        cost = min(MAX_PATH_COST, body.path_cost + self.neighbors.link_cost(nb))
        if body.responder_ieee is not None:
            self.addresses.learn(body.responder_ieee, body.responder)
        entry = self.discovery_table.get((body.originator, body.rreq_id))
        if entry is None or not cost < entry.residual_cost:
            return
        entry.residual_cost = cost
        self._set_route(body.responder, src, cost)
        if entry.sender is None:  # we asked
            if body.responder_ieee is not None:
                self._discovery_done(body.responder_ieee)
            return
        self._set_route(body.originator, entry.sender, entry.forward_cost)  # nwkSymLink
        out = dataclasses.replace(body, path_cost=cost)
        if h.radius > 1:
            self._send_frame(entry.sender, dataclasses.replace(h, radius=h.radius - 1), out)

    # --- many-to-one, route records, network status ----------------------------------------------
    def _many_to_one(self) -> None:
        if not self.joined:
            return
        p: MeshParams = self.params
        self._rreq_id = (self._rreq_id + 1) & 0xFF
        self.discovery_table[(self.address, self._rreq_id)] = DiscoveryEntry(
            None, 0, self.ctx.now + p.discovery_memory)
        body = wire.RouteRequest(self._rreq_id, self.address, 0, wire.MANY_TO_ONE_RECORD)
        self._broadcast(wire.COMMAND, body, p.concentrator_radius, dst=wire.BROADCAST_ROUTERS)
        self.ctx.emit("zigbee_many_to_one", rreq_id=self._rreq_id)
        self.timers.later(p.concentrator_interval, self._many_to_one)

    def _route_record_before(self, packet: Packet, header: wire.NwkHeader, e: RouteEntry) -> None:
        """The first packet from a source over a fresh many-to-one route is preceded by a route
        record (sent for its end-device children by the parent, the first relay)."""
        source = header.src
        if source in e.recorded:
            return
        if source == self.address:
            relays: tuple[int, ...] = ()
        elif self._child_at(source) is not None:
            relays = (self.address,)
        else:
            return  # a relay: the source sent its own
        e.recorded.add(source)
        h = wire.NwkHeader(wire.COMMAND, header.dst, source, self.params.broadcast_radius,
                           self._next_seq(), src_ieee=packet.src)
        self._send_frame(e.next_hop, h, wire.RouteRecord(relays))

    def _relay_unicast(self, src: str, h: wire.NwkHeader, body: Any) -> None:
        if isinstance(body, wire.RouteRecord):
            if len(body.relays) >= 255:
                return
            body = wire.RouteRecord(body.relays + (self.address,))
        self._send_unicast(h, body)

    def _on_unicast(self, src: str, h: wire.NwkHeader, body: Any) -> None:
        if isinstance(body, wire.RouteRecord):
            if h.src_ieee is not None:
                self.addresses.learn(h.src_ieee, h.src)
            if len(body.relays) <= self.params.max_source_route:
                self.records[h.src] = body.relays
            else:
                self.records.pop(h.src, None)
            self.ctx.emit("zigbee_route_record", src=h.src_ieee or f"0x{h.src:04x}",
                          relays=[f"0x{r:04x}" for r in body.relays])
        elif isinstance(body, wire.NetworkStatus):
            if body.code == wire.STATUS_SOURCE_ROUTE_FAILURE:
                self._forget_record(body.dst)
        else:
            super()._on_unicast(src, h, body)

    # --- introspection -------------------------------------------------------------------------
    def table_rows(self) -> list[dict[str, Any]]:
        rows = super().table_rows()
        now = self.ctx.now
        for dst, e in sorted(self.routes.items()):
            if e.expires < now:
                continue
            rows.append({"dst": self.addresses.ip(dst) or f"0x{dst:04x}", "next_hop": e.next_hop,
                         "metric": e.cost, "seqno": None, "expires": e.expires,
                         "state": "many-to-one" if e.many_to_one else "active", "address": dst})
        for dst, relays in sorted(self.records.items()):
            first = self.addresses.ip(relays[-1]) if relays else self.addresses.ip(dst)
            rows.append({"dst": self.addresses.ip(dst) or f"0x{dst:04x}",
                         "next_hop": first or "", "metric": len(relays) + 1, "seqno": None,
                         "expires": None, "state": "source-route", "address": dst,
                         "relays": [f"0x{r:04x}" for r in relays]})
        return rows


__all__ = ["ROUTER", "ZigbeeMesh"]
