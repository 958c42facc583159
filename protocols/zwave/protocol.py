"""Z-Wave source routing (the network layer of ITU-T G.9959 networks), sans-I/O.

The roles and the order of things follow a real Z-Wave network:

1. **Neighbour discovery, driven by the controller.** Inclusion is taken as done: node ``i``
   of the scenario (0-based) has Z-Wave node ID ``i + 1``. The primary controller
   (``controller``) starts by finding its own neighbours, then asks one node at a time to do
   the same (*neighbor update*, Z-Wave's Request Node Neighbor Update), nearest nodes first:
   every node some report named, over a route through the nodes it already knows. A node sends
   *find nodes in range*; every node that hears it answers with *node in range* (Z-Wave pings
   each node with an acknowledged NOP instead; one broadcast and the answers cost fewer frames
   and prove the same two-way link).
2. **Range info to the controller.** After ``find_nodes_wait`` the node reports the neighbours
   that answered (*range info*), back along the route the request came by. The controller keeps
   every node's list (:class:`~.topology.Topology`), answers with the node's *SUC return
   routes* (up to ``max_routes`` routes from the node to the controller) and moves on to the
   next node. Nodes keep their inclusion and return routes in non-volatile memory
   (``ctx.persistent``), the controller its topology: a revived node finds its neighbours again
   and reports them itself, over its return routes or in an explorer frame.
3. **Routing at a source.** A routed frame carries its whole route (at most 4 repeaters) and a
   hop index each repeater advances (:mod:`.wire`). A source tries the last working route to the
   destination, then the next routes in order, then an *explorer frame*: a flood limited to
   ``max_repeaters`` repeaters that collects the route as it goes; the destination answers along
   it, and the found route becomes the last working route. The controller ranks routes from its
   topology (shortest first, Yen's algorithm); a node uses the direct link when the destination
   is its neighbour, then return routes the controller assigned: to the controller after step 2,
   to another node when it first needs one (*route request*, answered with *assign routes*;
   in a Z-Wave installation the controller assigns return routes when it sets up an
   association). Without a route the node's data wait in a request queue.
4. **Routed ACK and routed error.** The destination of a routed frame answers with a routed ACK
   along the route back, which makes the route the last working one. A repeater that gets no
   MAC ACK from the next node sends a routed error back to the source; the source marks the
   route failed (the controller also drops the link from its topology) and its next frame takes
   the next route. No ACK within ``routed_timeout`` counts as a failure too. Routed control
   frames are sent again on the next route, up to ``retries`` times; a data packet that met the
   failure at a repeater is lost there (``mac_retries``), as a UDP packet is when an AODV route
   breaks; one that fails on the source's own first hop is sent again on the next route.
5. **Unreachable.** When every known route failed, they are all tried again (twice, and always
   within ``unreachable_hold`` of the last explorer frame) before an explorer frame goes out. A
   destination with no known route whose explorer frame also fails is unreachable for
   ``unreachable_hold`` seconds: its waiting and new packets are dropped as ``zwave_too_far``
   when the controller's topology knows a route that needs more than 4 repeaters, otherwise as
   ``zwave_no_route``, and a ``zwave_unreachable`` event says which.

Drop reasons of this protocol: ``zwave_too_far``, ``zwave_no_route``, ``zwave_route_failed``
(a repeater does not know the next node of the route, or a packet used up its attempts),
``zwave_bad_header`` / ``zwave_not_on_route`` (a header that does not decode, or names another
node at this position), ``queue_full`` / ``queue_timeout`` (waiting for a route).

Not modelled: inclusion and exclusion themselves, the home ID, secondary controllers, battery
(non-listening) nodes and wake-up, FLiRS beaming, multicast, the Z-Wave application layer and
frame retransmission by the application, routing-table priorities of real controllers (they
favour routes by speed and age), Z-Wave Long Range (star topology).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from meshnet.protocol_api import (DecodeError, DuplicateCache, Packet, Protocol,
                                  ProtocolConfigError, RequestQueue, Timers)

from . import wire
from .destinations import Destination, Route
from .params import MAX_NODE_ID, ZWaveParams
from .topology import Topology

TRIES = "zwave.tries"  # packet.meta key: routes a data packet tried at its source


@dataclass(slots=True)
class Pending:
    """A routed frame (or explorer frame) this node originated and waits to see acknowledged."""

    target: int
    route: Route | None  # None: an explorer frame
    body: wire.Body | None  # None: a data packet (only the route is remembered)
    tries: int = 0
    timer: Any = None


class ZWave(Protocol):
    name = "zwave"
    port = wire.PORT
    per_packet = True
    ip_option = wire.IP_OPTION  # the data header's IPv4 option type on netns and in pcaps
    description = ("Z-Wave source routing: a primary controller learns every node's neighbours "
                   "and computes routes of at most 4 repeaters; last working route, routed "
                   "ACK and routed error, explorer frames, return routes")
    Params = ZWaveParams

    def __init__(self, ctx: Any, params: ZWaveParams | None = None) -> None:
        super().__init__(ctx, params)
        self.id = ctx.node_id + 1
        if self.id > MAX_NODE_ID:
            raise ProtocolConfigError(
                f"a Z-Wave network has at most {MAX_NODE_ID} nodes (node IDs 1..{MAX_NODE_ID}); "
                f"nodes.count must be <= {MAX_NODE_ID}")
        p: ZWaveParams = self.params
        self.is_controller = self.id == p.controller
        self.topology = Topology() if self.is_controller else None
        self.neighbors: dict[int, str] = {}  # node ID -> address, of nodes heard directly
        self.found: set[int] = set()  # nodes that answered our find-nodes frame
        self.ids: dict[str, int] = {}  # address -> node ID
        self.addresses: dict[int, str] = {}  # node ID -> address
        self.dests: dict[int, Destination] = {}
        self.blocked: dict[str, tuple[float, str]] = {}  # address -> (until, drop reason)
        self.queue = RequestQueue(p.queue_len, p.queue_timeout)
        self.pending: dict[int, Pending] = {}
        self.requests: dict[str, Any] = {}  # address -> timer of a route request in flight
        self.searching: set[int] = set()  # destinations with an explorer frame out
        self.explorers = DuplicateCache(p.routed_timeout(p.max_repeaters) + 1.0)
        self.joined = self.is_controller  # a node: its SUC return routes arrived
        self.isolated = False  # a node: its range info could not reach the controller
        # neighbour -> (time, routed frame or None) of the last unicast to it: a MAC failure
        # report names only the neighbour, so it is matched to the last frame sent there
        self._unicasts: dict[str, tuple[float, wire.Routed | None]] = {}
        self._timers = Timers(ctx)
        self._seq = 0
        self._joins = 0  # failed attempts to reach the controller
        self._lonely = 0  # controller: find-nodes rounds in a row that nobody answered
        self._expiry: Any = None
        self._discovering = False
        store = getattr(ctx, "persistent", None)
        # survives a kill and revive: the node's inclusion and return routes, the topology
        self._memory: dict[str, Any] = {} if store is None else store.setdefault(self.name, {})
        # controller: the neighbour-update campaign (one node at a time)
        self.updating: int | None = None
        self._update_timer: Any = None
        self._update_tries: dict[int, int] = {}

    # --- lifecycle ----------------------------------------------------------------------------
    def start(self) -> None:
        self._timers.running = True
        memory = self._memory
        self._learn(self.id, self.ctx.address)
        if self.is_controller:
            self.topology = memory.setdefault("topology", Topology())
            self.topology.learn(self.id, self.ctx.address)
            for address, node in self.topology.ids.items():
                self._learn(node, address)
            self._timers.later(0.0, self._find_nodes)
        elif memory.get("included"):  # a restart: rediscover and report without being asked
            suc = memory.get("suc")
            if suc is not None:
                self._assigned(suc, announce=False)
            self._timers.later(self.ctx.random.uniform(0, self.params.restart_delay),
                               self._find_nodes)

    def stop(self) -> None:
        self._timers.cancel_all()
        self.pending.clear()
        self.requests.clear()

    # --- neighbour discovery and range info ---------------------------------------------------
    def _find_nodes(self) -> None:
        if self._discovering:
            return
        self._discovering = True
        self.found.clear()
        self.ctx.broadcast(wire.encode(wire.FindNodes(self.id)))
        self._timers.later(self.params.find_nodes_wait, self._report)

    def _report(self) -> None:
        self._discovering = False
        # the nodes that answered, and those heard directly before (their find-nodes frames
        # or relayed frames): the medium's links are symmetric, so either proves a link
        heard = self.found | set(self.neighbors)
        info = wire.RangeInfo(self.ctx.address, tuple(
            (node, self.neighbors[node]) for node in sorted(heard)))
        if self.is_controller:
            if heard or self.topology.reported - {self.id}:
                self._lonely = 0
            else:
                # Nobody answered and nobody has reported: the one frame that starts the
                # network was lost (a busy channel at start) or no node is on yet. Ask again,
                # backing off, or the network would never form.
                self._lonely += 1
                p = self.params
                self._timers.later(min(p.unreachable_hold, p.find_nodes_wait * 2 ** self._lonely),
                                   self._find_nodes)
            self._take_range_info(self.id, info, ())
        else:
            self._send_control(self.params.controller, info)

    def _next_update(self) -> None:
        """Controller: ask the next node that has not reported to find its neighbours."""
        if self.updating is not None:
            return
        p, topo = self.params, self.topology
        todo = [n for n in topo.addresses if n not in topo.reported
                and self._update_tries.get(n, 0) <= p.retries]
        if not todo:
            return
        far = MAX_NODE_ID + 1
        node = min(todo, key=lambda n: (topo.hops(self.id, n) or far, n))
        self._update_tries[node] = self._update_tries.get(node, 0) + 1
        self.updating = node
        self._send_control(node, wire.NeighborUpdate())
        wait = p.find_nodes_wait + 2 * p.routed_timeout(p.max_repeaters)
        self._update_timer = self._timers.later(wait, self._update_over, node)

    def _update_over(self, node: int) -> None:
        if self.updating == node:
            if self._update_timer is not None:
                self._timers.cancel(self._update_timer)
            self.updating = self._update_timer = None
            self._next_update()

    def _join_failed(self) -> None:
        """The range info did not reach the controller: try again later, from scratch."""
        self._joins += 1
        self.isolated = not self.joined
        if self.isolated:
            for address in sorted(self.queue.destinations() - set(self.ids)):
                self._drop_queued(address, "zwave_no_route")
        self._timers.later(self.params.unreachable_hold * min(8, 2 ** (self._joins - 1)),
                           self._find_nodes)

    def _take_range_info(self, node: int, info: wire.RangeInfo, arrived: Route) -> None:
        """Controller: a node's neighbour list arrived over ``arrived`` (its repeaters)."""
        topo = self.topology
        topo.learn(node, info.address)
        for other, address in info.neighbors:
            if other not in topo.reports:  # its own report is the authority on its address
                topo.learn(other, address)
        topo.report(node, info.ids)
        for address, other in topo.ids.items():
            self._learn(other, address)
        self.ctx.emit("zwave_range_info", reporter=info.address, neighbors=len(info.neighbors))
        if node != self.id:
            routes = topo.routes(node, self.id, self.params.max_routes, self.params.max_repeaters)
            if not routes and arrived is not None:
                routes = [arrived]
            self._send_control(node, wire.AssignRoutes(self.id, self.ctx.address, tuple(routes)))
        self._release(set(topo.ids))
        self._update_over(node)
        self._next_update()

    # --- control plane ------------------------------------------------------------------------
    def on_control(self, src: str, payload: bytes) -> None:
        if src == self.ctx.address:
            return
        msg = wire.decode(payload)
        if isinstance(msg, wire.FindNodes):
            self._learn_neighbor(msg.src, src)
            self._timers.later(self.ctx.random.uniform(0, self.params.reply_jitter),
                               self._unicast, src, wire.encode(wire.NodeInRange(self.id)))
        elif isinstance(msg, wire.NodeInRange):
            self._learn_neighbor(msg.src, src)
            self.found.add(msg.src)
        elif isinstance(msg, wire.Routed):
            self._on_routed(src, msg)
        else:
            self._on_explorer(src, msg)

    def _on_routed(self, src: str, msg: wire.Routed) -> None:
        path = msg.path
        pos = msg.hop - 1 if msg.inbound else msg.hop + 1
        if not 0 <= pos < len(path) or path[pos] != self.id:
            return  # not at our position of this route
        self._learn_neighbor(path[msg.hop], src)
        if pos == (0 if msg.inbound else len(path) - 1):
            self._routed_here(src, msg)
            return
        relay = replace(msg, hop=pos)
        nxt = path[pos - 1] if msg.inbound else path[pos + 1]
        address = self.neighbors.get(nxt)
        if address is None:
            if not msg.inbound:
                self._routed_error(relay, nxt)
            return
        self._send_routed(address, relay)

    def _routed_here(self, src: str, msg: wire.Routed) -> None:
        if msg.inbound:
            if isinstance(msg.body, wire.Ack):
                self._acked(msg.seq, msg.target, msg.repeaters)
            elif isinstance(msg.body, wire.Error):
                self._errored(msg.seq, msg.target, msg.body)
            return
        if isinstance(msg.body, (wire.Ack, wire.Error)):
            return  # only ever sent inbound
        back = wire.Routed(msg.orig, msg.target, msg.seq, msg.repeaters, wire.Ack(),
                           hop=len(msg.repeaters) + 1, inbound=True)
        self._send_routed(src, back)
        self._heard_route(msg.orig, msg.repeaters)
        self._handle(msg.orig, msg.body, msg.repeaters)

    def _on_explorer(self, src: str, msg: wire.Explorer) -> None:
        self._learn_neighbor(msg.repeaters[-1] if msg.repeaters else msg.orig, src)
        if msg.orig == self.id or self.explorers.seen((msg.orig, msg.seq), self.ctx.now):
            return
        if msg.target == self.id:
            back = wire.Routed(msg.orig, self.id, msg.seq, msg.repeaters, wire.Ack(),
                               hop=len(msg.repeaters) + 1, inbound=True)
            self._send_routed(src, back)
            if self.topology is not None:
                path = (msg.orig, *msg.repeaters, self.id)
                for a, b in zip(path, path[1:]):
                    self.topology.link(a, b)
            self._heard_route(msg.orig, msg.repeaters)
            self._handle(msg.orig, msg.body, msg.repeaters)
        elif len(msg.repeaters) < msg.max_repeaters and self.id not in msg.repeaters:
            relay = replace(msg, repeaters=(*msg.repeaters, self.id))
            self._timers.later(self.ctx.random.uniform(0, self.params.explorer_jitter),
                               self.ctx.broadcast, wire.encode(relay))

    def _heard_route(self, orig: int, repeaters: Route) -> None:
        """A frame from ``orig`` came over ``repeaters``: the reverse route works, for a start."""
        d = self._dest(orig)
        if d.last_working is None:
            d.worked(tuple(reversed(repeaters)))

    def _handle(self, orig: int, body: wire.Body, arrived: Route) -> None:
        """The payload of a routed or explorer frame from ``orig`` addressed to this node."""
        if isinstance(body, wire.RangeInfo):
            if self.is_controller:
                self._take_range_info(orig, body, arrived)
        elif isinstance(body, wire.RouteRequest):
            if self.is_controller:
                self._answer_request(orig, body.address)
        elif isinstance(body, wire.AssignRoutes):
            self._assigned(body)
        elif isinstance(body, wire.NeighborUpdate):
            if not self.is_controller and orig == self.params.controller:
                self._memory["included"] = True
                self._find_nodes()
        elif isinstance(body, wire.Unreachable):
            self._refused(body)

    # --- controller: return routes ------------------------------------------------------------
    def _answer_request(self, orig: int, address: str) -> None:
        p, topo = self.params, self.topology
        node = topo.ids.get(address)
        if node is None or node == orig:
            answer: wire.Body = wire.Unreachable(address, False, 0)
        else:
            routes = topo.routes(orig, node, p.max_routes, p.max_repeaters)
            if routes:
                answer = wire.AssignRoutes(node, address, tuple(routes))
            else:
                hops = topo.hops(orig, node)
                answer = wire.Unreachable(address, hops is not None and hops > p.max_repeaters + 1,
                                          min(hops or 0, 255))
        self._send_control(orig, answer)

    def _assigned(self, body: wire.AssignRoutes, announce: bool = True) -> None:
        self._learn(body.dst, body.address)
        d = self._dest(body.dst)
        d.set_routes(list(body.routes))
        d.assigned = True
        self.blocked.pop(body.address, None)
        self._request_done(body.address)
        if body.dst == self.params.controller:
            self._memory["included"] = True
            self._memory["suc"] = body  # return routes live in non-volatile memory
        if announce:
            self.ctx.emit("zwave_return_routes", dst=body.address, routes=len(body.routes))
        self._release({body.address})
        if body.dst == self.params.controller and not self.joined:
            self.joined, self.isolated, self._joins = True, False, 0
            for address in sorted(self.queue.destinations() - set(self.ids)):
                self._request(address)  # packets that waited for the node to join

    def _refused(self, body: wire.Unreachable) -> None:
        self._request_done(body.address)
        node = self.ids.get(body.address)
        if node is not None:
            d = self._dest(node)
            d.assigned = True
            d.too_far_hops = body.hops if body.too_far else 0
        self._unreachable(body.address, body.too_far, body.hops)

    # --- sending routed frames ----------------------------------------------------------------
    def _next_seq(self) -> int:
        self._seq = (self._seq + 1) & 0xFF
        old = self.pending.pop(self._seq, None)
        if old is not None and old.timer is not None:
            self._timers.cancel(old.timer)
        return self._seq

    def _send_routed(self, address: str, frame: wire.Routed) -> None:
        self._unicast(address, wire.encode(frame), frame)

    def _unicast(self, address: str, payload: bytes, frame: wire.Routed | None = None) -> None:
        self._unicasts[address] = (self.ctx.now, frame)
        self.ctx.send(address, payload)

    def _send_control(self, target: int, body: wire.Body, tries: int = 0) -> None:
        """Send a routed control frame reliably: next route on failure, explorer frame last."""
        d = self._dest(target)
        choice = self._choose(d)
        while choice is not None:
            route = choice[0]
            address = self._address(route[0] if route else target)
            if address is not None:
                break
            d.broke(route)
            choice = self._choose(d)
        seq = self._next_seq()
        if choice is None:
            self._explore(target, body, seq, tries)
            return
        frame = wire.Routed(self.id, target, seq, route, body)
        self._send_routed(address, frame)
        self._wait(Pending(target, route, body, tries), seq, len(route))

    def _explore(self, target: int, body: wire.Body, seq: int, tries: int = 0) -> None:
        p = self.params
        self.searching.add(target)
        self.explorers.seen((self.id, seq), self.ctx.now)
        self.ctx.broadcast(wire.encode(wire.Explorer(self.id, target, seq, p.max_repeaters, (),
                                                     body)))
        address = self._address(target)
        if address is not None:
            self.ctx.emit("route_discovery_started", dst=address)
        wait = p.routed_timeout(p.max_repeaters) + p.max_repeaters * p.explorer_jitter
        self._wait(Pending(target, None, body, tries), seq, None, wait)

    def _wait(self, pending: Pending, seq: int, repeaters: int | None,
              wait: float | None = None) -> None:
        if wait is None:
            wait = self.params.routed_timeout(repeaters or 0)
        pending.timer = self._timers.later(wait, self._timed_out, seq, pending)
        self.pending[seq] = pending

    def _acked(self, seq: int, target: int, repeaters: Route) -> None:
        pend = self.pending.get(seq)
        if pend is None or pend.target != target:
            return
        del self.pending[seq]
        self._timers.cancel(pend.timer)
        d = self._dest(target)
        if pend.route is not None:
            d.worked(pend.route)
            return
        self.searching.discard(target)  # an explorer frame found this route
        d.worked(repeaters)
        first = self._address(repeaters[0] if repeaters else target)
        if d.address is not None and first is not None:
            self.ctx.emit("route_found", dst=d.address, hops=len(repeaters) + 1, next_hop=first)
        if d.address is not None:
            self.blocked.pop(d.address, None)
            self._release({d.address})

    def _errored(self, seq: int, target: int, error: wire.Error) -> None:
        pend = self.pending.get(seq)
        if pend is None or pend.target != target or pend.route is None:
            return
        if self.topology is not None:
            self.topology.fail(error.failed_from, error.failed_to)
        self._failed(seq, pend)

    def _timed_out(self, seq: int, pend: Pending) -> None:
        if self.pending.get(seq) is pend:
            self._failed(seq, pend)

    def _failed(self, seq: int, pend: Pending) -> None:
        del self.pending[seq]
        self._timers.cancel(pend.timer)
        d = self._dest(pend.target)
        if pend.route is None:  # the explorer frame found nothing
            self.searching.discard(pend.target)
        else:
            self._broke(d, pend.route)
        if pend.body is None:
            return  # a data packet: the next one takes the next route
        if pend.tries < self.params.retries:
            self._send_control(pend.target, pend.body, pend.tries + 1)
        elif isinstance(pend.body, wire.RangeInfo):
            self._join_failed()
        elif isinstance(pend.body, wire.RouteRequest):
            self._request_done(pend.body.address)
            self._unreachable(pend.body.address, False, 0)
        elif isinstance(pend.body, wire.Nop) and d.address is not None:
            self._give_up(d)

    def _broke(self, d: Destination, route: Route) -> None:
        d.broke(route)
        first = self._address(route[0] if route else d.node)
        if d.address is not None and first is not None:
            self.ctx.emit("route_broken", dst=d.address, next_hop=first)

    def _routed_error(self, frame: wire.Routed, unreachable: int) -> None:
        """We hold ``frame`` at position ``frame.hop`` and cannot reach the next node: tell the
        originator with a routed error along the route back."""
        if frame.hop == 0:
            return
        back = self._address(frame.path[frame.hop - 1])
        if back is None:
            return
        error = wire.Routed(frame.orig, frame.target, frame.seq, frame.repeaters,
                            wire.Error(self.id, unreachable), hop=frame.hop, inbound=True)
        self._send_routed(back, error)
        failed = self._address(unreachable)
        self.ctx.emit("zwave_routed_error", failed=failed or "0.0.0.0", to=back)

    # --- data plane ---------------------------------------------------------------------------
    def forward(self, packet: Packet, prev_hop: str | None) -> str | None:
        raw = packet.meta.get(self.name) if packet.meta else None
        if raw is None:
            if packet.src != self.ctx.address:
                self.ctx.drop(packet, "zwave_bad_header")
                return None
            return self._originate(packet)
        try:
            h = wire.decode_header(raw)
        except DecodeError:
            self.ctx.drop(packet, "zwave_bad_header")
            return None
        path = h.path
        pos = h.hop + 1
        if pos >= len(path) - 1 or path[pos] != self.id:
            self.ctx.drop(packet, "zwave_not_on_route")
            return None
        if prev_hop is not None:
            self._learn_neighbor(path[h.hop], prev_hop)
        nxt = path[pos + 1]
        address = packet.dst if pos + 1 == len(path) - 1 else self.neighbors.get(nxt)
        if address is None:
            self._routed_error(wire.Routed(h.src, h.dst, h.seq, h.repeaters, wire.Nop(), hop=pos),
                               nxt)
            self.ctx.drop(packet, "zwave_route_failed")
            return None
        packet.meta[self.name] = wire.encode_header(replace(h, hop=pos))
        return address

    def _originate(self, packet: Packet) -> str | None:
        now = self.ctx.now
        blocked = self.blocked.get(packet.dst)
        if blocked is not None:
            if blocked[0] > now:
                self.ctx.drop(packet, blocked[1])
                return None
            del self.blocked[packet.dst]
        node = self.ids.get(packet.dst)
        if node is None:
            if self.isolated:
                self.ctx.drop(packet, "zwave_no_route")
                return None
            self._buffer(packet)
            if self.joined and not self.is_controller:
                self._request(packet.dst)
            return None  # the controller waits for the node's range info
        d = self._dest(node)
        tries = packet.meta.get(TRIES, 0) if packet.meta else 0
        if tries > self.params.max_routes + self.params.retries:
            self.ctx.drop(packet, "zwave_route_failed")
            return None
        choice = self._choose(d)
        while choice is not None:
            route, how = choice
            address = packet.dst if not route else self.neighbors.get(route[0])
            if address is not None:
                break
            d.broke(route)
            choice = self._choose(d)
        if choice is None:
            self._buffer(packet)
            self._resolve(d)
            return None
        if packet.meta is None:
            packet.meta = {}
        packet.meta[TRIES] = tries + 1
        if route:
            seq = self._next_seq()
            packet.meta[self.name] = wire.encode_header(
                wire.DataHeader(self.id, node, seq, route))
            if self.params.routed_ack:
                self._wait(Pending(node, route, None), seq, len(route))
        else:
            packet.meta.pop(self.name, None)
        if d.in_use != route:
            d.in_use = route
            self.ctx.emit("zwave_route", dst=packet.dst, next_hop=address, source=how,
                          repeaters=[str(r) for r in route])
        return address

    def _choose(self, d: Destination) -> tuple[Route, str] | None:
        topo = self.topology
        if topo is not None and d.topology_version != topo.version:
            d.set_routes(topo.routes(self.id, d.node, self.params.max_routes,
                                     self.params.max_repeaters))
            d.topology_version = topo.version
        choice = d.pick()
        if choice is not None and choice[1] == "last_working":
            return choice
        if topo is None and d.node in self.neighbors and () not in d.failed:
            return (), "direct"
        if choice is not None and topo is None:
            return choice[0], "return_route"
        return choice

    def _resolve(self, d: Destination) -> None:
        """No route left to ``d``: ask the controller (a node that has none from it yet), or
        give the known routes another chance (a failure is often a lost frame, not a lost
        link): twice, and always within ``unreachable_hold`` of the last explorer frame; or
        send an explorer frame."""
        if d.node in self.searching or (d.address is not None and d.address in self.requests):
            return
        p, now = self.params, self.ctx.now
        if (not self.is_controller and not d.assigned and self.joined
                and d.node != p.controller and d.address is not None):
            self._request(d.address)
        elif d.routes and (d.rounds < 2 or now - d.explored < p.unreachable_hold):
            d.rounds += 1
            self._retry_routes(d)
        else:
            d.explored, d.rounds = now, 0  # explorer attempts for data: the first and one more
            self._explore(d.node, wire.Nop(), self._next_seq(), max(0, p.retries - 1))

    def _retry_routes(self, d: Destination) -> None:
        d.failed.clear()
        if d.address is not None:
            self._timers.later(0.0, self._release, {d.address})

    def _request(self, address: str) -> None:
        if address in self.requests:
            return
        p = self.params
        wait = (p.retries + 2) * (p.routed_timeout(p.max_repeaters) * 2 + p.max_repeaters
                                  * p.explorer_jitter)
        self.requests[address] = self._timers.later(wait, self._request_timed_out, address)
        self._send_control(p.controller, wire.RouteRequest(address))

    def _request_done(self, address: str) -> None:
        timer = self.requests.pop(address, None)
        if timer is not None:
            self._timers.cancel(timer)

    def _request_timed_out(self, address: str) -> None:
        if self.requests.pop(address, None) is not None:
            self._unreachable(address, False, 0)

    def _give_up(self, d: Destination) -> None:
        if d.routes:  # known routes, only failing for now: try them again
            self._retry_routes(d)
            return
        hops = self.topology.hops(self.id, d.node) if self.topology is not None else None
        if hops is None and d.too_far_hops:
            hops = d.too_far_hops
        self._unreachable(d.address, hops is not None and hops > self.params.max_repeaters + 1,
                          hops or 0)

    def _unreachable(self, address: str, too_far: bool, hops: int) -> None:
        reason = "zwave_too_far" if too_far else "zwave_no_route"
        self.blocked[address] = (self.ctx.now + self.params.unreachable_hold, reason)
        fields: dict[str, Any] = {"hops": hops} if hops else {}
        self.ctx.emit("zwave_unreachable", dst=address, reason=reason.removeprefix("zwave_"),
                      **fields)
        self._drop_queued(address, reason)

    def on_link_failure(self, next_hop: str, packet: Packet | None) -> None:
        if packet is None:
            self._control_link_failed(next_hop)
            return
        raw = packet.meta.get(self.name) if packet.meta else None
        if raw is None:  # a direct frame from this source
            node = self.ids.get(packet.dst)
            if packet.src == self.ctx.address and node is not None:
                self._link_failed(node, ())
                self._resend(packet)
            return
        try:
            h = wire.decode_header(raw)
        except DecodeError:
            return
        if h.hop == 0 and h.src == self.id:  # our own first hop: try the next route now
            pend = self.pending.pop(h.seq, None)
            if pend is not None:
                self._timers.cancel(pend.timer)
            self._link_failed(h.dst, h.repeaters)
            del packet.meta[self.name]
            self._resend(packet)
        else:
            self._routed_error(wire.Routed(h.src, h.dst, h.seq, h.repeaters, wire.Nop(),
                                           hop=h.hop), h.path[h.hop + 1])

    def _resend(self, packet: Packet) -> None:
        """Send a packet whose first hop failed again, on the next route. Held first and handed
        back from a timer, so the data plane has finished with the failed frame."""
        self.ctx.hold(packet)
        self._timers.later(0.0, self.ctx.send_packet, packet)

    def _link_failed(self, node: int, route: Route) -> None:
        first = route[0] if route else node
        if self.topology is not None:
            self.topology.fail(self.id, first)
        self._broke(self._dest(node), route)

    def _control_link_failed(self, next_hop: str) -> None:
        sent, frame = self._unicasts.pop(next_hop, (0.0, None))
        if frame is None or frame.inbound or self.ctx.now - sent > self.params.hop_timeout:
            return
        if frame.hop == 0:
            pend = self.pending.get(frame.seq)
            if pend is not None and pend.route == frame.repeaters:
                if self.topology is not None:
                    self.topology.fail(self.id, frame.path[1])
                self._failed(frame.seq, pend)
        else:
            self._routed_error(frame, frame.path[frame.hop + 1])

    def on_data(self, packet: Packet, prev_hop: str | None, next_hop: str | None) -> None:
        """At the destination: the routed ACK of a routed data frame, and the route back."""
        if next_hop is not None or packet.dst != self.ctx.address or not packet.meta:
            return
        raw = packet.meta.get(self.name)
        if raw is None:
            return
        try:
            h = wire.decode_header(raw)
        except DecodeError:
            return
        self._learn(h.src, packet.src)
        self._heard_route(h.src, h.repeaters)
        if h.repeaters and self.params.routed_ack:
            back = prev_hop or self.neighbors.get(h.repeaters[-1])
            if back is not None:
                self._send_routed(back, wire.Routed(h.src, h.dst, h.seq, h.repeaters, wire.Ack(),
                                                    hop=len(h.repeaters) + 1, inbound=True))

    # --- waiting packets ----------------------------------------------------------------------
    def _buffer(self, packet: Packet) -> None:
        self.ctx.hold(packet)
        for old in self.queue.enqueue(packet, self.ctx.now):
            self.ctx.drop(old, "queue_full")
        self._schedule_expiry()

    def _schedule_expiry(self) -> None:
        if self._expiry is not None or not len(self.queue):
            return
        self._expiry = self._timers.later(self.queue.next_expiry() - self.ctx.now, self._expire)

    def _expire(self) -> None:
        self._expiry = None
        for packet in self.queue.expire(self.ctx.now):
            self.ctx.drop(packet, "queue_timeout")
        self._schedule_expiry()

    def _release(self, addresses: set[str]) -> None:
        """Hand back the waiting packets for ``addresses`` (a route or an ID became known)."""
        for address in sorted(addresses & self.queue.destinations()):
            for packet in self.queue.take(address):
                self.ctx.send_packet(packet)

    def _drop_queued(self, address: str, reason: str) -> None:
        for packet in self.queue.take(address):
            self.ctx.drop(packet, reason)

    # --- what this node knows -----------------------------------------------------------------
    def _learn(self, node: int, address: str) -> None:
        self.ids[address] = node
        self.addresses[node] = address
        d = self.dests.get(node)
        if d is not None:
            d.address = address

    def _learn_neighbor(self, node: int, address: str) -> None:
        self.neighbors[node] = address
        self._learn(node, address)

    def _dest(self, node: int) -> Destination:
        d = self.dests.get(node)
        if d is None:
            d = self.dests[node] = Destination(node, self._address(node))
        return d

    def _address(self, node: int) -> str | None:
        address = self.neighbors.get(node)
        return self.addresses.get(node) if address is None else address

    # --- introspection ------------------------------------------------------------------------
    def table_rows(self) -> list[dict[str, Any]]:
        rows = []
        for node in sorted(self.dests):
            d = self.dests[node]
            choice = d.pick()
            route = d.last_working if d.last_working is not None else (
                choice[0] if choice else None)
            first = None if route is None else self._address(route[0] if route else node)
            state = ("unreachable" if d.address in self.blocked else
                     "last_working" if d.last_working is not None else
                     "route" if route is not None else "none")
            rows.append({"dst": d.address or f"#{node}", "next_hop": first or "-",
                         "metric": None if route is None else len(route) + 1, "seqno": None,
                         "expires": None, "state": state,
                         "repeaters": " ".join(str(r) for r in route or ())})
        return rows
