"""Who receives a frame: the reception decision of the channel, as pluggable objects.

The channel (``channel.py``) does the I/O; a medium decides. Both media take frames with
``submit(sender, frame, dst)`` (``dst`` = receiver index, or -1 for broadcast) and answer through
the channel's ``deliver(j, frame)`` and ``link_failed(i, j, frame)``. ``update_positions`` is
called whenever nodes move (the channel polls trajectories at >= 10 Hz).

- :class:`UnitDisk`: a receiver hears a sender within ``range_m``; delivery is immediate. Neighbour
  lists are recomputed only when positions change, so the per-frame cost is a set lookup.
- :class:`RadioMedium`: the radio model. Received power from the propagation model, frames below
  sensitivity are not heard, interference from overlapping transmissions is summed at each
  receiver (collisions, hidden terminals), SINR gives the frame error rate of the profile,
  airtime at the profile bit rate delays delivery, each node has a bounded transmit queue, and
  the MAC is the simulator's: per-fragment carrier sense, back-off, ACK and retries up to the
  profile's limit before link-layer feedback.
"""

from __future__ import annotations

import math
import random
from collections import deque
from typing import Any, Callable, Protocol, Sequence

import numpy as np

Positions = Sequence[tuple[float, float]]


class Output(Protocol):
    def deliver(self, j: int, frame: bytes) -> None: ...
    def link_failed(self, i: int, j: int, frame: bytes) -> None: ...
    def dropped(self, i: int, reason: str) -> None: ...


class Scheduler(Protocol):
    def time(self) -> float: ...
    def call_at(self, when: float, fn: Callable[..., Any], *args: Any) -> Any: ...


def _pairs_within(positions: Positions, radius: float) -> list[list[int]]:
    """Neighbour lists of every node within ``radius`` (vectorised, O(n²) once per move)."""
    n = len(positions)
    if n == 0:
        return []
    p = np.asarray(positions, dtype=float)
    d2 = ((p[:, None, :] - p[None, :, :]) ** 2).sum(axis=2)
    close = d2 <= radius * radius
    np.fill_diagonal(close, False)
    return [np.flatnonzero(row).tolist() for row in close]


class BlockedLinks:
    """Links silenced by hand (``Emulation.cut``): frames stop, interfaces stay up."""

    def __init__(self) -> None:
        self.pairs: set[tuple[int, int]] = set()

    def block(self, i: int, j: int) -> None:
        self.pairs |= {(i, j), (j, i)}

    def unblock(self, i: int, j: int) -> None:
        self.pairs -= {(i, j), (j, i)}


class UnitDisk:
    """Every node within ``range_m`` receives every frame, instantly and without loss."""

    def __init__(self, n: int, range_m: float, out: Output) -> None:
        self.n = n
        self.range_m = float(range_m)
        self.out = out
        self.blocked = BlockedLinks()
        self.neighbours: list[list[int]] = [[] for _ in range(n)]
        self.neighbour_sets: list[frozenset[int]] = [frozenset() for _ in range(n)]
        self._positions: Positions = []

    def update_positions(self, positions: Positions) -> None:
        self._positions = list(positions)
        lists = _pairs_within(self._positions, self.range_m)
        if self.blocked.pairs:
            lists = [[j for j in row if (i, j) not in self.blocked.pairs]
                     for i, row in enumerate(lists)]
        self.neighbours = lists
        self.neighbour_sets = [frozenset(row) for row in lists]

    def refresh(self) -> None:
        self.update_positions(self._positions)

    def submit(self, i: int, frame: bytes, dst: int) -> None:
        if dst < 0:
            deliver = self.out.deliver
            for j in self.neighbours[i]:
                deliver(j, frame)
        elif dst in self.neighbour_sets[i]:
            self.out.deliver(dst, frame)
        else:
            self.out.link_failed(i, dst, frame)


# -- the radio model ---------------------------------------------------------------------------

def _dbm_to_mw(dbm: float) -> float:
    return 10.0 ** (dbm / 10.0)


class _Tx:
    """One frame (a fragment, or an ACK) on the air."""

    __slots__ = ("sender", "dst", "psdu", "end", "reach", "interference", "deaf")

    def __init__(self, sender: int, dst: int, psdu: int, end: float,
                 reach: dict[int, float]) -> None:
        self.sender = sender
        self.dst = dst
        self.psdu = psdu
        self.end = end
        self.reach = reach  # receiver -> received power (mW)
        self.interference = dict.fromkeys(reach, 0.0)  # receiver -> summed mW of overlaps
        self.deaf: set[int] = set()  # receivers that were transmitting meanwhile (half duplex)


class _Packet:
    """A queued frame and where its sender is with it."""

    __slots__ = ("frame", "dst", "frags", "k", "retries", "busy", "heard")

    def __init__(self, frame: bytes, dst: int, frags: list[int]) -> None:
        self.frame = frame
        self.dst = dst
        self.frags = frags   # PSDU sizes of its fragments
        self.k = 0           # fragment in service
        self.retries = 0     # of this fragment
        self.busy = 0        # busy CCAs in this access attempt
        self.heard: set[int] | None = None  # broadcast: who got every fragment so far


class RadioMedium:
    """Profile + propagation model as the channel (see module docstring).

    ``radio`` is :class:`meshnet.netns.plan.RadioLink` (fragments, airtime, frame error rate,
    sensitivity, noise floor, MAC timing) so this class does not depend on the radio package's
    exact names.

    The MAC follows the simulator's (``meshnet/sim/mac_base.py`` and ``mac_csma.py``): each
    fragment is sent with its own access (back-off, CCA over the last ``cca_s``, turnaround), a
    unicast fragment is followed by the receiver's ACK on the air, a missing ACK is retried after
    ``ack_wait_s`` up to ``max_retries`` times, and the sender keeps the inter-frame space after
    every fragment. Timers are set at absolute times computed from the *intended* time of the
    event that set them, not from when the event loop got round to it, so event-loop latency
    delays frames a little but never accumulates into lower throughput.
    """

    def __init__(self, n: int, radio: Any, out: Output, clock: Scheduler,
                 rng: random.Random | None = None, queue_limit: int = 64) -> None:
        self.n = n
        self.radio = radio
        self.out = out
        self.clock = clock
        self.rng = rng or random.Random(1)
        self.queue_limit = queue_limit
        self.blocked = BlockedLinks()
        self.gain: list[dict[int, float]] = [{} for _ in range(n)]  # i -> {j: rx mW}
        self.queues: list[deque[_Packet]] = [deque() for _ in range(n)]
        self.busy = [False] * n  # sender has a packet in service
        self.ready_at = [0.0] * n  # end of the sender's inter-frame space
        self.on_air: list[_Tx | None] = [None] * n
        self.sensed_until = [0.0] * n  # end of the last frame each node sensed above CCA
        self.active: list[_Tx] = []
        self.noise_mw = _dbm_to_mw(radio.noise_floor_dbm)
        self.cca_mw = _dbm_to_mw(radio.cca_threshold_dbm)
        self.sensitivity_dbm = radio.sensitivity_dbm
        self._positions: Positions = []
        self.counters = {"sent": 0, "received": 0, "collision": 0, "out_of_range": 0,
                         "queue_full": 0, "retry_limit": 0, "channel_access": 0}

    # positions -> received powers, only for pairs that can matter (above the noise floor)
    def update_positions(self, positions: Positions) -> None:
        self._positions = list(positions)
        reach = self.radio.interference_range_m
        lists = _pairs_within(self._positions, reach)
        gain: list[dict[int, float]] = []
        for i, row in enumerate(lists):
            xi, yi = self._positions[i]
            g = {}
            for j in row:
                if (i, j) in self.blocked.pairs:
                    continue
                xj, yj = self._positions[j]
                d = max(math.hypot(xi - xj, yi - yj), 0.01)
                g[j] = _dbm_to_mw(self.radio.rx_power_dbm(d))
            gain.append(g)
        self.gain = gain

    def refresh(self) -> None:
        self.update_positions(self._positions)

    def submit(self, i: int, frame: bytes, dst: int) -> None:
        q = self.queues[i]
        if len(q) >= self.queue_limit:
            self.counters["queue_full"] += 1
            self.out.dropped(i, "queue_full")
            return
        q.append(_Packet(frame, dst, self.radio.fragments(len(frame))))
        if not self.busy[i]:
            self.busy[i] = True
            now = self.clock.time()
            self._access(i, max(now, self.ready_at[i]), retry=False)

    # -- MAC: access ----------------------------------------------------------------------------
    def _access(self, i: int, t0: float, retry: bool) -> None:
        """Contend for the channel for the current fragment, no earlier than ``t0``."""
        self.queues[i][0].busy = 0
        when = t0 + self.radio.access_delay(self.rng, 0, retry)
        self.clock.call_at(when, self._cca, i, when)

    def _channel_busy(self, i: int, now: float) -> bool:
        if self.on_air[i] is not None or self.sensed_until[i] > now - self.radio.cca_s:
            return True
        if not self.active:
            return False
        return sum(tx.reach.get(i, 0.0) for tx in self.active) > self.cca_mw

    def _cca(self, i: int, now: float) -> None:
        pkt = self.queues[i][0]
        if self._channel_busy(i, now):
            pkt.busy += 1
            if pkt.busy > self.radio.max_backoffs:
                self.counters["channel_access"] += 1
                self._finish(i, now, failed=True)
                return
            when = now + self.radio.access_delay(self.rng, pkt.busy, False)
            self.clock.call_at(when, self._cca, i, when)
            return
        when = now + self.radio.turnaround_s
        self.clock.call_at(when, self._start, i, when)

    # -- MAC: frames on the air ---------------------------------------------------------------------
    def _on_air(self, tx: _Tx) -> None:
        for other in self.active:  # overlapping transmissions interfere both ways
            for j, p in other.reach.items():
                if j in tx.interference:
                    tx.interference[j] += p
            for j, p in tx.reach.items():
                if j in other.interference:
                    other.interference[j] += p
            other.deaf.add(tx.sender)
            tx.deaf.add(other.sender)
        self.active.append(tx)
        if self.on_air[tx.sender] is None:
            self.on_air[tx.sender] = tx

    def _off_air(self, tx: _Tx) -> None:
        self.active.remove(tx)
        if self.on_air[tx.sender] is tx:
            self.on_air[tx.sender] = None
        sensed, cca = self.sensed_until, self.cca_mw
        for j, p in tx.reach.items():
            if p > cca and sensed[j] < tx.end:
                sensed[j] = tx.end

    def _start(self, i: int, now: float) -> None:
        if self.on_air[i] is not None:  # still sending an ACK: go right after it
            when = self.on_air[i].end
            self.clock.call_at(when, self._start, i, when)
            return
        pkt = self.queues[i][0]
        psdu = pkt.frags[pkt.k]
        tx = _Tx(i, pkt.dst, psdu, now + self.radio.frame_airtime(psdu), self.gain[i])
        self._on_air(tx)
        self.counters["sent"] += 1
        self.clock.call_at(tx.end, self._end, tx)

    def _received(self, tx: _Tx, j: int) -> bool:
        p = tx.reach.get(j)
        if p is None or j in tx.deaf or 10 * math.log10(p) < self.sensitivity_dbm:
            return False
        sinr_db = 10 * math.log10(p / (self.noise_mw + tx.interference[j]))
        per = self.radio.frame_error_rate(sinr_db, tx.psdu)
        if per > 0.0 and self.rng.random() < per:
            self.counters["collision" if tx.interference[j] > 0 else "out_of_range"] += 1
            return False
        return True

    def _end(self, tx: _Tx) -> None:
        now = tx.end
        self._off_air(tx)
        i = tx.sender
        pkt = self.queues[i][0]
        last = pkt.k == len(pkt.frags) - 1
        if tx.dst < 0:
            got = {j for j in tx.reach if self._received(tx, j)}
            pkt.heard = got if pkt.heard is None else pkt.heard & got
            if last:
                for j in sorted(pkt.heard):
                    self.counters["received"] += 1
                    self.out.deliver(j, pkt.frame)
            self._fragment_done(i, pkt, now)
            return
        if not self._received(tx, tx.dst):
            self._attempt_failed(i, pkt, now + self.radio.ack_wait_s)
            return
        if last:  # the receiver has the packet once its last fragment is decoded
            self.counters["received"] += 1
            self.out.deliver(tx.dst, pkt.frame)
        ack = _Tx(tx.dst, i, 0, now + self.radio.ack_s, self.gain[tx.dst])
        self._on_air(ack)
        self.clock.call_at(ack.end, self._ack_end, ack)

    def _ack_end(self, ack: _Tx) -> None:
        self._off_air(ack)
        i = ack.dst
        self._fragment_done(i, self.queues[i][0], ack.end)

    def _fragment_done(self, i: int, pkt: _Packet, now: float) -> None:
        ready = now + self.radio.ifs(pkt.frags[pkt.k])
        pkt.k += 1
        pkt.retries = 0
        if pkt.k < len(pkt.frags):
            self._access(i, ready, retry=False)
        else:
            self._finish(i, ready, failed=False)

    def _attempt_failed(self, i: int, pkt: _Packet, not_before: float) -> None:
        pkt.retries += 1
        if pkt.retries > self.radio.max_retries:
            self.counters["retry_limit"] += 1
            self._finish(i, not_before, failed=True)
        else:
            self._access(i, not_before, retry=True)

    def _finish(self, i: int, ready: float, failed: bool) -> None:
        """The current packet is done with; start the next one no earlier than ``ready``."""
        pkt = self.queues[i].popleft()
        self.ready_at[i] = ready
        if failed and pkt.dst >= 0:
            self.out.link_failed(i, pkt.dst, pkt.frame)
        elif failed:
            self.out.dropped(i, "channel_access")
        if self.queues[i]:
            self._access(i, max(ready, self.clock.time()), retry=False)
        else:
            self.busy[i] = False
