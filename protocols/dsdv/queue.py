"""Packets waiting for a DSDV route (optional, as ns-3's EnableBuffering).

A proactive protocol has no discovery to wait for, but a route may appear with the next update;
buffering a few packets per destination for a while saves them. Bounds follow ns-3: 500 packets in
all, 5 per destination, 30 s each. The queue only keeps order and limits; the protocol owns timers.
"""

from __future__ import annotations

from collections import OrderedDict

from meshnet.protocol_api import Packet


class PacketQueue:
    def __init__(self, max_len: int, max_per_dst: int) -> None:
        self.max_len = max_len
        self.max_per_dst = max_per_dst
        self._by_dst: OrderedDict[str, list[Packet]] = OrderedDict()
        self._size = 0

    def __len__(self) -> int:
        return self._size

    def push(self, packet: Packet) -> bool:
        """Queue ``packet``; False (nothing queued) when a bound is reached."""
        waiting = self._by_dst.get(packet.dst, [])
        if self._size >= self.max_len or len(waiting) >= self.max_per_dst:
            return False
        self._by_dst.setdefault(packet.dst, waiting).append(packet)
        self._size += 1
        return True

    def pop_all(self, dst: str) -> list[Packet]:
        packets = self._by_dst.pop(dst, [])
        self._size -= len(packets)
        return packets

    def discard(self, packet: Packet) -> bool:
        """Remove one packet (its wait expired); False if it already left the queue."""
        waiting = self._by_dst.get(packet.dst)
        if not waiting:
            return False
        for i, p in enumerate(waiting):
            if p is packet:
                del waiting[i]
                self._size -= 1
                if not waiting:
                    del self._by_dst[packet.dst]
                return True
        return False

    def destinations(self) -> list[str]:
        return list(self._by_dst)
