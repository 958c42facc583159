"""The on-demand engine shared by MTPR, MMBCR and CMMBCR, sans-I/O.

Each node uses only what it can measure or was told: its own battery (``ctx.battery()``), the
RSSI of the control frame it is handling (``ctx.rx_power_dbm``), the power that frame was sent
at (carried in every message) and the radio figures of its parameters. No node sees the graph.

Discovery. A source without a route buffers the packet (``ctx.hold``) and floods an RREQ at its
default power. A node that hears a copy from neighbour P computes the power P needs to reach it,
``required = tx_power - (rssi - sensitivity - margin)`` rounded up to one of
``ctx.power_levels``, adds that hop's cost to the route cost in the copy, folds its own battery
into the copy's weakest-relay battery and ranks the result with the protocol's key (see
:mod:`.cost`). It forwards the first copy after a random jitter, and a later copy only if it
ranks better, at most ``max_forwards`` times per request; a better copy arriving while a forward
is pending replaces it. The node remembers the neighbour the best copy came from (the reverse
hop). The destination collects copies for ``reply_wait`` seconds, then answers the best one: an
RREP unicast back along the reverse hops, each hop sent at the power it needs.

Routes. An RREP installs at every node on its way a route to the destination (next hop: the
neighbour the RREP came from) and one back to the originator (next hop: the reverse hop), with
``ctx.routes.add``, and pins the power of both neighbours with ``ctx.set_link_power``, so data
frames go at the lowest level that reaches the next hop. The destination numbers its replies
(sequence numbers, as in AODV); a node takes a route only from a reply newer than the one it has,
which keeps routes from different discoveries loop-free. Routes expire after
``active_route_timeout`` without data; a source whose route is older than ``refresh_interval``
discovers again while it keeps using it, so the route follows the batteries as they drain.

Failures. A unicast that fails after the MAC's retries at less than full power is sent once more
at full power (it may have been unlucky with interference); a failure at full power breaks the
link: routes through that neighbour become invalid, an RERR is broadcast if other nodes route
through this one, and a source buffers the packet and discovers again. A node asked to forward
data it has no route for drops it (``no_route``) and broadcasts an RERR.
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Any, Callable

from meshnet.protocol_api import BROADCAST, Packet, Protocol, RequestQueue, Timers

from . import wire
from .cost import (Key, add_cost, cmmbcr_key, hop_cost, mmbcr_key, mtpr_key, needed_power,
                   quantise_battery, required_level)
from .params import CmmbcrParams, PowerParams
from .tables import Link, Request, Requests, RouteEntry, seq_newer, seq_next

_NOT_UNICAST = {"0.0.0.0", BROADCAST}
_TICK = 0.5  # s between housekeeping rounds
_RERR_GAP = 1.0  # s between two no-route RERRs for the same destination
_RETRY = "power_retry"  # packet.meta flag: already resent at full power once

_decode = functools.lru_cache(maxsize=2048)(wire.decode)


@dataclasses.dataclass(slots=True)
class Discovery:
    dst: str
    tries: int = 0
    timer: Any = None
    refresh: bool = False  # the route is still in use; this one looks for a better one


class PowerRouting(Protocol):
    """Shared engine; subclasses choose the ranking (:meth:`route_key`)."""

    name = "power"
    port = 6550
    reactive = True
    Params = PowerParams

    def __init__(self, ctx: Any, params: PowerParams | None = None) -> None:
        super().__init__(ctx, params)
        p: PowerParams = self.params
        store = getattr(ctx, "persistent", None)
        self._memory: dict[str, Any] = {} if store is None else store.setdefault(self.name, {})
        self._seq = 0
        self._rreq_id = 0
        self.table: dict[str, RouteEntry] = {}
        self.links: dict[str, Link] = {}
        self.requests = Requests(p.request_memory)
        self.queue = RequestQueue(p.queue_len, p.queue_timeout)
        self.discoveries: dict[str, Discovery] = {}
        # full power is the node's configured transmit power; the levels below it are its choice
        self.full_power = float(ctx.tx_power)
        self.levels: tuple[float, ...] = tuple(
            level for level in (getattr(ctx, "power_levels", ()) or (self.full_power,))
            if level <= self.full_power + 1e-9) or (self.full_power,)
        self._pinned: dict[str, float] = {}  # neighbour -> level given to ctx.set_link_power
        self._mirrored: dict[str, tuple[str, int, float]] = {}  # dst -> next hop, hops, expires
        self._last_rrep: dict[str, tuple[wire.RREP, bool]] = {}  # neighbour -> (RREP, resent)
        self._rerr_at: dict[str, float] = {}
        self._timers = Timers(ctx)
        self._running = False
        self._key: Callable[[int, int, int], Key] = self.route_key()

    def route_key(self) -> Callable[[int, int, int], Key]:
        """``key(cost, hops, battery)``: how this protocol ranks routes, smaller is better."""
        raise NotImplementedError

    # --- lifecycle ----------------------------------------------------------------------------

    @property
    def seq(self) -> int:
        return self._seq

    @seq.setter
    def seq(self, value: int) -> None:
        self._seq = self._memory["seq"] = value

    @property
    def rreq_id(self) -> int:
        return self._rreq_id

    @rreq_id.setter
    def rreq_id(self, value: int) -> None:
        self._rreq_id = self._memory["rreq_id"] = value

    def start(self) -> None:
        self._running = self._timers.running = True
        if "seq" in self._memory:  # revived: continue above the numbers neighbours remember
            self.rreq_id = self._memory.get("rreq_id", 0)
            self.seq = seq_next(self._memory["seq"])
        else:
            self.seq, self.rreq_id = 0, 0
        self._timers.later(self.ctx.random.uniform(0, _TICK), self._tick)

    def stop(self) -> None:
        self._running = False
        self._timers.cancel_all()
        for d in self.discoveries.values():
            if d.timer is not None:
                d.timer.cancel()
        self.discoveries.clear()
        self.requests = Requests(self.params.request_memory)
        self.queue = RequestQueue(self.params.queue_len, self.params.queue_timeout)
        self.table.clear()
        self._mirrored.clear()

    # --- links and power ----------------------------------------------------------------------

    def _heard(self, src: str, tx_cdbm: int) -> Link | None:
        """Update the link to ``src`` from the frame being handled (its RSSI and the power it
        says it was sent at); None where the medium reports no power (unit disk)."""
        rssi = self.ctx.rx_power_dbm
        if rssi is None:
            return None
        loss = tx_cdbm / 100.0 - rssi
        need = needed_power(loss, self.params)
        level = required_level(need, self.levels)
        weak = need > self.levels[0] + 1e-9
        link = self.links.get(src)
        if link is None:
            link = self.links[src] = Link(loss, level, self.ctx.now, weak)
        else:
            link.loss_db, link.level, link.heard, link.weak = loss, level, self.ctx.now, weak
        if src in self._pinned and self._pinned[src] != level:
            self._pin(src)
        return link

    def _level(self, neighbour: str) -> float:
        link = self.links.get(neighbour)
        return link.level if link is not None else self.full_power

    def _pin(self, neighbour: str) -> None:
        """Send every later frame to ``neighbour`` (data too) at the level its link needs."""
        link = self.links.get(neighbour)
        if link is None:
            return
        if self._pinned.get(neighbour) != link.level:
            self._pinned[neighbour] = link.level
            self.ctx.set_link_power(neighbour, link.level)

    def _send(self, to: str, msg: wire.Message) -> None:
        level = self._level(to)
        msg = dataclasses.replace(msg, tx_cdbm=wire.cdbm(level))
        if isinstance(msg, wire.RREP):
            self._last_rrep[to] = (msg, False)
        self.ctx.send(to, wire.encode(msg), tx_power_dbm=level)

    def _broadcast(self, msg: wire.Message) -> None:
        power = self.full_power
        msg = dataclasses.replace(msg, tx_cdbm=wire.cdbm(power))
        self.ctx.broadcast(wire.encode(msg), tx_power_dbm=power)

    # --- control plane ------------------------------------------------------------------------

    def on_control(self, src: str, payload: bytes) -> None:
        if src == self.ctx.address:
            return
        msg = _decode(bytes(payload))
        self._heard(src, msg.tx_cdbm)
        if isinstance(msg, wire.RREQ):
            self._recv_rreq(src, msg)
        elif isinstance(msg, wire.RREP):
            self._recv_rrep(src, msg)
        else:
            self._recv_rerr(src, msg)

    def _recv_rreq(self, src: str, msg: wire.RREQ) -> None:
        me, now, p = self.ctx.address, self.ctx.now, self.params
        if msg.orig == me or msg.orig in _NOT_UNICAST or msg.dst in _NOT_UNICAST:
            return
        link = self.links.get(src)
        if link is not None and link.weak:
            return  # heard, but too weak to carry data reliably even at full power
        cost = add_cost(msg.cost, hop_cost(self._level(src), p))
        hops = msg.hop_count + 1
        if hops > 255:
            return
        ident = (msg.orig, msg.rreq_id)
        req = self.requests.get(ident)
        is_dst = msg.dst == me
        if req is None:
            mine = quantise_battery(self.ctx.battery())
            battery = msg.min_battery if is_dst else min(msg.min_battery, mine)
            req = Request(msg.dst, msg.orig_seq, self._key(cost, hops, battery), src, cost, hops,
                          battery, msg.ttl, mine, now + p.request_memory)
            self.requests.add(ident, req)
        else:
            if req.replied:
                return
            battery = msg.min_battery if is_dst else min(msg.min_battery, req.my_battery)
            key = self._key(cost, hops, battery)
            if not key < req.key:
                return
            req.key, req.prev_hop, req.cost, req.hops, req.battery, req.ttl = (
                key, src, cost, hops, battery, msg.ttl)
        if is_dst:
            if req.pending is None:
                req.pending = self._timers.later(p.reply_wait, self._reply, ident)
            return
        if req.pending is None and req.forwards < p.max_forwards and req.ttl > 1:
            jitter = self.ctx.random.uniform(0, p.forward_jitter) if p.forward_jitter > 0 else 0.0
            req.pending = self._timers.later(jitter, self._forward_rreq, ident)

    def _forward_rreq(self, ident: tuple[str, int]) -> None:
        req = self.requests.get(ident)
        if req is None:
            return
        req.pending = None
        req.forwards += 1
        out = wire.RREQ(rreq_id=ident[1], orig=ident[0], orig_seq=req.orig_seq, dst=req.dst,
                        ttl=req.ttl - 1, hop_count=req.hops, cost=req.cost,
                        min_battery=req.battery)
        self._broadcast(out)
        self.ctx.emit("rreq_sent", dst=req.dst, orig=ident[0], rreq_id=ident[1], ttl=req.ttl - 1,
                      forwarded=True)

    def _reply(self, ident: tuple[str, int]) -> None:
        """The destination's collection window is over: answer the best copy."""
        req = self.requests.get(ident)
        if req is None:
            return
        req.pending = None
        req.replied = True
        orig, p = ident[0], self.params
        self.seq = seq_next(self.seq)
        self._learn(orig, req.prev_hop, req.hops, req.orig_seq, self.ctx.now
                    + p.active_route_timeout, req.cost, req.battery)
        rrep = wire.RREP(rreq_id=ident[1], orig=orig, dst=self.ctx.address, dst_seq=self.seq,
                         lifetime_ms=_ms(2 * p.active_route_timeout), hop_count=0, cost=req.cost,
                         min_battery=req.battery)
        self._send(req.prev_hop, rrep)
        self.ctx.emit("rrep_sent", dst=self.ctx.address, orig=orig, to=req.prev_hop, hops=0,
                      seq=self.seq)

    def _recv_rrep(self, src: str, msg: wire.RREP) -> None:
        me, now, p = self.ctx.address, self.ctx.now, self.params
        if msg.dst == me or msg.dst in _NOT_UNICAST or msg.orig in _NOT_UNICAST:
            return
        hops = msg.hop_count + 1
        if hops > 255:
            return
        lifetime = now + msg.lifetime_ms / 1000.0
        if msg.orig == me and self._keep_current(msg, hops):
            return
        fwd = self._learn(msg.dst, src, hops, msg.dst_seq, lifetime, msg.cost, msg.min_battery)
        if msg.orig == me:
            d = self._discovery_over(msg.dst)
            if fwd is not None:
                if d is not None:
                    self.ctx.emit("route_found", dst=msg.dst, hops=hops, next_hop=src)
                self._release(msg.dst)
            return
        req = self.requests.get((msg.orig, msg.rreq_id))
        if req is None or req.prev_hop == src:
            return  # forgotten, or it would go back where it came from
        back = req.prev_hop
        current = self.table.get(msg.dst)
        if current is not None and current.valid:
            current.precursors.add(back)
        self._learn(msg.orig, back, req.hops, req.orig_seq, now + p.active_route_timeout,
                    req.cost, req.battery)
        self._send(back, dataclasses.replace(msg, hop_count=hops))
        self.ctx.emit("rrep_sent", dst=msg.dst, orig=msg.orig, to=back, hops=hops,
                      seq=msg.dst_seq, forwarded=True)

    def _keep_current(self, msg: wire.RREP, hops: int) -> bool:
        """A refresh answered with a route that ranks worse than the one in use, under a ranking
        that ignores batteries: in a static network route costs do not change, so the flood lost
        the better copies. Keep the current route (and refresh again later)."""
        d = self.discoveries.get(msg.dst)
        e = self.table.get(msg.dst)
        if (d is None or not d.refresh or not self.battery_blind() or e is None or not e.valid
                or not self._key(e.cost, e.hops, e.battery) < self._key(msg.cost, hops,
                                                                       msg.min_battery)):
            return False
        self._discovery_over(msg.dst)
        e.learnt = self.ctx.now
        return True

    def battery_blind(self) -> bool:
        """Whether the ranking ignores batteries (MTPR; CMMBCR with gamma = 0)."""
        return False

    def _learn(self, dst: str, next_hop: str, hops: int, seq: int, expires: float, cost: int,
               battery: int) -> RouteEntry | None:
        """Install a route from a reply if it is newer than the one held; the entry or None."""
        if dst == self.ctx.address:
            return None
        e = self.table.get(dst)
        if e is not None and not seq_newer(seq, e.seq):
            return e if e.valid else None
        now = self.ctx.now
        if e is None:
            e = self.table[dst] = RouteEntry(dst, next_hop, hops, seq, expires, now, cost, battery)
        else:
            if e.next_hop != next_hop:
                e.precursors.discard(next_hop)
            e.next_hop, e.hops, e.seq, e.expires, e.learnt = next_hop, hops, seq, expires, now
            e.cost, e.battery, e.valid = cost, battery, True
        self._pin(next_hop)
        self._mirror(e, force=True)
        return e

    def _recv_rerr(self, src: str, msg: wire.RERR) -> None:
        broken = []
        for dst, seq in msg.unreachable:
            e = self.table.get(dst)
            if e is None or not e.valid or e.next_hop != src:
                continue
            if seq_newer(seq, e.seq):
                e.seq = seq
            broken.append(e)
            self._invalidate(e)
        self._send_rerr(broken)

    # --- route bookkeeping --------------------------------------------------------------------

    def _mirror(self, e: RouteEntry, force: bool = False) -> None:
        old = self._mirrored.get(e.dst)
        if (not force and old is not None and old[:2] == (e.next_hop, e.hops)
                and e.expires - old[2] < 0.5 * self.params.active_route_timeout):
            return
        self._mirrored[e.dst] = (e.next_hop, e.hops, e.expires)
        self.ctx.routes.add(e.dst, e.next_hop, metric=e.hops, seqno=e.seq, expires=e.expires)

    def _invalidate(self, e: RouteEntry) -> None:
        e.valid = False
        if self._mirrored.pop(e.dst, None) is not None:
            self.ctx.routes.remove(e.dst)
        self.ctx.emit("route_broken", dst=e.dst, next_hop=e.next_hop)

    def _send_rerr(self, broken: list[RouteEntry]) -> None:
        """One broadcast RERR for the destinations other nodes reach through this one."""
        items = [(e.dst, e.seq) for e in broken if e.precursors - {self.ctx.address}]
        for e in broken:
            e.precursors.clear()
        for i in range(0, len(items), 255):
            chunk = tuple(items[i:i + 255])
            self._broadcast(wire.RERR(chunk))
            self.ctx.emit("rerr_sent", dsts=[d for d, _ in chunk], to=BROADCAST, no_delete=False)

    def _link_broken(self, neighbour: str) -> None:
        broken = [e for e in self.table.values() if e.valid and e.next_hop == neighbour]
        for e in broken:
            self._invalidate(e)
        self._send_rerr(broken)

    # --- discovery ----------------------------------------------------------------------------

    def _start_discovery(self, dst: str, refresh: bool = False) -> None:
        if dst in self.discoveries or dst == self.ctx.address or dst in _NOT_UNICAST:
            return
        d = self.discoveries[dst] = Discovery(dst, refresh=refresh)
        self.ctx.emit("route_discovery_started", dst=dst)
        self._send_rreq(d)

    def _send_rreq(self, d: Discovery) -> None:
        p = self.params
        self.seq = seq_next(self.seq)
        self.rreq_id = (self.rreq_id + 1) & 0xFFFFFFFF
        me = self.ctx.address
        self._broadcast(wire.RREQ(rreq_id=self.rreq_id, orig=me, orig_seq=self.seq, dst=d.dst,
                                  ttl=p.net_diameter))
        self.ctx.emit("rreq_sent", dst=d.dst, orig=me, rreq_id=self.rreq_id, ttl=p.net_diameter,
                      forwarded=False)
        wait = p.reply_wait + p.discovery_timeout * 2 ** d.tries
        d.timer = self._timers.later(wait, self._discovery_timeout, d)

    def _discovery_timeout(self, d: Discovery) -> None:
        if self.discoveries.get(d.dst) is not d:
            return
        if d.tries < self.params.rreq_retries:
            d.tries += 1
            self._send_rreq(d)
            return
        self._discovery_over(d.dst)
        self.ctx.emit("route_discovery_failed", dst=d.dst)
        for packet in self.queue.take(d.dst):
            self.ctx.drop(packet, "discovery_failed")

    def _discovery_over(self, dst: str) -> Discovery | None:
        d = self.discoveries.pop(dst, None)
        if d is not None and d.timer is not None:
            self._timers.cancel(d.timer)
        return d

    def _release(self, dst: str) -> None:
        for packet in self.queue.take(dst):
            self.ctx.send_packet(packet)

    def _buffer(self, packet: Packet) -> None:
        self.ctx.hold(packet)
        for old in self.queue.enqueue(packet, self.ctx.now):
            self.ctx.drop(old, "queue_full")

    # --- data plane hooks ---------------------------------------------------------------------

    def on_no_route(self, packet: Packet) -> None:
        e = self.table.get(packet.dst)
        if e is not None and e.valid:  # the mirror lapsed a moment early
            self._mirror(e, force=True)
            self.ctx.send_packet(packet)
            return
        if packet.src == self.ctx.address:
            self._buffer(packet)
            self._start_discovery(packet.dst)
            return
        now = self.ctx.now
        if now - self._rerr_at.get(packet.dst, -_RERR_GAP) >= _RERR_GAP:
            self._rerr_at[packet.dst] = now
            seq = e.seq if e is not None else 0
            self._broadcast(wire.RERR(((packet.dst, seq),)))
            self.ctx.emit("rerr_sent", dsts=[packet.dst], to=BROADCAST, no_delete=False)
        self.ctx.drop(packet, "no_route")

    def on_data(self, packet: Packet, prev_hop: str | None, next_hop: str | None) -> None:
        """Data keeps its routes alive; a source refreshes a route older than
        ``refresh_interval``."""
        now, p = self.ctx.now, self.params
        until = now + p.active_route_timeout
        if next_hop is not None:
            e = self.table.get(packet.dst)
            if e is not None and e.valid:
                if until > e.expires:
                    e.expires = until
                    self._mirror(e)
                if prev_hop is not None:
                    e.precursors.add(prev_hop)
                elif (p.refresh_interval > 0 and now - e.learnt >= p.refresh_interval
                      and packet.dst not in self.discoveries):
                    self._start_discovery(packet.dst, refresh=True)
        if prev_hop is not None:
            back = self.table.get(packet.src)
            if back is not None and back.valid and until > back.expires:
                back.expires = until
                self._mirror(back)

    def on_link_failure(self, next_hop: str, packet: Packet | None) -> None:
        """A unicast to ``next_hop`` failed after the MAC's retries."""
        if not self._running:
            return
        pinned = self._pinned.get(next_hop)
        level = self.full_power if pinned is None else pinned
        if packet is None:
            last = self._last_rrep.get(next_hop)
            if last is not None and not last[1] and last[0].tx_cdbm < wire.cdbm(self.full_power):
                # an RREP lost at reduced power: once more at full power
                msg = dataclasses.replace(last[0], tx_cdbm=wire.cdbm(self.full_power))
                self._last_rrep[next_hop] = (msg, True)
                self.ctx.send(next_hop, wire.encode(msg), tx_power_dbm=self.full_power)
                return
            self._link_broken(next_hop)
            return
        meta = packet.meta
        if level < self.full_power and not (meta and meta.get(_RETRY)):
            # at reduced power: once more at full power before calling the link broken
            packet.meta = {**(meta or {}), _RETRY: True}
            self.ctx.set_link_power(next_hop, self.full_power)
            try:
                self.ctx.send_packet(packet)
            finally:
                self.ctx.set_link_power(next_hop, pinned)
            return
        self._link_broken(next_hop)
        if packet.src == self.ctx.address:
            self._buffer(packet)
            self._start_discovery(packet.dst)

    # --- housekeeping -------------------------------------------------------------------------

    def _tick(self) -> None:
        now = self.ctx.now
        for e in self.table.values():
            if e.valid and e.expires <= now:
                e.valid = False
                if self._mirrored.pop(e.dst, None) is not None:
                    self.ctx.routes.remove(e.dst)
                self.ctx.emit("route_expired", dst=e.dst)
        self.requests.expire(now)
        for packet in self.queue.expire(now):
            self.ctx.drop(packet, "queue_timeout")
        self._timers.later(_TICK, self._tick)

    # --- introspection ------------------------------------------------------------------------

    def table_rows(self) -> list[dict[str, Any]]:
        return [{"dst": e.dst, "next_hop": e.next_hop, "metric": e.hops, "seqno": e.seq,
                 "expires": e.expires, "state": "valid" if e.valid else "invalid",
                 "cost": e.cost, "battery": round(e.battery / wire.BATTERY_FULL, 4),
                 "power_dbm": self._pinned.get(e.next_hop, self.full_power)}
                for e in self.table.values()]


class MTPR(PowerRouting):
    """Minimum Total Transmission Power Routing."""

    name = "mtpr"
    description = ("Minimum Total Transmission Power Routing: on-demand, the route with the "
                   "least total hop power, each hop at the lowest power level that reaches")

    def route_key(self) -> Callable[[int, int, int], Key]:
        return mtpr_key

    def battery_blind(self) -> bool:
        return True


class MMBCR(PowerRouting):
    """Min-Max Battery Cost Routing."""

    name = "mmbcr"
    description = ("Min-Max Battery Cost Routing (Toh 2001): on-demand, the route whose weakest "
                   "relay has the most battery left; per-hop transmit power control")

    def route_key(self) -> Callable[[int, int, int], Key]:
        return mmbcr_key


class CMMBCR(PowerRouting):
    """Conditional Max-Min Battery Capacity Routing."""

    name = "cmmbcr"
    description = ("Conditional Max-Min Battery Capacity Routing (Toh 2001): MTPR among routes "
                   "whose relays all keep battery >= gamma, else MMBCR")
    Params = CmmbcrParams

    def route_key(self) -> Callable[[int, int, int], Key]:
        return cmmbcr_key(self.params.gamma)

    def battery_blind(self) -> bool:
        return self.params.gamma == 0


def _ms(seconds: float) -> int:
    return max(0, min(0xFFFFFFFF, int(round(seconds * 1000))))


__all__ = ["CMMBCR", "MMBCR", "MTPR", "PowerRouting"]
