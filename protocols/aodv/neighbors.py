"""Hello-based neighbour liveness (RFC 3561 §6.9, §6.10).

A neighbour is alive while it was heard (hello or any other packet) within
ALLOWED_HELLO_LOSS * HELLO_INTERVAL; after that the link counts as broken.
"""

from __future__ import annotations

_NEVER = float("-inf")


class Neighbors:
    def __init__(self) -> None:
        self._deadline: dict[str, float] = {}

    def __contains__(self, address: str) -> bool:
        return address in self._deadline

    def __iter__(self):
        return iter(list(self._deadline))

    def heard(self, address: str, deadline: float) -> None:
        deadlines = self._deadline
        if deadline > deadlines.get(address, _NEVER):
            deadlines[address] = deadline

    def forget(self, address: str) -> None:
        self._deadline.pop(address, None)

    def expired(self, now: float) -> list[str]:
        deadlines = self._deadline
        if not deadlines or min(deadlines.values()) > now:
            return []  # the common case, tested without a Python loop
        gone = [a for a, t in deadlines.items() if t <= now]
        for a in gone:
            del deadlines[a]
        return gone

    def next_expiry(self) -> float | None:
        return min(self._deadline.values(), default=None)
