"""AODV routing logic (RFC 3561 §6), sans-I/O.

Everything happens through the node context: control messages arrive in :meth:`AODV.on_control`,
the data plane reports missing routes, route use and failed unicasts, and timers are
``ctx.call_later``. Valid routes are mirrored into ``ctx.routes`` for the data plane; the
protocol's own :class:`RoutingTable` also keeps invalid entries, precursors and sequence numbers.

Departures from the letter of the RFC, each for a reason:

* The IP TTL of a flooded RREQ is not visible through the node context, so it travels in a meshnet
  extension of the RREQ (see :mod:`.wire`).
* A reverse route learnt from an RREQ replaces the stored one only when it is fresher (§6.2 rules),
  or when the stored one is not valid: this keeps the (seq, hops) order along next hops, which is
  what makes AODV loop-free.
* An RREP is forwarded whenever the node holds a valid route to its destination afterwards (as
  ns-3 does), not only when the RREP changed that route: otherwise a second originator asking
  for the same destination over the same path would never hear back.
* A destination answering an RREQ whose destination sequence number is not older than its own
  moves its own number past it (AODV-UU), so its reply always beats stale routes.
* Hellos are sent whether or not the node is on an active route (as ns-3 does).
* A live direct route to a neighbour is not replaced by a longer route while its sequence number
  is unknown (see :meth:`RoutingTable.offer`); a route learnt from the neighbour itself keeps the
  sequence number the node already held for it.
* A route that expires unused (ACTIVE_ROUTE_TIMEOUT) gets its sequence number incremented, as a
  broken one does (§6.11); the RFC keeps it, and rule §6.2 (iii) would then adopt any route at
  the same number, including a stale one that still leads back through this node.
* A route keeps its precursors when its next hop changes (less the new next hop): the upstream
  nodes still route through this node. Dropping them left their route, kept alive by their own
  data, pointing at us after ours broke; once DELETE_PERIOD had erased our sequence number we
  accepted an older reply that led back through them, closing a loop.
* A node asked to forward data it has no route for broadcasts its RERR (§6.11 case ii) instead
  of unicasting it along the reverse route to the source, which may not run through the
  neighbour that actually sent the packet.
* ``link_detection`` picks one mechanism: with "hello", MAC failures are not acted on (the
  backend drops the frame) and links break by hello loss; with "link-layer" no hellos are sent.

Restarts. A killed and revived node gets a new instance: routes, neighbours, buffered packets and
the RREQ duplicate cache are gone. Its own sequence number and RREQ ID are not: they live in
``ctx.persistent`` (the node's non-volatile memory), written whenever they change, so a crash
without :meth:`AODV.stop` loses nothing. :meth:`AODV.start` finds them there and resumes:

* the RREQ ID continues, so neighbours that still remember the node's last requests (for
  PATH_DISCOVERY_TIME) do not drop its new ones as duplicates;
* the sequence number is incremented once (RFC §6.1 lets a node increment it whenever it must be
  fresher): neighbours that invalidated their route to the dead node hold its last number plus
  one (§6.11), and the revived node's hellos and replies now match or beat that; its first RREQ
  increments again and is strictly fresher than anything they hold.

With an empty ``ctx.persistent`` the node cannot tell a first boot from a reboot that lost its
memory. By default it starts normally (sequence number 0); with ``reboot_wait`` it follows RFC §6.13
for DELETE_PERIOD: it learns routes from the control messages it hears but does not install
them, forwards or answers no control message, sends no hello and starts no discovery (its own
data waits in the buffer); an RREQ for it raises its sequence number to the one the RREQ carries;
data it is asked to forward is dropped with a broadcast RERR and restarts the wait. When the wait
ends it installs the routes it learnt and discovers the destinations its buffered data is for.
"""

from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass
from typing import Any

from meshnet.protocol_api import (BROADCAST, DecodeError, DuplicateCache, Packet, Protocol,
                                  RequestQueue, Timers)

from ..auth import MessageAuth, derive_key
from . import wire
from .neighbors import Neighbors
from .params import AodvParams
from .rate_limit import RateLimiter
from .routing_table import RouteEntry, RouteState, RoutingTable, seq_diff, seq_newer, seq_next

_NOT_UNICAST = {"0.0.0.0", BROADCAST}
_VALID = RouteState.VALID

# Every neighbour of a broadcaster decodes the same bytes; messages are immutable, so share them.
_decode = functools.lru_cache(maxsize=2048)(wire.decode)


@dataclass(slots=True)
class Discovery:
    """A route discovery in progress for one destination."""

    dst: str
    ttl: int
    tries_at_max: int = 0  # RREQs already sent with TTL = NET_DIAMETER
    timer: Any = None
    repair: bool = False  # local repair by an intermediate node (RFC §6.12)
    old_hops: int = 0
    precursors: set[str] = dataclasses.field(default_factory=set)  # upstream of a repaired route


class AODV(Protocol):
    name = "aodv"
    port = 654
    reactive = True
    description = ("Ad hoc On-Demand Distance Vector (RFC 3561): reactive route discovery with "
                   "sequence numbers, expanding ring search, RERR to precursors, hellos or "
                   "link-layer feedback")
    Params = AodvParams

    def __init__(self, ctx: Any, params: AodvParams | None = None) -> None:
        super().__init__(ctx, params)
        p: AodvParams = self.params
        store = getattr(ctx, "persistent", None)
        # survives a kill and revive: own sequence number and RREQ ID (see the module docstring)
        self._memory: dict[str, Any] = {} if store is None else store.setdefault(self.name, {})
        self._seq = 0  # own sequence number
        self._rreq_id = 0
        self._reboot_until: float | None = None  # RFC §6.13 wait (reboot_wait) ends then
        self.table = RoutingTable()
        self.queue = RequestQueue(p.queue_len, p.queue_timeout)
        self.neighbors = Neighbors()
        self.rreq_seen = DuplicateCache(p.path_discovery_time)
        self.rreq_limit = RateLimiter(p.rreq_rate_limit)
        self.rerr_limit = RateLimiter(p.rerr_rate_limit)
        self.discoveries: dict[str, Discovery] = {}
        self._mirrored: dict[str, tuple[str, int, float]] = {}  # dst -> (next hop, hops, expires)
        self._timers = Timers(ctx)
        self._wake_at: float | None = None
        self._wake_timer: Any = None
        self._last_broadcast = float("-inf")
        self._running = False
        # authenticated control messages (docs/security.md); None: off, bytes as in RFC 3561
        self._auth = (MessageAuth(derive_key(p.auth_key), ctx.address, self._memory, p.auth_window)
                      if p.auth_key else None)
        # Read on every message: the node's address and figures derived from the parameters
        # (which do not change once the instance exists).
        self._me: str = ctx.address
        self._hello_on = p.enable_hello
        self._hello_hold = p.allowed_hello_loss * p.hello_interval  # a neighbour lives this long
        self._route_hold = p.active_route_timeout  # a route in use lives this long
        self._mirror_slack = 0.5 * p.active_route_timeout  # see _mirror
        self._hello_bytes: tuple[int, bytes] | None = None  # (seq, encoded hello)

    # --- lifecycle ----------------------------------------------------------------------------

    @property
    def seq(self) -> int:
        """Own sequence number; every change is saved in ``ctx.persistent``."""
        return self._seq

    @seq.setter
    def seq(self, value: int) -> None:
        self._seq = self._memory["seq"] = value

    @property
    def rreq_id(self) -> int:
        """ID of the last RREQ this node originated; every change is saved in ``ctx.persistent``."""
        return self._rreq_id

    @rreq_id.setter
    def rreq_id(self, value: int) -> None:
        self._rreq_id = self._memory["rreq_id"] = value

    def start(self) -> None:
        self._running = self._timers.running = True
        p: AodvParams = self.params
        memory = self._memory
        if "seq" in memory:  # restarted: resume, one sequence number further
            self.rreq_id = memory.get("rreq_id", self._rreq_id)
            self.seq = seq_next(memory["seq"])
        else:  # first boot, or a reboot that lost the memory
            self.seq, self.rreq_id = self._seq, self._rreq_id  # from now on it is a restart
            if p.reboot_wait:
                self._reboot_until = self.ctx.now + p.delete_period
                self._timers.later(p.delete_period, self._reboot_wait_over)
        if p.enable_hello:
            self._timers.later(self.ctx.random.uniform(0, p.hello_interval), self._hello_tick)

    @property
    def rebooting(self) -> bool:
        """In the RFC §6.13 wait after a start without persistent state (``reboot_wait``)."""
        return self._reboot_until is not None

    def _reboot_wait_over(self) -> None:
        if self._reboot_until is None:
            return
        left = self._reboot_until - self.ctx.now
        if left > 1e-9:  # data we could not forward restarted the wait
            self._timers.later(left, self._reboot_wait_over)
            return
        self._reboot_until = None
        for e in self.table:
            if e.state is RouteState.VALID:
                self._mirror(e, force=True)
        for dst in sorted(self.queue.destinations()):
            if self.table.valid(dst) is not None:
                for packet in self.queue.take(dst):
                    self.ctx.send_packet(packet)
            else:
                self._start_discovery(dst)

    def stop(self) -> None:
        self._running = False
        self._timers.cancel_all()
        if self._wake_timer is not None:
            self._wake_timer.cancel()
        self._wake_timer = self._wake_at = None
        for d in self.discoveries.values():
            if d.timer is not None:
                d.timer.cancel()
        self.discoveries.clear()
        # The backend clears the forwarding table and accounts for held packets when a node
        # dies; a revived node starts with empty soft state (its sequence number and RREQ ID
        # survive in ctx.persistent).
        p: AodvParams = self.params
        self.table = RoutingTable()
        self.queue = RequestQueue(p.queue_len, p.queue_timeout)
        self.neighbors = Neighbors()
        self._mirrored.clear()
        self._reboot_until = None

    # --- control plane ------------------------------------------------------------------------

    def on_control(self, src: str, payload: bytes) -> None:
        """Handle one AODV message from neighbour ``src``. Raises only DecodeError."""
        if src == self._me:
            return  # our own broadcast echoed back
        msg = _decode(bytes(payload))
        if self._auth is not None:
            msg = self._authenticated(src, msg, bytes(payload))
            if msg is None:
                return
        if isinstance(msg, wire.RREQ):
            self._recv_rreq(src, msg)
        elif isinstance(msg, wire.RREP):
            self._recv_rrep(src, msg)
        elif isinstance(msg, wire.RERR):
            self._heard_from(src)
            self._recv_rerr(src, msg)
        else:
            self._heard_from(src)  # RREP-ACK: we never ask for one; it still proves the link

    def _authenticated(self, src: str, msg: wire.Message, data: bytes) -> wire.Message | None:
        """The message without its authentication extension, or None (counted as an
        ``auth_failed`` or ``auth_replayed`` event) when its trailer does not hold."""
        body, trailer = wire.split_auth(msg, data)
        verdict = self._auth.verify(src, body, trailer, self.ctx.now)
        if verdict.ok:
            return _decode(body[:-len(wire.AUTH_OPENING)])
        if verdict.status == "replayed":
            self.ctx.emit("auth_replayed", src=src, signer=verdict.signer, reason=verdict.reason)
        else:
            self.ctx.emit("auth_failed", src=src, reason=verdict.reason)
        return None

    def _recv_rreq(self, src: str, msg: wire.RREQ) -> None:
        self._heard_from(src)
        me, now, p = self._me, self.ctx.now, self.params
        if msg.orig == me or msg.orig in _NOT_UNICAST or msg.dst in _NOT_UNICAST:
            return
        if self.rreq_seen.seen((msg.orig, msg.rreq_id), now):
            return
        hops = msg.hop_count + 1
        if hops > 255:
            return
        rev = self._learn_reverse_route(src, msg, hops)
        if self._reboot_until is not None:
            # RFC §6.13: learn, forward nothing; the RREQ carries the freshest number seen en route
            if msg.dst == me and not msg.unknown_seq and seq_newer(msg.dst_seq, self.seq):
                self.seq = msg.dst_seq
            return
        if msg.dst == me:
            self._answer_as_destination(rev.next_hop, msg)
            return
        fwd = self.table.valid(msg.dst)
        if (fwd is not None and not msg.dest_only and fwd.valid_seq
                and fwd.next_hop != rev.next_hop and fwd.expires > now
                and (msg.unknown_seq or seq_diff(fwd.seq, msg.dst_seq) >= 0)):
            self._answer_as_intermediate(rev.next_hop, msg, fwd, rev)
            return
        ttl = msg.ttl if msg.ttl is not None else max(1, p.net_diameter - msg.hop_count)
        if ttl <= 1 or not self.rreq_limit.allow(now):
            return
        known = self.table.get(msg.dst)
        dst_seq, unknown = msg.dst_seq, msg.unknown_seq
        if known is not None and known.valid_seq and (unknown or seq_newer(known.seq, dst_seq)):
            dst_seq, unknown = known.seq, False
        ext = tuple(e for e in msg.extensions if e[0] != wire.EXT_TTL) + (wire.ttl_extension(ttl - 1),)
        # dataclasses.replace(msg, hop_count=hops, dst_seq=dst_seq, unknown_seq=unknown,
        # extensions=ext), written out: replace() walks the fields by name on every call
        out = wire.RREQ(msg.rreq_id, msg.dst, dst_seq, msg.orig, msg.orig_seq, hops, msg.join,
                        msg.repair, msg.gratuitous, msg.dest_only, unknown, ext)
        self._broadcast(wire.encode(out), jitter=True)
        self.ctx.emit("rreq_sent", dst=msg.dst, orig=msg.orig, rreq_id=msg.rreq_id, ttl=ttl - 1,
                      forwarded=True)

    def _learn_reverse_route(self, src: str, msg: wire.RREQ, hops: int) -> RouteEntry:
        now, p = self.ctx.now, self.params
        lifetime = max(p.node_traversal_time,
                       2 * p.net_traversal_time - 2 * hops * p.node_traversal_time)
        rev = self.table.offer(msg.orig, src, hops, msg.orig_seq, now + lifetime)
        if rev is None:
            current = self.table.get(msg.orig)
            if current is not None and current.valid:
                return current
            # Stale by our (incremented) numbers, but it comes straight from the originator.
            rev = self.table.force(msg.orig, src, hops, msg.orig_seq, True, now + lifetime)
        self._route_changed(rev)
        return rev

    def _answer_as_destination(self, to: str, msg: wire.RREQ) -> None:
        if not msg.unknown_seq:
            if seq_newer(msg.dst_seq, self.seq):
                self.seq = msg.dst_seq
            elif msg.dst_seq == self.seq:
                self.seq = seq_next(self.seq)
        rrep = wire.RREP(dst=self.ctx.address, dst_seq=self.seq, orig=msg.orig, hop_count=0,
                         lifetime_ms=_ms(self.params.my_route_timeout))
        self._send(to, wire.encode(rrep))
        self.ctx.emit("rrep_sent", dst=self.ctx.address, orig=msg.orig, to=to, hops=0,
                      seq=self.seq, intermediate=False)

    def _answer_as_intermediate(self, to: str, msg: wire.RREQ, fwd: RouteEntry,
                                rev: RouteEntry) -> None:
        now = self.ctx.now
        fwd.precursors.add(to)
        rev.precursors.add(fwd.next_hop)
        rrep = wire.RREP(dst=msg.dst, dst_seq=fwd.seq, orig=msg.orig, hop_count=fwd.hops,
                         lifetime_ms=_ms(fwd.expires - now))
        self._send(to, wire.encode(rrep))
        self.ctx.emit("rrep_sent", dst=msg.dst, orig=msg.orig, to=to, hops=fwd.hops, seq=fwd.seq,
                      intermediate=True)
        if msg.gratuitous:
            grat = wire.RREP(dst=msg.orig, dst_seq=msg.orig_seq, orig=msg.dst, hop_count=rev.hops,
                             lifetime_ms=_ms(rev.expires - now))
            self._send(fwd.next_hop, wire.encode(grat))
            self.ctx.emit("rrep_sent", dst=msg.orig, orig=msg.dst, to=fwd.next_hop,
                          hops=rev.hops, seq=msg.orig_seq, intermediate=True, gratuitous=True)

    def _recv_rrep(self, src: str, msg: wire.RREP) -> None:
        if msg.dst == msg.orig:  # msg.is_hello
            if msg.dst == src:
                self._recv_hello(src, msg)
            return
        self._heard_from(src)
        me, now, p = self._me, self.ctx.now, self.params
        if msg.dst == me or msg.dst in _NOT_UNICAST or msg.orig in _NOT_UNICAST:
            return
        hops = msg.hop_count + 1
        if hops > 255:
            return
        waiting = self._reboot_until is not None
        if msg.ack_required and not waiting and self._auth is None:  # an RREP-ACK cannot be signed
            self._send(src, wire.encode(wire.RREPAck()))
        entry = self.table.offer(msg.dst, src, hops, msg.dst_seq, now + msg.lifetime_ms / 1000)
        if entry is not None:
            self._route_changed(entry)
        if msg.orig == me or waiting:
            return
        fwd = self.table.valid(msg.dst)
        rev = self.table.valid(msg.orig)
        if fwd is None or rev is None or rev.next_hop == src:
            return
        fwd.precursors.add(rev.next_hop)
        rev.precursors.add(fwd.next_hop)
        rev.expires = max(rev.expires, now + p.active_route_timeout)
        self._mirror(rev)
        self._send(rev.next_hop, wire.encode(dataclasses.replace(msg, hop_count=hops)))
        self.ctx.emit("rrep_sent", dst=msg.dst, orig=msg.orig, to=rev.next_hop, hops=hops,
                      seq=msg.dst_seq, forwarded=True)

    def _recv_hello(self, src: str, msg: wire.RREP) -> None:
        """A hello refreshes the neighbour and a one-hop route to it (RFC §6.9)."""
        alive_until = self.ctx.now + self._hello_hold
        self.neighbors.heard(src, alive_until)
        e = self.table.get(src)
        if (e is not None and e.state is _VALID and e.valid_seq and e.seq == msg.dst_seq
                and e.next_hop == src and e.hops == 1):
            # The common case, as RoutingTable.offer treats it: the very same route, whose
            # lifetime may grow; then what _route_changed would do, skipped when it is nothing.
            if alive_until > e.expires:
                e.expires = alive_until
            old = self._mirrored.get(src) if self._reboot_until is None else None
            if (old is None or old[0] != src or old[1] != 1
                    or not e.expires - old[2] < self._mirror_slack
                    or self.discoveries or len(self.queue)):
                self._route_changed(e)
            return
        entry = self.table.offer(src, src, 1, msg.dst_seq, alive_until)
        if entry is None:
            entry = self.table.force(src, src, 1, msg.dst_seq, True, alive_until)
        self._route_changed(entry)

    def _recv_rerr(self, src: str, msg: wire.RERR) -> None:
        """Invalidate routes through ``src`` that it reports broken, and warn our precursors
        (RFC §6.11 case iii). With the N flag set the upstream node is repairing: keep the
        route (§6.13)."""
        if msg.no_delete:
            return
        broken = []
        for dst, seq in msg.unreachable:
            e = self.table.valid(dst)
            if e is None or e.next_hop != src:
                continue
            precursors = set(e.precursors)
            e.seq = seq if seq_newer(seq, e.seq) else seq_next(e.seq)
            e.valid_seq = True
            self._invalidate(e, src)
            broken.append((dst, e.seq, precursors))
        self._send_rerr(broken)

    # --- hellos and link breaks ---------------------------------------------------------------

    def _hello_tick(self) -> None:
        p, now = self.params, self.ctx.now
        if now - self._last_broadcast >= p.hello_interval * 0.95 and self._reboot_until is None:
            cached = self._hello_bytes
            if cached is None or cached[0] != self._seq:  # the hello changes with our number only
                hello = wire.RREP(dst=self._me, dst_seq=self._seq, orig=self._me, hop_count=0,
                                  lifetime_ms=_ms(p.allowed_hello_loss * p.hello_interval))
                cached = self._hello_bytes = (self._seq, wire.encode(hello))
            self._broadcast(cached[1], jitter=False)
        jitter = self.ctx.random.uniform(0, p.broadcast_jitter) if p.broadcast_jitter > 0 else 0.0
        self._timers.later(p.hello_interval - jitter, self._hello_tick)

    def _heard_from(self, neighbor: str) -> None:
        """Any message from a neighbour proves the link (RFC §6.10) and gives a one-hop route to
        it without a valid sequence number (§6.5, §6.7)."""
        if neighbor in _NOT_UNICAST:
            return
        now = self.ctx.now
        if self._hello_on:
            self.neighbors.heard(neighbor, now + self._hello_hold)
        e = self.table.get(neighbor)
        expires = now + self._route_hold
        if e is not None and e.state is _VALID and e.next_hop == neighbor and e.hops == 1:
            if expires > e.expires:
                e.expires = expires
                # _mirror(e)'s own first test, inlined: a lifetime-only change is batched
                old = self._mirrored.get(neighbor) if self._reboot_until is None else None
                if (old is None or old[0] != neighbor or old[1] != 1
                        or not expires - old[2] < self._mirror_slack):
                    self._mirror(e)
            return
        # Keep a sequence number we hold for a valid route: it stays true of the direct route.
        seq = e.seq if e is not None else 0
        known = e is not None and e.state is _VALID and e.valid_seq
        e = self.table.force(neighbor, neighbor, 1, seq, known, expires)
        self._route_changed(e)

    def on_link_failure(self, next_hop: str, packet: Packet | None) -> None:
        """MAC feedback: a unicast to ``next_hop`` failed (used with link_detection="link-layer").

        A packet we originated is kept and rediscovered; one we forwarded is kept only while a
        local repair runs, otherwise the backend drops it."""
        if self.params.link_detection != "link-layer" or not self._running:
            return
        self._link_broken(next_hop, packet)
        if packet is None:
            return
        repairing = self.table.get(packet.dst)
        if packet.src == self.ctx.address:
            self._buffer(packet)
            self._start_discovery(packet.dst)
        elif repairing is not None and repairing.state is RouteState.REPAIRING:
            self._buffer(packet)

    def _link_broken(self, neighbor: str, packet: Packet | None = None) -> None:
        """RFC §6.11 case (i): every route through ``neighbor`` becomes invalid; precursors get an
        RERR (or, with local repair, the break is repaired first)."""
        self.neighbors.forget(neighbor)
        p = self.params
        broken = []
        for e in self.table.valid_via(neighbor):
            if p.local_repair and self._reboot_until is None and self._should_repair(e, packet):
                self._start_repair(e, packet)
                continue
            precursors = set(e.precursors)
            if e.valid_seq:
                e.seq = seq_next(e.seq)
            self._invalidate(e, neighbor)
            broken.append((e.dst, e.seq, precursors))
        self._send_rerr(broken)

    def _invalidate(self, e: RouteEntry, next_hop: str) -> None:
        self.table.invalidate(e, self.ctx.now + self.params.delete_period)
        self._unmirror(e.dst)
        self.ctx.emit("route_broken", dst=e.dst, next_hop=next_hop)
        self._wake(e.expires)

    def _send_rerr(self, broken: list[tuple[str, int, set[str]]], no_delete: bool = False) -> None:
        """One RERR for all unreachable destinations: unicast when exactly one precursor needs
        it, broadcast otherwise; nothing when nobody routes through us."""
        receivers = set().union(*(pre for _, _, pre in broken)) - {self.ctx.address}
        if not receivers or not self.rerr_limit.allow(self.ctx.now):
            return
        items = [(dst, seq) for dst, seq, _ in broken]
        to = next(iter(receivers)) if len(receivers) == 1 else BROADCAST
        for i in range(0, len(items), 255):
            payload = wire.encode(wire.RERR(unreachable=tuple(items[i:i + 255]), no_delete=no_delete))
            if to == BROADCAST:
                self._broadcast(payload, jitter=True)
            else:
                self._send(to, payload)
        self.ctx.emit("rerr_sent", dsts=[d for d, _ in items], to=to, no_delete=no_delete)

    # --- local repair (RFC §6.12) -------------------------------------------------------------

    def _should_repair(self, e: RouteEntry, packet: Packet | None) -> bool:
        if e.hops > self.params.max_repair_ttl or e.dst == e.next_hop:
            return False
        return bool(e.precursors) or (packet is not None and packet.dst == e.dst
                                      and packet.src != self.ctx.address)

    def _start_repair(self, e: RouteEntry, packet: Packet | None) -> None:
        p = self.params
        back = self.table.valid(packet.src) if packet is not None else None
        hops_to_src = back.hops if back is not None else 0
        ttl = max(e.hops, hops_to_src // 2) + p.local_add_ttl
        e.state = RouteState.REPAIRING
        if e.valid_seq:
            e.seq = seq_next(e.seq)
        self._unmirror(e.dst)
        self.ctx.emit("local_repair_started", dst=e.dst, ttl=ttl)
        if e.dst in self.discoveries:
            return  # already searching (we are also a source for it)
        d = Discovery(e.dst, min(ttl, p.net_diameter), repair=True, old_hops=e.hops,
                      precursors=set(e.precursors))
        self.discoveries[e.dst] = d
        self._send_rreq(d)

    def _repair_failed(self, d: Discovery) -> None:
        e = self.table.get(d.dst)
        self._discovery_over(d.dst)
        if e is not None and e.state is RouteState.REPAIRING:
            self._invalidate(e, e.next_hop)
            self._send_rerr([(e.dst, e.seq, d.precursors)])
        self.ctx.emit("route_discovery_failed", dst=d.dst, repair=True)
        self._drop_queued(d.dst, "discovery_failed")

    # --- data plane hooks ---------------------------------------------------------------------

    def on_no_route(self, packet: Packet) -> None:
        if self._reboot_until is not None:  # RFC §6.13 wait: nothing is routed yet
            if packet.src == self.ctx.address:
                self._buffer(packet)  # discovered when the wait ends
            else:
                self._reboot_until = self.ctx.now + self.params.delete_period
                self._no_route_for_forwarding(packet, self.table.get(packet.dst))
            return
        e = self.table.valid(packet.dst)
        if e is not None:
            self._mirror(e, force=True)
            self.ctx.send_packet(packet)
            return
        known = self.table.get(packet.dst)
        if packet.src == self.ctx.address:
            self._buffer(packet)
            self._start_discovery(packet.dst)
        elif known is not None and known.state is RouteState.REPAIRING:
            self._buffer(packet)
        else:
            self._no_route_for_forwarding(packet, known)

    def _no_route_for_forwarding(self, packet: Packet, known: RouteEntry | None) -> None:
        """RFC §6.11 case (ii): tell the upstream node that we cannot forward to ``dst``.

        The RERR is broadcast (IP TTL 1): the node that handed us the packet is a neighbour but
        the data plane does not say which, and the reverse route to the source may run through
        another neighbour. One transmission either way; only nodes routing to ``dst`` through us
        act on it."""
        seq = known.seq if known is not None else 0
        if self.rerr_limit.allow(self.ctx.now):
            payload = wire.encode(wire.RERR(unreachable=((packet.dst, seq),)))
            self._broadcast(payload, jitter=True)
            self.ctx.emit("rerr_sent", dsts=[packet.dst], to=BROADCAST, no_delete=False)
        self.ctx.drop(packet, "no_route")

    def on_data(self, packet: Packet, prev_hop: str | None, next_hop: str | None) -> None:
        """Routes that carry data stay alive (RFC §6.2): to the destination and the next hop,
        and back to the source and the previous hop."""
        now = self.ctx.now
        until = now + self.params.active_route_timeout
        if next_hop is not None:
            self._refresh(packet.dst, until)
            self._refresh(next_hop, until)
        if prev_hop is not None:
            if self._hello_on:
                self.neighbors.heard(prev_hop, now + self._hello_hold)
            self._refresh(prev_hop, until)
            self._refresh(packet.src, until)

    def _refresh(self, dst: str, until: float) -> None:
        e = self.table.valid(dst)
        if e is not None and until > e.expires:
            e.expires = until
            self._mirror(e)

    # --- route discovery (RFC §6.3, §6.4) ------------------------------------------------------

    def _start_discovery(self, dst: str) -> None:
        if (dst in self.discoveries or dst == self.ctx.address or dst in _NOT_UNICAST
                or self._reboot_until is not None):
            return
        p = self.params
        known = self.table.get(dst)
        ttl = p.ttl_start if known is None else known.hops + p.ttl_increment
        if ttl > p.ttl_threshold:
            ttl = p.net_diameter
        d = Discovery(dst, min(ttl, p.net_diameter))
        self.discoveries[dst] = d
        self.ctx.emit("route_discovery_started", dst=dst)
        self._send_rreq(d)

    def _send_rreq(self, d: Discovery) -> None:
        p, now = self.params, self.ctx.now
        if not self.rreq_limit.allow(now):
            d.timer = self._timers.later(self.rreq_limit.next_free(now) - now, self._send_rreq, d)
            return
        self.seq = seq_next(self.seq)
        self.rreq_id = (self.rreq_id + 1) & 0xFFFFFFFF
        known = self.table.get(d.dst)
        know_seq = known is not None and known.valid_seq
        rreq = wire.RREQ(rreq_id=self.rreq_id, dst=d.dst, dst_seq=known.seq if know_seq else 0,
                         unknown_seq=not know_seq, orig=self.ctx.address, orig_seq=self.seq,
                         gratuitous=p.gratuitous_reply, dest_only=p.destination_only,
                         extensions=(wire.ttl_extension(d.ttl),))
        self.rreq_seen.seen((self.ctx.address, self.rreq_id), now)
        self._broadcast(wire.encode(rreq), jitter=False)
        self.ctx.emit("rreq_sent", dst=d.dst, orig=self.ctx.address, rreq_id=self.rreq_id,
                      ttl=d.ttl, forwarded=False)
        if d.repair:
            wait = p.ring_traversal_time(d.ttl)
        elif d.ttl < p.net_diameter:
            wait = p.ring_traversal_time(d.ttl)
        else:
            wait = p.net_traversal_time * (2 ** d.tries_at_max)  # binary exponential back-off
            d.tries_at_max += 1
        d.timer = self._timers.later(wait, self._discovery_timeout, d)

    def _discovery_timeout(self, d: Discovery) -> None:
        if self.discoveries.get(d.dst) is not d:
            return
        p = self.params
        if d.repair:
            self._repair_failed(d)
            return
        if d.ttl < p.net_diameter:
            d.ttl += p.ttl_increment
            if d.ttl > p.ttl_threshold:
                d.ttl = p.net_diameter
            self._send_rreq(d)
        elif d.tries_at_max <= p.rreq_retries:
            self._send_rreq(d)
        else:
            self._discovery_over(d.dst)
            self.ctx.emit("route_discovery_failed", dst=d.dst)
            self._drop_queued(d.dst, "discovery_failed")

    def _discovery_over(self, dst: str) -> Discovery | None:
        d = self.discoveries.pop(dst, None)
        if d is not None and d.timer is not None:
            self._timers.cancel(d.timer)
        return d

    # --- route bookkeeping --------------------------------------------------------------------

    def _route_changed(self, e: RouteEntry) -> None:
        """A route became valid or changed: mirror it, end a discovery for it, release packets."""
        self._mirror(e)
        d = self._discovery_over(e.dst) if self.discoveries else None
        if d is not None:
            self.ctx.emit("route_found", dst=e.dst, hops=e.hops, next_hop=e.next_hop)
            if d.repair:
                e.precursors |= d.precursors  # upstream nodes still route through us
                if e.hops > d.old_hops:
                    self._send_rerr([(e.dst, e.seq, d.precursors)], no_delete=True)
        if len(self.queue) and self._reboot_until is None:
            for packet in self.queue.take(e.dst):
                self.ctx.send_packet(packet)

    def _mirror(self, e: RouteEntry, force: bool = False) -> None:
        """Copy a valid route into ctx.routes. Lifetime-only changes are batched: the data plane
        may see an expiry slightly early, and on_no_route then re-installs the route."""
        if self._reboot_until is not None:  # RFC §6.13 wait: installed when it ends
            self._wake(e.expires)
            return
        old = self._mirrored.get(e.dst)
        if (not force and old is not None and old[0] == e.next_hop and old[1] == e.hops
                and e.expires - old[2] < self._mirror_slack):
            return
        self._mirrored[e.dst] = (e.next_hop, e.hops, e.expires)
        self.ctx.routes.add(e.dst, e.next_hop, metric=e.hops,
                            seqno=e.seq if e.valid_seq else None, expires=e.expires)
        self._wake(e.expires)

    def _unmirror(self, dst: str) -> None:
        if self._mirrored.pop(dst, None) is not None:
            self.ctx.routes.remove(dst)

    def _buffer(self, packet: Packet) -> None:
        self.ctx.hold(packet)
        for old in self.queue.enqueue(packet, self.ctx.now):
            self.ctx.drop(old, "queue_full")
        expiry = self.queue.next_expiry()
        if expiry is not None:
            self._wake(expiry)

    def _drop_queued(self, dst: str, reason: str) -> None:
        for packet in self.queue.take(dst):
            self.ctx.drop(packet, reason)

    # --- housekeeping: one timer at the earliest deadline ---------------------------------------

    def _wake(self, at: float) -> None:
        if not self._running:
            return
        if self._wake_at is not None and self._wake_at <= at:
            return
        if self._wake_timer is not None:
            self._wake_timer.cancel()
        self._wake_at = at
        self._wake_timer = self.ctx.call_later(max(0.0, at - self.ctx.now), self._housekeeping)

    def _housekeeping(self) -> None:
        self._wake_timer = self._wake_at = None
        if not self._running:
            return
        now, p = self.ctx.now, self.params
        for neighbor in self.neighbors.expired(now):
            self.ctx.emit("hello_link_lost", neighbor=neighbor)
            self._link_broken(neighbor)
        for e in self.table.expired(now):
            if e.state is RouteState.VALID:
                # Unused for ACTIVE_ROUTE_TIMEOUT: invalid, kept DELETE_PERIOD for its seq number.
                # The sequence number is incremented as for a link break (RFC 3561 6.11): the
                # RFC keeps it, and then accepts any hop count at the same number (6.2 iii),
                # which can adopt a stale route that still leads back through this node.
                if e.valid_seq:
                    e.seq = seq_next(e.seq)
                self.table.invalidate(e, now + p.delete_period)
                self._unmirror(e.dst)
                self.ctx.emit("route_expired", dst=e.dst)
            else:
                self.table.remove(e.dst)
        for packet in self.queue.expire(now):
            self.ctx.drop(packet, "queue_timeout")
        deadlines = [t for t in (self.table.next_expiry(), self.neighbors.next_expiry(),
                                 self.queue.next_expiry()) if t is not None]
        if deadlines:
            self._wake(max(min(deadlines), now))

    # --- sending ------------------------------------------------------------------------------

    def _send(self, next_hop: str, payload: bytes) -> None:
        self.ctx.send(next_hop, payload if self._auth is None else self._signed(payload))

    def _broadcast(self, payload: bytes, jitter: bool) -> None:
        delay = self.params.broadcast_jitter
        if jitter and delay > 0:
            self._timers.later(self.ctx.random.uniform(0, delay), self._broadcast_now, payload)
        else:
            self._broadcast_now(payload)

    def _broadcast_now(self, payload: bytes) -> None:
        self._last_broadcast = self.ctx.now
        self.ctx.broadcast(payload if self._auth is None else self._signed(payload))

    def _signed(self, payload: bytes) -> bytes:
        """``payload`` with the authentication extension appended, signed now (at send time, so
        that a jittered broadcast carries the counter of the moment it leaves)."""
        body = payload + wire.AUTH_OPENING
        return body + self._auth.trailer(body, self.ctx.now)

    # --- introspection ------------------------------------------------------------------------

    def table_rows(self) -> list[dict[str, Any]]:
        return [{"dst": e.dst, "next_hop": e.next_hop, "metric": e.hops,
                 "seqno": e.seq if e.valid_seq else None, "expires": e.expires,
                 "state": e.state.value, "precursors": sorted(e.precursors)}
                for e in self.table]


def _ms(seconds: float) -> int:
    return max(0, min(0xFFFFFFFF, int(round(seconds * 1000))))


__all__ = ["AODV", "AodvParams", "DecodeError"]
