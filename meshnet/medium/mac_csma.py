"""IEEE 802.15.4 unslotted CSMA-CA (802.15.4-2006 7.5.1.4), as used by ZigBee.

For every frame (and again for every retransmission): NB = 0, BE = macMinBE; wait a random
number of unit backoff periods in [0, 2^BE - 1]; perform CCA (8 symbols); if the channel is busy,
NB += 1 and BE = min(BE + 1, macMaxBE), giving up after macMaxCSMABackoffs busy CCAs (channel
access failure); if idle, turn the radio around (aTurnaroundTime) and transmit. A unicast then
waits macAckWaitDuration for the ACK and is retried up to macMaxFrameRetries times. After a frame
the sender keeps SIFS or LIFS (by frame length) before the next one. All figures come from the
profile (``meshnet/radio/profiles.py``, with their clause numbers).

Events per attempt: the CCA, the start and end of the frame, and the end of its ACK.
"""

from __future__ import annotations

from .mac_base import RadioMac


class CsmaCaMac(RadioMac):
    def __init__(self, channel, node) -> None:
        p = channel.profile
        self.ack_gap_s = p.turnaround_s        # the ACK follows aTurnaroundTime after the frame
        self.max_retries = p.max_frame_retries
        super().__init__(channel, node)
        self.unit = p.backoff_unit_s
        self.cca = p.cca_s
        self.turnaround = p.turnaround_s
        self.min_be, self.max_be = p.min_be, p.max_be
        self.max_backoffs = p.max_csma_backoffs
        self.nb = 0
        self.be = self.min_be

    def _access(self, not_before: float) -> None:
        self.nb = 0
        self.be = self.min_be
        self._backoff(not_before)

    def _backoff(self, t0: float) -> None:
        delay = int(self.rng.random() * (1 << self.be)) * self.unit
        self.timer = self.sched.call_at(t0 + delay + self.cca, self._cca_done)

    def _channel_busy(self, now: float) -> None:
        self.nb += 1
        if self.nb > self.max_backoffs:
            self._access_failed()
            return
        self.be = min(self.be + 1, self.max_be)
        self._backoff(now)

    def _ifs(self, psdu: int) -> float:
        p = self.profile
        return p.sifs_s if psdu <= p.max_sifs_frame_bytes else p.lifs_s


__all__ = ["CsmaCaMac"]
