"""At most ``limit`` messages in any one-second window (RREQ_RATELIMIT, RERR_RATELIMIT)."""

from __future__ import annotations

from collections import deque


class RateLimiter:
    def __init__(self, limit: int, window: float = 1.0) -> None:
        self.limit = limit
        self.window = window
        self._sent: deque[float] = deque()

    def _trim(self, now: float) -> None:
        # Same arithmetic as next_free: ``now - window`` can round below a slot that
        # next_free says is free at ``now``, and a timer set for then would spin at zero delay.
        while self._sent and self._sent[0] + self.window <= now:
            self._sent.popleft()

    def allow(self, now: float) -> bool:
        """Take a slot if one is free now."""
        if self.limit <= 0:
            return True  # 0 disables the limit
        self._trim(now)
        if len(self._sent) >= self.limit:
            return False
        self._sent.append(now)
        return True

    def next_free(self, now: float) -> float:
        """Earliest time a slot frees up."""
        self._trim(now)
        if self.limit <= 0 or len(self._sent) < self.limit:
            return now
        return self._sent[0] + self.window
