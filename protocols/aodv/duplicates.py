"""Duplicate detection for flooded RREQs (RFC 3561 §6.5): an (originator, RREQ ID) pair seen
within PATH_DISCOVERY_TIME is dropped. Entries expire in insertion order, so a deque suffices."""

from __future__ import annotations

from collections import deque
from typing import Hashable


class DuplicateCache:
    def __init__(self, lifetime: float) -> None:
        self.lifetime = lifetime
        self._seen: set[Hashable] = set()
        self._order: deque[tuple[float, Hashable]] = deque()

    def __len__(self) -> int:
        return len(self._seen)

    def seen(self, key: Hashable, now: float) -> bool:
        """True if ``key`` was recorded within the lifetime; otherwise record it and say False."""
        while self._order and self._order[0][0] <= now:
            self._seen.discard(self._order.popleft()[1])
        if key in self._seen:
            return True
        self._seen.add(key)
        self._order.append((now + self.lifetime, key))
        return False
