"""The neighbour table: each one-hop neighbour's last beaconed position and when it expires
(Karp & Kung 2000: an entry lives for the timeout T after the neighbour's last beacon and
is removed at once on a link-layer transmission failure)."""

from __future__ import annotations

from dataclasses import dataclass

Point = tuple[int, int]


@dataclass(slots=True)
class Neighbor:
    address: str
    position: Point  # mm
    expires: float


class NeighborTable:
    def __init__(self) -> None:
        self._entries: dict[str, Neighbor] = {}

    def update(self, address: str, position: Point, expires: float) -> bool:
        """Record a beacon; True if the neighbour is new."""
        entry = self._entries.get(address)
        if entry is None:
            self._entries[address] = Neighbor(address, position, expires)
            return True
        entry.position = position
        entry.expires = expires
        return False

    def remove(self, address: str) -> Neighbor | None:
        return self._entries.pop(address, None)

    def get(self, address: str, now: float) -> Neighbor | None:
        entry = self._entries.get(address)
        return entry if entry is not None and entry.expires > now else None

    def live(self, now: float) -> dict[str, Point]:
        """Address -> position of every neighbour that has not timed out."""
        return {a: e.position for a, e in self._entries.items() if e.expires > now}

    def purge(self, now: float) -> list[str]:
        """Drop timed-out entries; their addresses."""
        gone = [a for a, e in self._entries.items() if e.expires <= now]
        for a in gone:
            del self._entries[a]
        return gone

    def entries(self) -> list[Neighbor]:
        return list(self._entries.values())

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, address: str) -> bool:
        return address in self._entries
