"""Duplicate-suppressed flooding with TTL: the reference plug-in.

Every node rebroadcasts each data packet the first time it sees it; the destination delivers it.
No control traffic, no tables: it proves the protocol API and the engine end to end, and it is
the baseline every routing protocol should beat on overhead.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

from meshnet.protocol_api import BROADCAST, Packet, Protocol, ProtocolConfigError


class Flooding(Protocol):
    name = "flooding"
    per_packet = True
    description = "duplicate-suppressed flooding with TTL (reference protocol)"

    @dataclass
    class Params:
        cache_size: int = 4096  # packet ids remembered for duplicate suppression

        def __post_init__(self) -> None:  # 0 remembers nothing: every copy is sent on again
            if not self.cache_size >= 1:
                raise ProtocolConfigError(f"protocol.cache_size = {self.cache_size!r}: must be "
                                          ">= 1 (packet ids remembered against duplicates)")
            if not self.cache_size <= 10_000_000:
                raise ProtocolConfigError(f"protocol.cache_size = {self.cache_size!r}: must be "
                                          "<= 10000000")

    def __init__(self, ctx, params=None) -> None:
        super().__init__(ctx, params)
        self._seen: OrderedDict[int, None] = OrderedDict()

    def forward(self, packet: Packet, prev_hop: str | None) -> str | None:
        uid = packet.uid
        if uid in self._seen:
            return None  # a duplicate: discard silently
        self._seen[uid] = None
        if len(self._seen) > self.params.cache_size:
            self._seen.popitem(last=False)
        return BROADCAST

    def table_rows(self) -> list[dict]:
        return []
