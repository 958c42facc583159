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
  airtime at the profile bit rate delays delivery, each node has a bounded transmit queue with
  carrier sense and random back-off, and a unicast that fails is retried up to the profile's
  retry limit before link-layer feedback.
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
    def call_later(self, delay: float, fn: Callable[..., Any], *args: Any) -> Any: ...


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
    __slots__ = ("sender", "frame", "dst", "end", "reach", "interference", "deaf")

    def __init__(self, sender: int, frame: bytes, dst: int, end: float,
                 reach: dict[int, float]) -> None:
        self.sender = sender
        self.frame = frame
        self.dst = dst
        self.end = end
        self.reach = reach  # receiver -> received power (mW)
        self.interference = dict.fromkeys(reach, 0.0)  # receiver -> summed mW of overlaps
        self.deaf: set[int] = set()  # receivers that were transmitting meanwhile (half duplex)


class RadioMedium:
    """Profile + propagation model as the channel (see module docstring).

    ``radio`` is the adapter from ``radio_adapter.RadioLink`` (airtime, frame error rate,
    sensitivity, noise floor, MAC timing) so this class does not depend on the radio package's
    exact names.
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
        self.queues: list[deque] = [deque() for _ in range(n)]
        self.busy = [False] * n  # sender has a frame in service (backing off or on air)
        self.on_air: list[_Tx | None] = [None] * n
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
        q.append([frame, dst, 0, 0])  # frame, dst, retries, backoffs
        if not self.busy[i]:
            self.busy[i] = True
            self._backoff(i, 0)

    # -- MAC ---------------------------------------------------------------------------------
    def _backoff(self, i: int, exponent_step: int) -> None:
        delay = self.radio.backoff(self.rng, exponent_step)
        self.clock.call_later(delay, self._attempt, i)

    def _sensed_mw(self, i: int) -> float:
        return sum(tx.reach.get(i, 0.0) for tx in self.active)

    def _attempt(self, i: int) -> None:
        entry = self.queues[i][0]
        if self.active and self._sensed_mw(i) > self.cca_mw:
            entry[3] += 1
            if entry[3] > self.radio.max_backoffs:
                self.counters["channel_access"] += 1
                self._finish(i, failed=True)
                return
            self._backoff(i, entry[3])
            return
        self._start(i, entry)

    def _start(self, i: int, entry: list) -> None:
        frame, dst = entry[0], entry[1]
        now = self.clock.time()
        airtime = self.radio.airtime(len(frame))
        reach = self.gain[i]
        tx = _Tx(i, frame, dst, now + airtime, reach)
        for other in self.active:  # overlapping transmissions interfere both ways
            for j, p in other.reach.items():
                if j in tx.interference:
                    tx.interference[j] += p
            for j, p in reach.items():
                if j in other.interference:
                    other.interference[j] += p
            other.deaf.add(i)
            tx.deaf.add(other.sender)
        self.active.append(tx)
        self.on_air[i] = tx
        self.counters["sent"] += 1
        self.clock.call_later(airtime + self.radio.ack_time(dst >= 0), self._end, tx)

    def _received(self, tx: _Tx, j: int) -> bool:
        p = tx.reach.get(j)
        if p is None or j in tx.deaf or 10 * math.log10(p) < self.sensitivity_dbm:
            return False
        sinr_db = 10 * math.log10(p / (self.noise_mw + tx.interference[j]))
        per = self.radio.frame_error_rate(sinr_db, len(tx.frame))
        if per > 0.0 and self.rng.random() < per:
            self.counters["collision" if tx.interference[j] > 0 else "out_of_range"] += 1
            return False
        return True

    def _end(self, tx: _Tx) -> None:
        self.active.remove(tx)
        i = tx.sender
        self.on_air[i] = None
        if tx.dst < 0:
            for j in tx.reach:
                if self._received(tx, j):
                    self.counters["received"] += 1
                    self.out.deliver(j, tx.frame)
            self._finish(i, failed=False)
            return
        if self._received(tx, tx.dst):
            self.counters["received"] += 1
            self.out.deliver(tx.dst, tx.frame)
            self._finish(i, failed=False)
            return
        entry = self.queues[i][0]
        entry[2] += 1
        if entry[2] > self.radio.max_retries:
            self.counters["retry_limit"] += 1
            self._finish(i, failed=True)
        else:
            entry[3] = 0
            self._backoff(i, 0)

    def _finish(self, i: int, failed: bool) -> None:
        frame, dst, _r, _b = self.queues[i].popleft()
        if failed and dst >= 0:
            self.out.link_failed(i, dst, frame)
        elif failed:
            self.out.dropped(i, "channel_access")
        if self.queues[i]:
            self._backoff(i, 0)
        else:
            self.busy[i] = False
