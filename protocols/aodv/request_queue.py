"""Data packets waiting for a route discovery (RFC 3561 §6.3; ns-3 RequestQueue).

One queue per node, bounded in length and in waiting time. When it is full the oldest packet
makes room, as in ns-3: the newest packet is the one most likely still useful.
"""

from __future__ import annotations

from collections import deque

from meshnet.protocol_api import Packet


class RequestQueue:
    def __init__(self, max_len: int, timeout: float) -> None:
        self.max_len = max_len
        self.timeout = timeout
        self._items: deque[tuple[float, Packet]] = deque()  # (deadline, packet), oldest first

    def __len__(self) -> int:
        return len(self._items)

    def enqueue(self, packet: Packet, now: float) -> list[Packet]:
        """Queue ``packet``; return the packets pushed out to make room (possibly ``packet``
        itself when the queue holds nothing)."""
        if self.max_len <= 0:
            return [packet]
        evicted = []
        while len(self._items) >= self.max_len:
            evicted.append(self._items.popleft()[1])
        self._items.append((now + self.timeout, packet))
        return evicted

    def has(self, dst: str) -> bool:
        return any(p.dst == dst for _, p in self._items)

    def take(self, dst: str) -> list[Packet]:
        """Remove and return every packet for ``dst``, oldest first."""
        out = [p for _, p in self._items if p.dst == dst]
        if out:
            self._items = deque(item for item in self._items if item[1].dst != dst)
        return out

    def expire(self, now: float) -> list[Packet]:
        out = []
        while self._items and self._items[0][0] <= now:
            out.append(self._items.popleft()[1])
        return out

    def next_expiry(self) -> float | None:
        return self._items[0][0] if self._items else None

    def destinations(self) -> set[str]:
        return {p.dst for _, p in self._items}
