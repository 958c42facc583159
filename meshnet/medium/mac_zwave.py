"""Z-Wave (ITU-T G.9959) MAC: listen before talk, ACK, random retransmission.

Before each attempt the node listens for the CCA window; a busy channel defers the attempt by a
random 10-40 ms, at most ``MAX_BUSY_DEFERRALS`` times (then channel access failure). A unicast
waits for its ACK (``profile.ack_wait_s``); a missing ACK is retransmitted after a random
10-40 ms (G.9959 random backoff), at most ``max_frame_retries`` (2) times.
"""

from __future__ import annotations

from .mac_base import RadioMac

# G.9959 leaves the number of busy deferrals to the implementation; 4 keeps the worst-case
# access delay (~160 ms) inside the 1 s budget Z-Wave controllers use per hop (assumed).
MAX_BUSY_DEFERRALS = 4


class ZwaveMac(RadioMac):
    def __init__(self, channel, node) -> None:
        p = channel.profile
        self.ack_gap_s = p.turnaround_s
        self.max_retries = p.max_frame_retries
        super().__init__(channel, node)
        self.cca = p.cca_s
        self.turnaround = p.turnaround_s
        self.lo, self.hi = p.retransmit_min_s, p.retransmit_max_s
        self.deferrals = 0

    def _random_wait(self) -> float:
        return self.lo + self.rng.random() * (self.hi - self.lo)

    def _access(self, not_before: float) -> None:
        self.deferrals = 0
        self.timer = self.sched.call_at(not_before + self.cca, self._cca_done)

    def _retry(self, not_before: float) -> None:
        self._access(not_before + self._random_wait())

    def _channel_busy(self, now: float) -> None:
        self.deferrals += 1
        if self.deferrals > MAX_BUSY_DEFERRALS:
            self._access_failed()
            return
        self.timer = self.sched.call_at(now + self._random_wait(), self._cca_done)


__all__ = ["ZwaveMac", "MAX_BUSY_DEFERRALS"]
