"""A scripted node context for unit tests of sans-I/O protocols.

It implements :class:`meshnet.protocol_api.NodeContext` with a manual clock: tests call
``advance(dt)`` to fire timers, inspect ``sent`` / ``dropped`` / ``held`` / ``events`` and the
route table. No engine, no sockets: what a protocol does is exactly what it asked its context to do.

Where it differs from a backend, on purpose:

- it has no radio: ``broadcast`` / ``send`` / ``set_link_power`` accept any power (a backend
  refuses one outside its radio's range with ValueError); ``frame_power`` says the power each
  ``sent`` entry would go at;
- it hosts no protocol: a timer callback that raises propagates out of ``advance`` to the test
  (a backend counts it as a protocol error and goes on), and the node never dies or revives;
- ``held`` lists every packet ever held; ``queued`` those still held (not yet sent on or dropped),
  which is what a backend counts as queued;
- multicast: ``member_of`` is the set of groups ``groups()`` returns (a test edits it and calls
  ``on_join`` / ``on_leave`` itself); ``delivered`` and ``relayed`` list what the protocol
  passed to ``deliver`` and ``relay``, as given (no TTL handling, no membership filter).
"""

from __future__ import annotations

import heapq
import itertools
import random
from typing import Any, Callable

from meshnet.protocol_api import BROADCAST, Packet, Route


POWER_LEVELS = (0.0, -1.0, -3.0, -5.0, -7.0, -10.0, -15.0, -25.0)  # dBm, a CC2420's PA levels


class FakeTimer:
    def __init__(self) -> None:
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True


class FakeRoutes:
    def __init__(self, owner: "FakeContext") -> None:
        self._owner = owner
        self._routes: dict[str, Route] = {}

    def add(self, dst, next_hop, metric=1, seqno=None, expires=None) -> None:
        old = self._routes.get(dst)
        self._routes[dst] = Route(dst, next_hop, metric, seqno, expires)
        kind = "route_added" if old is None else "route_changed"
        if old is None or (old.next_hop, old.metric) != (next_hop, metric):
            self._owner.events.append((kind, {"dst": dst, "next_hop": next_hop, "metric": metric}))

    def remove(self, dst) -> None:
        if self._routes.pop(dst, None) is not None:
            self._owner.events.append(("route_removed", {"dst": dst}))

    def lookup(self, dst):
        return self._routes.get(dst)

    def __iter__(self):
        return iter(list(self._routes.values()))

    def __len__(self) -> int:
        return len(self._routes)


class FakeContext:
    """One node's context with a manual clock."""

    def __init__(self, address: str = "10.99.0.1", node_id: int = 0, seed: int = 1,
                 position: tuple[float, float] = (0.0, 0.0), tx_power: float = 0.0,
                 power_levels: tuple[float, ...] = POWER_LEVELS) -> None:
        self.node_id = node_id
        self.address = address
        self.random = random.Random(seed)
        self.tx_power = float(tx_power)
        # highest first, and the default is one of them (it is a power the radio can be set to)
        self.power_levels = tuple(sorted({float(p) for p in power_levels} | {self.tx_power},
                                         reverse=True))
        self.persistent: dict[str, Any] = {}
        self.sent_power: list[float | None] = []  # tx_power_dbm of each entry of ``sent``
        self.frame_power: list[float] = []  # dBm each entry of ``sent`` goes at
        self.link_power: dict[str, float] = {}
        self.rx_power_dbm: float | None = None  # set by a test before on_control
        self.routes = FakeRoutes(self)
        self._now = 0.0
        self._timers: list[tuple[float, int, FakeTimer, Callable[..., Any], tuple]] = []
        self._seq = itertools.count()
        self.sent: list[tuple[str, bytes]] = []  # (next hop or BROADCAST, payload)
        self.data_sent: list[Packet] = []  # packets handed back with send_packet
        self.dropped: list[tuple[Packet, str]] = []
        self.held: list[Packet] = []
        self._queued: dict[int, Packet] = {}  # id(packet) -> packet held, not yet sent or dropped
        self.events: list[tuple[str, dict[str, Any]]] = []
        self._position = position
        self.locations: dict[str, tuple[float, float]] = {}
        self.battery_fraction = 1.0
        self.member_of: set[str] = set()
        self.delivered: list[Packet] = []
        self.relayed: list[Packet] = []

    @property
    def now(self) -> float:
        return self._now

    def call_later(self, delay: float, fn: Callable[..., Any], *args: Any) -> FakeTimer:
        if not delay >= 0:
            raise ValueError(f"negative delay {delay}")
        timer = FakeTimer()
        heapq.heappush(self._timers, (self._now + delay, next(self._seq), timer, fn, args))
        return timer

    def advance(self, dt: float) -> None:
        """Move the clock forward by ``dt``, firing due timers in order."""
        end = self._now + dt
        while self._timers and self._timers[0][0] <= end:
            t, _, timer, fn, args = heapq.heappop(self._timers)
            self._now = t
            if not timer.cancelled:
                fn(*args)
        self._now = end

    def broadcast(self, payload: bytes, tx_power_dbm: float | None = None) -> None:
        self._sent(BROADCAST, payload, tx_power_dbm)

    def send(self, next_hop: str, payload: bytes, tx_power_dbm: float | None = None) -> None:
        self._sent(next_hop, payload, tx_power_dbm)

    def _sent(self, next_hop: str, payload: bytes, tx_power_dbm: float | None) -> None:
        self.sent.append((next_hop, payload))
        self.sent_power.append(tx_power_dbm)
        self.frame_power.append(float(tx_power_dbm) if tx_power_dbm is not None
                                else self.link_power.get(next_hop, self.tx_power))

    def set_link_power(self, next_hop: str, tx_power_dbm: float | None) -> None:
        if tx_power_dbm is None:
            self.link_power.pop(next_hop, None)
        else:
            self.link_power[next_hop] = float(tx_power_dbm)

    def send_packet(self, packet: Packet) -> None:
        self._queued.pop(id(packet), None)
        self.data_sent.append(packet)

    def drop(self, packet: Packet, reason: str) -> None:
        self._queued.pop(id(packet), None)
        self.dropped.append((packet, reason))

    def hold(self, packet: Packet) -> None:
        self._queued[id(packet)] = packet
        self.held.append(packet)

    @property
    def queued(self) -> list[Packet]:
        """Packets held and not yet sent on (``send_packet``) or dropped."""
        return list(self._queued.values())

    def position(self) -> tuple[float, float]:
        return self._position

    def location_of(self, address: str):
        return self.locations.get(address)

    def battery(self) -> float:
        return self.battery_fraction

    def emit(self, kind: str, **fields: Any) -> None:
        self.events.append((kind, fields))

    def groups(self) -> frozenset[str]:
        return frozenset(self.member_of)

    def deliver(self, packet: Packet) -> None:
        self.delivered.append(packet)

    def relay(self, packet: Packet) -> None:
        self.relayed.append(packet)

    def take_sent(self) -> list[tuple[str, bytes]]:
        out, self.sent = self.sent, []
        self.sent_power = []
        self.frame_power = []
        return out
