"""ZigBee cluster-tree routing (ZigBee 2006 §3.6.1.6 addressing, §3.6.3.3 tree routing), sans-I/O.

Roles: the coordinator (address 0x0000, depth 0), routers and end devices (``Params``). Every
other node joins the tree:

1. it broadcasts a beacon request and collects beacons for ``scan_duration``; joined routers and
   the coordinator answer with a beacon giving their short address, depth and whether they can
   take another router or end-device child;
2. among the beacons of parents with room for its device type, whose link costs at most
   ``max_parent_link_cost`` (§3.6.1.4.1.1: 3), it picks the one of least depth, then least link
   cost, then strongest signal, and sends an association request;
3. the parent enforces nwkMaxChildren (Cm), nwkMaxRouters (Rm) and nwkMaxDepth (Lm): it gives
   the n-th router child A + 1 + Cskip(d)(n - 1) and the n-th end device A + Cskip(d)Rm + n
   (:mod:`.cskip`), or refuses (``zigbee_join_refused``); a joiner that finds no parent, or is
   refused, reports ``zigbee_join_failed`` and scans again after ``join_retry_interval``;
4. once joined it announces itself (ZDO Device_annce, broadcast to the whole network), so that
   every node learns its short address.

Routers and the coordinator broadcast a link status frame every ``link_status_period``; end
devices send theirs to the parent alone (standing in for the MAC data polls that keep a real end
device's parent informed). A parent forgets a child it has not heard for ``router_age_limit``
periods; a child whose parent went silent as long, whose unicasts to it failed
``max_parent_failures`` times in a row, or whose parent reappears with another short address
(it rejoined elsewhere, so this whole branch's addresses are void) is orphaned
(``zigbee_orphaned``) and joins again. Its old parent keeps its slot until it times out, so a
child that finds its old parent again gets its old address back.

Data: the source looks up the destination's short address in its address map (learnt from
Device_annce, from link status frames and from the source addresses of data it relays; when
missing it asks with a broadcast ZDO NWK_addr_req, buffering the packet meanwhile) and the packet
carries an NWK header. Each router forwards by address arithmetic alone: a destination in its own
block (A < D < A + Cskip(d - 1)) goes down to the child whose block holds it, anything else up to
the parent. End devices send everything to their parent and never relay.

Drop reasons: ``zigbee_not_joined`` (a relay that lost its parent), ``zigbee_address_unknown``
(nobody answered the address request), ``zigbee_radius`` (the header's radius ran out),
``zigbee_stale_address`` (the address now belongs to another device), ``zigbee_end_device``
(an end device was asked to relay), ``zigbee_bad_header``, ``no_route`` (the child whose block
holds the destination is not there).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from meshnet.protocol_api import BROADCAST, DecodeError, Packet, Protocol, RequestQueue, Timers

from . import wire
from .cskip import COORDINATOR_ADDRESS
from .neighbors import AddressMap, Neighbor, NeighborTable
from .params import TreeParams

COORDINATOR, ROUTER, END_DEVICE = "coordinator", "router", "end_device"
LINK_STATUS_ENTRIES = 31  # the command's 5-bit entry count
STATUS_JITTER = 0.1  # link status periods vary by +-10 % so that neighbours do not synchronise


@dataclass(slots=True)
class Child:
    ip: str
    address: int
    router: bool
    slot: int  # n of the Cskip formulas (1-based, per device type)
    last_heard: float


@dataclass(slots=True)
class AddressLookup:
    tries: int
    timer: Any


class ZigbeeTree(Protocol):
    name = "zigbee-tree"
    port = wire.PORT
    per_packet = True
    ip_option = wire.IP_OPTION
    description = ("ZigBee cluster-tree routing (ZigBee 2006 §3.6.1.6, §3.6.3.3): association "
                   "with Cm/Rm/Lm limits, Cskip address blocks, routing by address arithmetic, "
                   "orphan rejoin")
    Params = TreeParams

    def __init__(self, ctx: Any, params: TreeParams | None = None) -> None:
        super().__init__(ctx, params)
        p: TreeParams = self.params
        self.shape = p.shape
        store = getattr(ctx, "persistent", None)
        self._memory: dict[str, Any] = {} if store is None else store.setdefault(self.name, {})
        self.role = self._role()
        self.address: int | None = None  # short address once joined
        self.depth: int | None = None
        self.parent: str | None = None  # the parent's meshnet address
        self.parent_address: int | None = None
        self.children: dict[str, Child] = {}
        self.neighbors = NeighborTable(p.sensitivity_dbm, p.rssi_sigma_db)
        self.addresses = AddressMap()
        self.queue = RequestQueue(p.queue_len, p.queue_timeout)
        self.timers = Timers(ctx)
        self.extended_pan_id = 0
        self._seq = 0
        self._tsn = 0
        self._broadcasts: dict[tuple[Any, int], float] = {}  # broadcast transaction table
        self._scan: dict[str, tuple[wire.Beacon, float | None]] | None = None
        self._associating: tuple[str, wire.Beacon] | None = None
        self._attempt = 0
        self._parent_heard = 0.0
        self._parent_failures = 0
        self._lookups: dict[str, AddressLookup] = {}
        self._status_timer: Any = None
        self._queue_timer: Any = None

    def _role(self) -> str:
        p: TreeParams = self.params
        number = self.ctx.node_id + 1
        if number == p.coordinator:
            return COORDINATOR
        if number in p.end_devices:
            return END_DEVICE
        role = self._memory.get("role")  # a device's type is fixed in its firmware
        if role is None:
            fraction = p.end_device_fraction
            role = END_DEVICE if fraction > 0 and self.ctx.random.random() < fraction else ROUTER
            self._memory["role"] = role
        return role

    # --- lifecycle ----------------------------------------------------------------------------
    @property
    def joined(self) -> bool:
        return self.address is not None

    @property
    def routes_frames(self) -> bool:
        return self.role != END_DEVICE

    def start(self) -> None:
        self.timers.running = True
        if self.role == COORDINATOR:
            self.extended_pan_id = wire.ieee_of(self.ctx.address)
            self._joined(None, None, COORDINATOR_ADDRESS, 0, rejoin=False)
        else:
            self.timers.later(self.ctx.random.uniform(0, self.params.join_jitter), self._scan_start)

    def stop(self) -> None:
        self.timers.cancel_all()
        self._lookups.clear()
        self._status_timer = self._queue_timer = None

    # --- joining ------------------------------------------------------------------------------
    def _scan_start(self) -> None:
        if self.joined or self._scan is not None:
            return
        self._scan = {}
        self._associating = None
        self._attempt += 1
        self.ctx.broadcast(wire.encode(wire.BeaconRequest()))
        self.timers.later(self.params.scan_duration, self._scan_end)

    def _scan_end(self) -> None:
        beacons, self._scan = self._scan or {}, None
        if self.joined:
            return
        p: TreeParams = self.params
        if not beacons:
            return self._join_failed("no_beacon", 0)
        router = self.role == ROUTER
        roomy = {ip: (b, rssi) for ip, (b, rssi) in beacons.items() if b.permit_join
                 and (b.router_capacity if router else b.end_device_capacity)}
        if not roomy:
            return self._join_failed("no_capacity", len(beacons))
        costed = []
        for ip, (b, rssi) in roomy.items():
            n = self.neighbors.get(ip)
            cost = self.neighbors.link_cost(n) if n is not None else 7
            if cost <= p.max_parent_link_cost:
                costed.append((b.depth, cost, -(rssi if rssi is not None else 0.0), ip, b))
        if not costed:
            return self._join_failed("link_cost", len(beacons))
        _, _, _, ip, beacon = min(costed)
        self._associating = (ip, beacon)
        capability = (wire.CAP_FFD | wire.CAP_RX_ON_IDLE if router else 0) | wire.CAP_ALLOCATE_ADDRESS
        self.ctx.send(ip, wire.encode(wire.AssociationRequest(capability)))
        self.timers.later(p.scan_duration, self._association_timeout, ip)

    def _association_timeout(self, ip: str) -> None:
        if not self.joined and self._associating is not None and self._associating[0] == ip:
            self._associating = None
            self._join_failed("no_response", 1)

    def _join_failed(self, reason: str, beacons: int) -> None:
        self.ctx.emit("zigbee_join_failed", reason=reason, beacons=beacons, attempt=self._attempt)
        wait = self.params.join_retry_interval * self.ctx.random.uniform(0.75, 1.25)
        self.timers.later(wait, self._scan_start)

    def _on_beacon_request(self, src: str) -> None:
        if not self.joined or not self.routes_frames:
            return
        # 802.15.4 beacons answer with CSMA; the jitter spreads the answers of many neighbours
        self.timers.later(self.ctx.random.uniform(0, self.params.scan_duration / 4), self._beacon)

    def _beacon(self) -> None:
        if not self.joined:
            return
        routers, end_devices = self.child_counts()
        room = self.shape.cskip(self.depth) > 0
        beacon = wire.Beacon(self.address, self.depth,
                             room and routers < self.shape.max_routers,
                             room and end_devices < self.shape.max_end_devices,
                             pan_coordinator=self.role == COORDINATOR,
                             extended_pan_id=self.extended_pan_id)
        self.ctx.broadcast(wire.encode(beacon))

    def _on_association_request(self, src: str, req: wire.AssociationRequest) -> None:
        if not self.joined or not self.routes_frames:
            return
        child = self.children.get(src)
        if child is not None and child.router == req.router:
            self._answer_association(src, child.address, wire.ASSOC_SUCCESS)  # its answer was lost
            return
        if child is not None:
            self._remove_child(child, "rejoined")
        routers, end_devices = self.child_counts()
        if self.shape.cskip(self.depth) == 0:
            reason = "depth"
        elif req.router and routers >= self.shape.max_routers:
            reason = "router_capacity"
        elif not req.router and end_devices >= self.shape.max_end_devices:
            reason = "end_device_capacity"
        else:
            reason = ""
        if reason:
            self.ctx.emit("zigbee_join_refused", child=src, reason=reason, depth=self.depth,
                          routers=routers, end_devices=end_devices)
            self._answer_association(src, 0xFFFF, wire.ASSOC_PAN_AT_CAPACITY)
            return
        used = {c.slot for c in self.children.values() if c.router == req.router}
        slot = min(set(range(1, len(used) + 2)) - used)
        address = (self.shape.router_child(self.address, self.depth, slot) if req.router
                   else self.shape.end_device_child(self.address, self.depth, slot))
        self.children[src] = Child(src, address, req.router, slot, self.ctx.now)
        self.addresses.learn(src, address)
        self.neighbors.heard(src, self.ctx.now, None).address = address
        routers, end_devices = self.child_counts()
        self.ctx.emit("zigbee_child_added", child=src, address=address,
                      device_type=ROUTER if req.router else END_DEVICE, routers=routers,
                      end_devices=end_devices)
        self._answer_association(src, address, wire.ASSOC_SUCCESS)

    def _answer_association(self, to: str, address: int, status: int) -> None:
        self.ctx.send(to, wire.encode(wire.AssociationResponse(address, status)))

    def _on_association_response(self, src: str, rsp: wire.AssociationResponse) -> None:
        pending, self._associating = self._associating, None
        if self.joined or pending is None or pending[0] != src:
            return
        if rsp.status != wire.ASSOC_SUCCESS:
            return self._join_failed("refused", 1)
        beacon = pending[1]
        self.extended_pan_id = beacon.extended_pan_id
        self._joined(src, beacon.address, rsp.address, beacon.depth + 1,
                     rejoin=self._memory.get("joined", False))

    def _joined(self, parent: str | None, parent_address: int | None, address: int, depth: int,
                rejoin: bool) -> None:
        self.address, self.depth = address, depth
        self.parent, self.parent_address = parent, parent_address
        self._parent_heard, self._parent_failures, self._attempt = self.ctx.now, 0, 0
        self._memory["joined"] = True
        self.addresses.learn(self.ctx.address, address)
        if parent is not None:
            self.addresses.learn(parent, parent_address)
            self.neighbors.heard(parent, self.ctx.now, None).address = parent_address
        self.ctx.emit("zigbee_joined", parent=parent or "", address=address, depth=depth,
                      device_type=self.role, rejoin=rejoin)
        announce = wire.DeviceAnnounce(self._next_tsn(), address, self.ctx.address,
                                       wire.CAP_FFD if self.routes_frames else 0)
        self._broadcast(wire.DATA, announce, self.params.broadcast_radius)
        if self._status_timer is not None:
            self.timers.cancel(self._status_timer)
        period = self.params.link_status_period
        self._status_timer = self.timers.later(self.ctx.random.uniform(0, period), self._link_status)
        self._release_queue()

    def _orphan(self, reason: str) -> None:
        if not self.joined or self.role == COORDINATOR:
            return
        self.ctx.emit("zigbee_orphaned", parent=self.parent or "", reason=reason)
        self.address = self.depth = self.parent = self.parent_address = None
        self.children.clear()  # their addresses were in our old block: they rejoin too
        if self._status_timer is not None:
            self.timers.cancel(self._status_timer)
            self._status_timer = None
        self.timers.later(self.ctx.random.uniform(0, self.params.scan_duration), self._scan_start)

    def child_counts(self) -> tuple[int, int]:
        routers = sum(1 for c in self.children.values() if c.router)
        return routers, len(self.children) - routers

    def _remove_child(self, child: Child, reason: str) -> None:
        if self.children.pop(child.ip, None) is None:
            return
        routers, end_devices = self.child_counts()
        self.ctx.emit("zigbee_child_removed", child=child.ip, address=child.address,
                      reason=reason, routers=routers, end_devices=end_devices)

    def _child_at(self, address: int) -> Child | None:
        for c in self.children.values():
            if c.address == address:
                return c
        return None

    # --- link status: neighbours, costs, parent and children alive ------------------------------
    def _link_status(self) -> None:
        self._status_timer = None
        if not self.joined:
            return
        p: TreeParams = self.params
        now = self.ctx.now
        self._age(now)
        if not self.joined:
            return
        if self.routes_frames:
            entries = [(n.address, self.neighbors.incoming_cost(n), n.outgoing_cost or 0)
                       for n in self.neighbors if n.address is not None]
            chunks = [entries[i:i + LINK_STATUS_ENTRIES]
                      for i in range(0, len(entries), LINK_STATUS_ENTRIES)] or [[]]
            for k, chunk in enumerate(chunks):
                body = wire.LinkStatus(tuple(chunk), first=k == 0, last=k == len(chunks) - 1)
                self._send_frame(BROADCAST, self._header(wire.COMMAND, wire.BROADCAST_ROUTERS, 1),
                                 body)
        else:
            n = self.neighbors.get(self.parent)
            cost = self.neighbors.incoming_cost(n) if n is not None else 0
            body = wire.LinkStatus(((self.parent_address, cost, 0),))
            self._send_frame(self.parent, self._header(wire.COMMAND, self.parent_address, 1), body)
        wait = p.link_status_period * self.ctx.random.uniform(1 - STATUS_JITTER, 1 + STATUS_JITTER)
        self._status_timer = self.timers.later(wait, self._link_status)

    def _age(self, now: float) -> None:
        """Forget neighbours and children not heard for nwkRouterAgeLimit periods; a silent
        parent orphans us."""
        p: TreeParams = self.params
        limit = now - p.router_age_limit * p.link_status_period * (1 + STATUS_JITTER)
        for child in list(self.children.values()):
            if child.last_heard < limit:
                self._remove_child(child, "timeout")
        # the parent and the children live by their own clocks
        self.neighbors.expire(limit, keep={self.parent} | set(self.children))
        if self.parent is not None and self._parent_heard < limit:
            self._orphan("timeout")

    def _on_link_status(self, src: str, nb: Neighbor, h: wire.NwkHeader,
                        body: wire.LinkStatus) -> None:
        nb.address = h.src
        self.addresses.learn(src, h.src)
        for address, incoming, _outgoing in body.entries:
            if address == self.address:
                nb.outgoing_cost = incoming or None
        if src == self.parent and h.src != self.parent_address:
            self._orphan("parent_rejoined")
            return
        child = self.children.get(src)
        if child is not None:
            if h.src == child.address:
                child.last_heard = self.ctx.now
            else:
                self._remove_child(child, "rejoined")

    # --- control frames ------------------------------------------------------------------------
    def on_control(self, src: str, payload: bytes) -> None:
        """Handle one frame from neighbour ``src``. Raises only DecodeError."""
        if src == self.ctx.address:
            return
        msg = wire.decode(payload)
        now = self.ctx.now
        nb = self.neighbors.heard(src, now, self.ctx.rx_power_dbm)
        if src == self.parent:
            self._parent_heard, self._parent_failures = now, 0
        if isinstance(msg, wire.NwkFrame):
            self._on_nwk(src, nb, msg.header, msg.body)
        elif isinstance(msg, wire.Beacon):
            nb.address = msg.address
            if self._scan is not None:
                self._scan[src] = (msg, self.ctx.rx_power_dbm)
        elif isinstance(msg, wire.BeaconRequest):
            self._on_beacon_request(src)
        elif isinstance(msg, wire.AssociationRequest):
            self._on_association_request(src, msg)
        elif isinstance(msg, wire.AssociationResponse):
            self._on_association_response(src, msg)

    def _on_nwk(self, src: str, nb: Neighbor, h: wire.NwkHeader, body: Any) -> None:
        if isinstance(body, wire.LinkStatus):
            if self.joined:
                self._on_link_status(src, nb, h, body)
            return
        if not self.joined:
            return
        if h.src_ieee is not None:
            self.addresses.learn(h.src_ieee, h.src)
        if self._on_command(src, nb, h, body):
            return
        if h.dst >= wire.BROADCAST_MIN:
            key = (h.src_ieee or h.src, h.seq)
            if key in self._broadcasts and self._broadcasts[key] > self.ctx.now:
                return
            self._remember_broadcast(key)
            if self.routes_frames and h.radius > 1:
                out = dataclasses.replace(h, radius=h.radius - 1)
                self.timers.later(self.ctx.random.uniform(0, self.params.broadcast_jitter),
                                  self._send_frame, BROADCAST, out, body)
            self._on_broadcast(src, h, body)
        elif h.dst == self.address:
            self._on_unicast(src, h, body)
        elif self.routes_frames:
            self._relay_unicast(src, h, body)

    def _on_command(self, src: str, nb: Neighbor, h: wire.NwkHeader, body: Any) -> bool:
        """Frames relayed by their own rules rather than as plain broadcasts or unicasts (route
        discovery in zigbee-mesh); True when handled."""
        return False

    def _on_broadcast(self, src: str, h: wire.NwkHeader, body: Any) -> None:
        if isinstance(body, wire.DeviceAnnounce):
            self.addresses.learn(body.ieee, body.address)
            child = self.children.get(body.ieee)
            if child is not None and child.address != body.address:
                self._remove_child(child, "rejoined")
        elif isinstance(body, wire.AddressRequest) and body.ieee == self.ctx.address:
            if h.src_ieee is None:
                return
            rsp = wire.AddressResponse(body.tsn, wire.ZDO_SUCCESS, self.ctx.address, self.address)
            self._send_unicast(self._header(wire.DATA, h.src, self.params.broadcast_radius), rsp)

    def _on_unicast(self, src: str, h: wire.NwkHeader, body: Any) -> None:
        if isinstance(body, wire.AddressResponse) and body.status == wire.ZDO_SUCCESS:
            self.addresses.learn(body.ieee, body.address)
            lookup = self._lookups.pop(body.ieee, None)
            if lookup is not None:
                self.timers.cancel(lookup.timer)
            self._release(body.ieee)

    def _relay_unicast(self, src: str, h: wire.NwkHeader, body: Any) -> None:
        """A multi-hop frame for another node passes through: on along our route to it."""
        self._send_unicast(h, body)

    # --- sending frames ------------------------------------------------------------------------
    def _next_seq(self) -> int:
        self._seq = (self._seq + 1) & 0xFF
        return self._seq

    def _next_tsn(self) -> int:
        self._tsn = (self._tsn + 1) & 0xFF
        return self._tsn

    def _header(self, frame_type: int, dst: int, radius: int, **kw: Any) -> wire.NwkHeader:
        return wire.NwkHeader(frame_type, dst, self.address, radius, self._next_seq(), **kw)

    def _send_frame(self, to: str, h: wire.NwkHeader, body: Any) -> None:
        if to == BROADCAST:
            self.ctx.broadcast(wire.encode(wire.NwkFrame(h, body)))
        else:
            self.ctx.send(to, wire.encode(wire.NwkFrame(h, body)))

    def _remember_broadcast(self, key: tuple[Any, int]) -> None:
        now = self.ctx.now
        if len(self._broadcasts) > 256:
            self._broadcasts = {k: t for k, t in self._broadcasts.items() if t > now}
        self._broadcasts[key] = now + self.params.broadcast_memory

    def _broadcast(self, frame_type: int, body: Any, radius: int,
                   dst: int = wire.BROADCAST_ALL) -> None:
        """A network-wide broadcast; it carries our IEEE address so that the transaction is
        known by it (short addresses change on rejoin)."""
        h = self._header(frame_type, dst, radius, src_ieee=self.ctx.address)
        self._remember_broadcast((self.ctx.address, h.seq))
        self._send_frame(BROADCAST, h, body)

    def _send_unicast(self, h: wire.NwkHeader, body: Any) -> bool:
        """Send a multi-hop NWK frame one hop further towards ``h.dst``; False if it cannot."""
        if h.radius == 0:
            return False
        nxt = self._frame_next_hop(h.dst)
        if nxt is None:
            return False
        self._send_frame(nxt, dataclasses.replace(h, radius=h.radius - 1), body)
        return True

    def next_hop(self, dst: int) -> str | None:
        """Where this node would send a frame for short address ``dst`` now (None: nowhere);
        for tests and tools, which follow routes hop by hop."""
        return self._frame_next_hop(dst)

    def _frame_next_hop(self, dst: int) -> str | None:
        """Next hop of a frame addressed to short address ``dst`` (None: none known)."""
        if not self.joined:
            return None
        if not self.routes_frames:
            return self.parent
        return self._tree_next_hop(dst)

    def _tree_next_hop(self, dst: int) -> str | None:
        """§3.6.3.3: down to the child whose block holds ``dst``, else up to the parent."""
        if dst == self.address:
            return None
        if self.shape.is_descendant(self.address, self.depth, dst):
            address, _end_device = self.shape.child_toward(self.address, self.depth, dst)
            child = self._child_at(address)
            return child.ip if child is not None else None
        return self.parent

    # --- data plane ----------------------------------------------------------------------------
    def forward(self, packet: Packet, prev_hop: str | None) -> str | None:
        raw = packet.meta.get(self.name) if packet.meta else None
        if raw is None:
            if packet.src != self.ctx.address:
                self.ctx.drop(packet, "zigbee_bad_header")
                return None
            return self._originate(packet)
        if packet.src != self.ctx.address and not self.routes_frames:
            self.ctx.drop(packet, "zigbee_end_device")
            return None
        try:
            header, size = wire.decode_header(raw)
        except DecodeError:
            header, size = None, 0
        if header is None or size != len(raw) or header.frame_type != wire.DATA:
            self.ctx.drop(packet, "zigbee_bad_header")
            return None
        if not self.joined:
            self.ctx.drop(packet, "zigbee_not_joined")
            return None
        self.addresses.learn(packet.src, header.src)
        return self._route(packet, header)

    def _originate(self, packet: Packet) -> str | None:
        if not self.joined:
            self._hold(packet)
            return None
        dst = self.addresses.short(packet.dst)
        if dst is None:
            self._hold(packet)
            self._look_up(packet.dst)
            return None
        header = self._header(wire.DATA, dst, self.params.broadcast_radius, discover_route=1)
        return self._route(packet, header)

    def _route(self, packet: Packet, header: wire.NwkHeader) -> str | None:
        """Choose the next hop of a data packet and put the header it leaves with in place."""
        if header.radius == 0:
            self.ctx.drop(packet, "zigbee_radius")
            return None
        if header.dst == self.address:  # ours, but the packet is for another device
            self.addresses.forget(packet.dst)
            self.ctx.drop(packet, "zigbee_stale_address")
            return None
        found = self._data_next_hop(packet, header)
        if found is None:
            return None
        nxt, header = found
        self._put_header(packet, dataclasses.replace(header, radius=header.radius - 1))
        return nxt

    def _put_header(self, packet: Packet, header: wire.NwkHeader) -> None:
        if packet.meta is None:
            packet.meta = {}
        packet.meta[self.name] = wire.encode_header(header)

    def _data_next_hop(self, packet: Packet, header: wire.NwkHeader
                       ) -> tuple[str, wire.NwkHeader] | None:
        """(next hop, header) of a data packet, or None after dropping or holding it."""
        nxt = self._frame_next_hop(header.dst)
        if nxt is None:
            self.ctx.drop(packet, "no_route")
            return None
        return nxt, header

    def on_link_failure(self, next_hop: str, packet: Packet | None) -> None:
        if next_hop == self.parent:
            self._parent_failures += 1
            if self._parent_failures >= self.params.max_parent_failures:
                self._orphan("link_failure")

    # --- buffering and address resolution --------------------------------------------------------
    def _hold(self, packet: Packet) -> None:
        self.ctx.hold(packet)
        for old in self.queue.enqueue(packet, self.ctx.now):
            self.ctx.drop(old, "queue_full")
        self._arm_queue_timer()

    def _arm_queue_timer(self) -> None:
        expiry = self.queue.next_expiry()
        if expiry is not None and self._queue_timer is None:
            self._queue_timer = self.timers.later(expiry - self.ctx.now, self._expire_queue)

    def _expire_queue(self) -> None:
        self._queue_timer = None
        for packet in self.queue.expire(self.ctx.now):
            self.ctx.drop(packet, "queue_timeout")
        self._arm_queue_timer()

    def _release(self, dst: str) -> None:
        for packet in self.queue.take(dst):
            self.ctx.send_packet(packet)

    def _release_queue(self) -> None:
        for dst in sorted(self.queue.destinations()):
            self._release(dst)

    def _look_up(self, ip: str) -> None:
        """ZDO NWK_addr_req: ask the network for the short address of ``ip``."""
        if ip in self._lookups:
            return
        self._lookups[ip] = AddressLookup(0, None)
        self._send_lookup(ip)

    def _send_lookup(self, ip: str) -> None:
        lookup = self._lookups.get(ip)
        if lookup is None:
            return
        if not self.joined or lookup.tries > self.params.address_retries:
            del self._lookups[ip]
            for packet in self.queue.take(ip):
                self.ctx.drop(packet, "zigbee_address_unknown")
            return
        lookup.tries += 1
        self._broadcast(wire.DATA, wire.AddressRequest(self._next_tsn(), ip),
                        self.params.broadcast_radius)
        lookup.timer = self.timers.later(self.params.address_timeout, self._send_lookup, ip)

    # --- introspection -------------------------------------------------------------------------
    def summary(self) -> dict[str, Any]:
        """This node's place in the tree: role, short address, depth, parent, children."""
        routers, end_devices = self.child_counts()
        return {"device_type": self.role, "joined": self.joined, "address": self.address,
                "depth": self.depth, "parent": self.parent, "routers": routers,
                "end_devices": end_devices}

    def table_rows(self) -> list[dict[str, Any]]:
        rows = []
        if self.parent is not None:
            rows.append({"dst": self.parent, "next_hop": self.parent, "metric": 1, "seqno": None,
                         "expires": None, "state": "parent", "address": self.parent_address,
                         "depth": self.depth - 1})
        for c in sorted(self.children.values(), key=lambda c: c.address):
            rows.append({"dst": c.ip, "next_hop": c.ip, "metric": 1, "seqno": None,
                         "expires": None, "state": "child-router" if c.router else "child-end-device",
                         "address": c.address, "depth": self.depth + 1})
        return rows


__all__ = ["COORDINATOR", "END_DEVICE", "ROUTER", "ZigbeeTree"]
