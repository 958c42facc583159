"""Values keyed by a control message's UDP payload, passed between the channel and an agent.

The channel and a node's agent see the same control message at two ends of the node's kernel:
the agent's transmit power hint is left before ``sendto`` and taken when the frame reaches the
channel; the received power is left when the channel writes a frame into the TAP and taken when
the agent's socket reads it. A node's kernel hands its sockets the frames written into its TAP in
order, so when the agent takes the received power of a message, every entry left before it
belongs to a message the kernel dropped on the way (a full socket buffer while the agent lags
behind, a frame the stack refused): ``take`` removes those and counts them as ``lost``. Sent
messages may leave the kernel out of order (a unicast waiting for ARP), so their hints are
removed one by one (``pop``). A hard cap (oldest out first, counted as ``evicted``) bounds an
end that never takes (a dead agent, a hint whose frame the kernel dropped). Without this, an
emulation that fell behind kept thousands of stale entries per node.
"""

from __future__ import annotations

from collections import deque

DEFAULT_CAP = 256
"""Entries kept per node: more messages than a default UDP receive buffer (~208 KiB, ~1 KiB of
it per small datagram) can hold for an agent."""


class PayloadBook:
    """``payload -> value`` for messages in flight, oldest first. A payload may be in flight
    more than once (two neighbours relaying the same RREQ send identical bytes); each copy
    keeps its own value."""

    __slots__ = ("_queue", "_count", "cap", "lost", "evicted")

    def __init__(self, cap: int = DEFAULT_CAP) -> None:
        if cap < 1:
            raise ValueError(f"cap must be at least 1, not {cap}")
        self._queue: deque[tuple[bytes, float]] = deque()  # copies waiting, oldest first
        self._count: dict[bytes, int] = {}                 # payload -> copies waiting
        self.cap = cap
        self.lost = 0      # copies whose message never reached the other end
        self.evicted = 0   # copies pushed out by the cap

    def put(self, payload: bytes, value: float) -> None:
        """Leave ``value`` for one more copy of the message ``payload``."""
        if len(self._queue) >= self.cap:
            self._forget(self._queue.popleft()[0])
            self.evicted += 1
        self._queue.append((payload, value))
        count = self._count
        count[payload] = count.get(payload, 0) + 1

    def take(self, payload: bytes) -> float | None:
        """The value of the oldest copy of ``payload`` (None if none); copies of other messages
        left before it are dropped and counted as ``lost``."""
        if payload not in self._count:
            return None
        queue = self._queue
        while True:
            key, value = queue.popleft()
            self._forget(key)
            if key == payload:
                return value
            self.lost += 1

    def pop(self, payload: bytes) -> float | None:
        """The value of the oldest copy of ``payload`` (None if none), leaving the others: for
        an end whose messages may be reordered (a unicast waiting for ARP lets a later
        broadcast pass)."""
        if payload not in self._count:
            return None
        queue = self._queue
        for k, (key, value) in enumerate(queue):
            if key == payload:
                del queue[k]
                self._forget(key)
                return value
        return None  # not reached: every counted copy is queued

    def _forget(self, payload: bytes) -> None:
        count = self._count
        left = count[payload] - 1
        if left:
            count[payload] = left
        else:
            del count[payload]

    def __len__(self) -> int:
        return len(self._queue)

    def __bool__(self) -> bool:
        return bool(self._queue)

    def __contains__(self, payload: object) -> bool:
        return payload in self._count
