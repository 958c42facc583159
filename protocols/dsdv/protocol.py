"""DSDV: Destination-Sequenced Distance-Vector routing (Perkins & Bhagwat, SIGCOMM 1994).

Behaviour and defaults follow the ns-2/ns-3 implementations:

- every node originates an even sequence number for itself, raised by 2 with each periodic full
  dump (every ``periodic_update_interval`` s, jittered); a node that loses a route announces the
  next odd number with an infinite metric;
- a route with a newer sequence number is always taken; with the same number, the lower metric;
- significant changes (new routes, broken routes, newer sequence numbers, settled metric changes)
  go out in incremental updates, batched for ``route_aggregation_time``;
- a changed metric is used at once but advertised only after the settling time, a weighted average
  (``weighted_factor``) of how long the best advertisement of a sequence number took to follow the
  first one;
- a route is broken when its next hop has not confirmed it for ``holdtimes`` periodic intervals,
  when the next hop advertises the break, or on link-layer feedback (``on_link_failure``).

A killed and revived node gets a new instance and an empty table, but its own sequence number
lives in ``ctx.persistent`` (saved on every change) and the new instance resumes two above it.
Its neighbours gave its broken route the last number it advertised plus one (odd); starting over
from 0 would have them reject its updates until its number caught up or a neighbour told it of
the break. Resuming, even its first update is fresher than that.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from meshnet.protocol_api import BROADCAST, Packet, Protocol, ProtocolConfigError

from ..auth import MessageAuth, derive_key
from .queue import PacketQueue
from .table import DsdvEntry, DsdvTable
from .wire import INFINITY, Entry, Update, decode, encode, split_auth

START_JITTER = 1.0  # s: first full dump spread so that nodes started together do not collide
PERIODIC_JITTER = 0.025  # s: added to each periodic interval (ns-3: 0..25 ms)
TRIGGER_JITTER = 0.01  # s: added to the aggregation delay of triggered updates
_UNROUTABLE = frozenset({BROADCAST, "0.0.0.0"})
# Sequence numbers grow by 2 per periodic interval and never come near 2**32 in a real run; larger
# advertised values are bogus and would overflow the uint32 field when raised further.
MAX_SEQNO = 0xFFFF_FF00


@dataclass
class DsdvParams:
    """DSDV tunables, named and defaulted as in ns-3's ``ns3::dsdv::RoutingProtocol``."""

    periodic_update_interval: float = 15.0  # s between full dumps
    settling_time: float = 5.0  # s; initial (and, unweighted, fixed) delay before a new metric is advertised
    holdtimes: int = 3  # a route expires after holdtimes x periodic_update_interval without refresh
    weighted_factor: float = 0.875  # weight of the past in the settling-time average
    enable_weighted_settling: bool = True  # False: always wait exactly settling_time
    route_aggregation_time: float = 1.0  # s to batch triggered updates
    enable_buffering: bool = False  # keep packets without a route until one appears
    max_queue_len: int = 500  # packets buffered in all
    max_queued_per_dst: int = 5  # packets buffered per destination
    max_queue_time: float = 30.0  # s a buffered packet may wait
    # Authenticated updates (docs/security.md): "" is off; 32+ hex digits are the HMAC key, any
    # other string a passphrase hashed into one. Every node of the network needs the same.
    auth_key: str = ""
    auth_window: float = 2.0  # s: a signed update older than this is a replay (0: no window)

    def __post_init__(self) -> None:
        """Reject values that break the protocol: a zero period sends updates back to back (a
        control storm), a weight outside [0, 1] makes the settling average diverge; every
        number has a range (docs/protocols.md). Comparisons are written so that NaN fails them
        too."""
        ranges = (("periodic_update_interval", 0.01, 86400.0),
                  ("settling_time", 0.0, 1e6),
                  ("weighted_factor", 0.0, 1.0),
                  ("holdtimes", 1, 1000),
                  ("route_aggregation_time", 0.0, 3600.0),
                  ("max_queue_len", 1, 1_000_000),
                  ("max_queued_per_dst", 1, 1_000_000),
                  ("max_queue_time", 0.0, 1e6),
                  ("auth_window", 0.0, 1e6))
        for name, low, high in ranges:
            if not low <= getattr(self, name) <= high:
                raise ProtocolConfigError(f"protocol.{name} = {getattr(self, name)!r}: must be "
                                          f">= {low:g} and <= {high:g}")


class DSDV(Protocol):
    """Proactive distance-vector routing with destination sequence numbers."""

    name = "dsdv"
    port = 269  # UDP port used by ns-3
    reactive = False
    description = ("Destination-Sequenced Distance-Vector (Perkins & Bhagwat 1994): proactive, "
                   "periodic and triggered updates, sequence numbers against loops, settling time")
    Params = DsdvParams

    def __init__(self, ctx: Any, params: DsdvParams | None = None) -> None:
        super().__init__(ctx, params)
        self.table = DsdvTable()
        store = getattr(ctx, "persistent", None)
        # survives a kill and revive: own sequence number (see the module docstring)
        self._memory: dict[str, Any] = {} if store is None else store.setdefault(self.name, {})
        self._seqno = 0  # own sequence number, always even
        self.neighbours: dict[str, float] = {}  # address -> last time heard
        self.queue = PacketQueue(self.params.max_queue_len, self.params.max_queued_per_dst)
        self._running = False
        self._own_changed = False
        self._periodic_timer: Any = None
        self._batch_timer: Any = None
        # authenticated updates (docs/security.md); None: off, bytes as without authentication
        self._auth = (MessageAuth(derive_key(self.params.auth_key), ctx.address, self._memory,
                                  self.params.auth_window) if self.params.auth_key else None)

    @property
    def seqno(self) -> int:
        """Own sequence number (even); every change is saved in ``ctx.persistent``."""
        return self._seqno

    @seqno.setter
    def seqno(self, value: int) -> None:
        self._seqno = self._memory["seqno"] = value

    @property
    def hold_time(self) -> float:
        return self.params.holdtimes * self.params.periodic_update_interval

    # lifecycle

    def start(self) -> None:
        if self._running:
            return
        self._forget_everything()
        if "seqno" in self._memory:  # restarted: fresher than the break neighbours recorded
            self.seqno = self._memory["seqno"] + 2
        else:
            self.seqno = self._seqno
        self._running = True
        jitter = self.ctx.random.uniform(0.0, min(START_JITTER, self.params.periodic_update_interval))
        self._periodic_timer = self.ctx.call_later(jitter, self._periodic_update)

    def stop(self) -> None:
        self._running = False
        for timer in (self._periodic_timer, self._batch_timer):
            if timer is not None:
                timer.cancel()
        self._periodic_timer = self._batch_timer = None
        for entry in self.table:
            if entry.settle_timer is not None:
                entry.settle_timer.cancel()
                entry.settle_timer = None

    def _forget_everything(self) -> None:
        """A restarted node starts from an empty table (its sequence number keeps growing)."""
        for entry in self.table:
            self.table.delete(entry.dst)
            if entry.valid:
                self.ctx.routes.remove(entry.dst)
        self.neighbours.clear()

    # control plane

    def on_control(self, src: str, payload: bytes) -> None:
        if src == self.ctx.address or not self._running:
            return  # own broadcast echo, or a dead node
        update = decode(payload)
        now = self.ctx.now
        if self._auth is not None and not self._authentic(src, bytes(payload), now):
            return
        self.neighbours[src] = now
        for entry in update.entries:
            self._consider(src, entry, now)
        if self._own_changed or self.table.has_changes():
            self._schedule_triggered()

    def _authentic(self, src: str, data: bytes, now: float) -> bool:
        """Whether the update's trailer holds; if not, an ``auth_failed`` or ``auth_replayed``
        event says why and the update is ignored (the sender is not even a neighbour)."""
        body, trailer = split_auth(data)
        verdict = self._auth.verify(src, body, trailer, now)
        if verdict.ok:
            return True
        if verdict.status == "replayed":
            self.ctx.emit("auth_replayed", src=src, signer=verdict.signer, reason=verdict.reason)
        else:
            self.ctx.emit("auth_failed", src=src, reason=verdict.reason)
        return False

    def _consider(self, src: str, adv: Entry, now: float) -> None:
        seqno = adv.seqno
        cur = self.table.get(adv.dst)
        if cur is not None and seqno == cur.seqno and not seqno & 1 and cur.metric < INFINITY:
            # Most entries of a periodic dump repeat the sequence number in use: only a shorter
            # metric changes anything (in _consider_route); the next hop's own repeat refreshes.
            metric = adv.metric + 1
            if metric >= cur.metric:
                if metric == cur.metric and src == cur.next_hop:
                    cur.last_refresh = now
                return
        if seqno > MAX_SEQNO:
            return
        if adv.dst == self.ctx.address:
            if adv.broken and adv.seqno > self.seqno:
                # Someone declared us unreachable: answer with a fresher even number at once.
                self.seqno = adv.seqno + 1
                self._own_changed = True
            return
        if adv.dst in _UNROUTABLE:
            return
        if adv.broken:
            self._consider_break(src, adv, cur, now)
        elif adv.metric + 1 < INFINITY:
            self._consider_route(src, adv.dst, seqno, adv.metric + 1, cur, now)

    def _consider_route(self, src: str, dst: str, seqno: int, metric: int,
                        cur: DsdvEntry | None, now: float) -> None:
        if cur is None or not cur.valid:
            if cur is not None and seqno <= cur.seqno:
                return  # older than the break we know of
            settling = cur.settling if cur is not None else self.params.settling_time
            entry = DsdvEntry(dst, src, metric, seqno, now, seqno, metric,
                              first_heard=now, settling=settling)
            self.table.put(entry)
            self._install(entry)
            self._release_queued(dst)
            return
        if seqno > cur.seqno:
            cur.seqno, cur.next_hop, cur.metric = seqno, src, metric
            cur.first_heard = cur.last_refresh = now
            self._install(cur)
            if metric == cur.adv_metric:
                cur.advertise_now()  # only the sequence number moved: no need to settle
            elif not cur.pending:
                self._start_settling(cur)
        elif seqno == cur.seqno:
            if metric < cur.metric:
                self._sample_settling(cur, now)
                cur.next_hop, cur.metric, cur.last_refresh = src, metric, now
                self._install(cur)
                if metric == cur.adv_metric and seqno == cur.adv_seqno:
                    cur.advertise_now()
                elif not cur.pending:
                    self._start_settling(cur)
            elif src == cur.next_hop and metric == cur.metric:
                cur.last_refresh = now

    def _consider_break(self, src: str, adv: Entry, cur: DsdvEntry | None, now: float) -> None:
        if cur is None:
            return
        if cur.valid:
            if src == cur.next_hop and adv.seqno > cur.seqno:
                self._break(cur, adv.seqno, now)
            elif cur.adv_seqno > adv.seqno and not cur.pending:
                cur.changed = True  # we know a fresher route: tell the neighbour soon
        elif adv.seqno > cur.seqno:
            cur.seqno = cur.adv_seqno = adv.seqno

    # settling

    def _sample_settling(self, entry: DsdvEntry, now: float) -> None:
        """The best route for this seqno arrived: fold its delay into the weighted average."""
        if self.params.enable_weighted_settling:
            w = self.params.weighted_factor
            entry.settling = w * entry.settling + (1.0 - w) * (now - entry.first_heard)

    def _start_settling(self, entry: DsdvEntry) -> None:
        delay = (entry.settling if self.params.enable_weighted_settling
                 else self.params.settling_time)
        entry.settle_timer = self.ctx.call_later(delay, self._settled, entry)

    def _settled(self, entry: DsdvEntry) -> None:
        entry.settle_timer = None
        if self.table.get(entry.dst) is not entry or not entry.valid:
            return
        entry.advertise_now()
        self.ctx.emit("route_settled", dst=entry.dst, next_hop=entry.next_hop,
                      metric=entry.metric, seqno=entry.seqno)
        self._schedule_triggered()

    # breaks and expiry

    def on_link_failure(self, next_hop: str, packet: Packet | None) -> None:
        if not self._running:
            return
        self._lose_neighbour(next_hop)
        if packet is not None and self.params.enable_buffering:
            self._buffer(packet)

    def _lose_neighbour(self, neighbour: str) -> None:
        self.neighbours.pop(neighbour, None)
        now = self.ctx.now
        broken = self.table.valid_via(neighbour)
        for entry in broken:
            self._break(entry, entry.seqno + 1, now)
        if broken:
            self._schedule_triggered()

    def _break(self, entry: DsdvEntry, seqno: int, now: float) -> None:
        next_hop = entry.next_hop
        entry.mark_broken(seqno, now)
        self.ctx.routes.remove(entry.dst)
        self.ctx.emit("route_broken", dst=entry.dst, next_hop=next_hop, seqno=seqno)

    def _purge(self, now: float) -> None:
        """Missed updates: neighbours and routes silent for the hold time are gone."""
        hold = self.hold_time
        for neighbour, heard in list(self.neighbours.items()):
            if now - heard > hold:
                self._lose_neighbour(neighbour)
        for entry in self.table.stale(now, hold):
            self._break(entry, entry.seqno + 1, now)
        for entry in self.table.expired_broken(now, hold):
            self.table.delete(entry.dst)

    # sending updates

    def _periodic_update(self) -> None:
        if not self._running:
            return
        now = self.ctx.now
        self._purge(now)
        self.seqno += 2
        self._own_changed = False
        entries = [Entry(self.ctx.address, self.seqno, 0)]
        for entry in self.table:
            entries.append(Entry(entry.dst, entry.adv_seqno, entry.adv_metric))
            if not entry.pending:
                entry.changed = False
        self._send(Update(True, tuple(entries)))
        interval = self.params.periodic_update_interval
        self._periodic_timer = self.ctx.call_later(
            interval + self.ctx.random.uniform(0.0, PERIODIC_JITTER), self._periodic_update)

    def _schedule_triggered(self) -> None:
        if self._batch_timer is None and self._running:
            delay = self.params.route_aggregation_time + self.ctx.random.uniform(0.0, TRIGGER_JITTER)
            self._batch_timer = self.ctx.call_later(delay, self._triggered_update)

    def _triggered_update(self) -> None:
        self._batch_timer = None
        if not self._running:
            return
        changed = [e for e in self.table if e.changed and not e.pending]
        if not changed and not self._own_changed:
            return
        self._own_changed = False
        entries = [Entry(self.ctx.address, self.seqno, 0)]
        for entry in changed:
            entries.append(Entry(entry.dst, entry.adv_seqno, entry.adv_metric))
            entry.changed = False
        self._send(Update(False, tuple(entries)))

    def _send(self, update: Update) -> None:
        if self._auth is None:
            self.ctx.broadcast(encode(update))
        else:
            body = encode(Update(update.full, update.entries, authenticated=True))
            self.ctx.broadcast(body + self._auth.trailer(body, self.ctx.now))
        self.ctx.emit("update_sent", mode="full" if update.full else "incremental",
                      entries=len(update.entries))

    # forwarding table and buffering

    def _install(self, entry: DsdvEntry) -> None:
        self.ctx.routes.add(entry.dst, entry.next_hop, metric=entry.metric, seqno=entry.seqno)

    def on_no_route(self, packet: Packet) -> None:
        if self.params.enable_buffering:
            self._buffer(packet)
        else:
            self.ctx.drop(packet, "no_route")

    def _buffer(self, packet: Packet) -> None:
        if not self.queue.push(packet):
            self.ctx.drop(packet, "queue_full")
            return
        self.ctx.hold(packet)
        self.ctx.call_later(self.params.max_queue_time, self._expire_buffered, packet)

    def _expire_buffered(self, packet: Packet) -> None:
        if self.queue.discard(packet):
            self.ctx.drop(packet, "no_route")

    def _release_queued(self, dst: str) -> None:
        for packet in self.queue.pop_all(dst):
            self.ctx.send_packet(packet)

    # introspection

    def table_rows(self) -> list[dict[str, Any]]:
        rows = []
        for e in sorted(self.table, key=lambda e: e.dst):
            state = "valid" if e.valid else "broken"
            if e.pending:
                state = "settling"
            rows.append({"dst": e.dst, "next_hop": e.next_hop, "metric": e.metric,
                         "seqno": e.seqno, "expires": e.last_refresh + self.hold_time
                         if e.valid else None, "state": state})
        return rows
