"""A scripted node context for unit tests of sans-I/O protocols.

It implements :class:`meshnet.protocol_api.NodeContext` with a manual clock: tests call
``advance(dt)`` to fire timers, inspect ``sent`` / ``dropped`` / ``held`` / ``events`` and the
route table. No engine, no sockets: what a protocol does is exactly what it asked its context to do.
"""

from __future__ import annotations

import heapq
import itertools
import random
from typing import Any, Callable

from meshnet.protocol_api import BROADCAST, Packet, Route


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
                 position: tuple[float, float] = (0.0, 0.0)) -> None:
        self.node_id = node_id
        self.address = address
        self.random = random.Random(seed)
        self.tx_power = 0.0
        self.power_levels = (0.0, -1.0, -3.0, -5.0, -7.0, -10.0, -15.0, -25.0)
        self.persistent: dict[str, Any] = {}
        self.sent_power: list[float | None] = []  # tx_power_dbm of each entry of ``sent``
        self.link_power: dict[str, float] = {}
        self.routes = FakeRoutes(self)
        self._now = 0.0
        self._timers: list[tuple[float, int, FakeTimer, Callable[..., Any], tuple]] = []
        self._seq = itertools.count()
        self.sent: list[tuple[str, bytes]] = []  # (next hop or BROADCAST, payload)
        self.data_sent: list[Packet] = []  # packets handed back with send_packet
        self.dropped: list[tuple[Packet, str]] = []
        self.held: list[Packet] = []
        self.events: list[tuple[str, dict[str, Any]]] = []
        self._position = position
        self.locations: dict[str, tuple[float, float]] = {}
        self.battery_fraction = 1.0

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
        self.sent.append((BROADCAST, payload))
        self.sent_power.append(tx_power_dbm)

    def send(self, next_hop: str, payload: bytes, tx_power_dbm: float | None = None) -> None:
        self.sent.append((next_hop, payload))
        self.sent_power.append(tx_power_dbm)

    def set_link_power(self, next_hop: str, tx_power_dbm: float | None) -> None:
        if tx_power_dbm is None:
            self.link_power.pop(next_hop, None)
        else:
            self.link_power[next_hop] = float(tx_power_dbm)

    def send_packet(self, packet: Packet) -> None:
        self.data_sent.append(packet)

    def drop(self, packet: Packet, reason: str) -> None:
        self.dropped.append((packet, reason))

    def hold(self, packet: Packet) -> None:
        self.held.append(packet)

    def position(self) -> tuple[float, float]:
        return self._position

    def location_of(self, address: str):
        return self.locations.get(address)

    def battery(self) -> float:
        return self.battery_fraction

    def emit(self, kind: str, **fields: Any) -> None:
        self.events.append((kind, fields))

    def take_sent(self) -> list[tuple[str, bytes]]:
        out, self.sent = self.sent, []
        self.sent_power = []
        return out
