"""Discrete-event scheduler in virtual time.

A binary heap of ``[time, seq, fn, args]`` entries. ``seq`` breaks ties in insertion order, so a
run is a pure function of its inputs. Cancelling a timer blanks its callback in place (lazy
deletion), which keeps both scheduling and cancelling O(log n) / O(1) without a side table.

Time must move: a callback that keeps scheduling work at its own instant (a zero or
sub-resolution delay, e.g. ``now + 1e-300 == now``) would freeze virtual time forever, so
:meth:`Scheduler.run_until` stops with :class:`SchedulerStalled` after ``STALL_EVENTS`` events
in a row at one instant.
"""

from __future__ import annotations

import heapq
from typing import Any, Callable


STALL_EVENTS = 1_000_000
"""Events in a row at one instant after which virtual time counts as frozen. A run's busiest
legitimate instant is its start (a few events per node: 65,534 nodes need about 200,000)."""


class SchedulerStalled(RuntimeError):
    """Virtual time stopped advancing: one line naming the instant and the callback."""


class TimerEntry(list):
    """A scheduled call; also the handle returned to callers (``.cancel()``)."""

    __slots__ = ()

    def __hash__(self) -> int:  # handles live in sets; (time, seq) is unique per scheduler
        return id(self)

    def __eq__(self, other: object) -> bool:
        return self is other

    def cancel(self) -> None:
        self[2] = None
        self[3] = ()  # the arguments may refer back to this handle: no cycle left to collect

    @property
    def cancelled(self) -> bool:
        return self[2] is None

    @property
    def when(self) -> float:
        return self[0]


class Scheduler:
    """Heap scheduler. ``now`` only moves forward; callbacks run in (time, insertion) order."""

    def __init__(self) -> None:
        self.now = 0.0
        self.executed = 0
        self._heap: list[TimerEntry] = []
        self._seq = 0
        self._stopped = False

    def call_at(self, when: float, fn: Callable[..., Any], *args: Any) -> TimerEntry:
        if not when >= self.now:  # also NaN, which would break the heap order
            raise ValueError(f"cannot schedule in the past ({when} < {self.now})")
        self._seq += 1
        entry = TimerEntry((when, self._seq, fn, args))
        heapq.heappush(self._heap, entry)
        return entry

    def call_later(self, delay: float, fn: Callable[..., Any], *args: Any) -> TimerEntry:
        if not delay >= 0:  # also NaN, which would break the heap order
            raise ValueError(f"negative delay {delay}")
        self._seq += 1
        entry = TimerEntry((self.now + delay, self._seq, fn, args))
        heapq.heappush(self._heap, entry)
        return entry

    def reserve_order(self, count: int) -> int:
        """Reserve ``count`` tie-break ranks for :meth:`call_at_order` and return the first.

        An entry scheduled later with one of them still runs before everything scheduled after
        this reservation for the same instant, as if it had been scheduled now."""
        first = self._seq + 1
        self._seq += count
        return first

    def call_at_order(self, order: int, when: float, fn: Callable[..., Any],
                      *args: Any) -> TimerEntry:
        """:meth:`call_at` with a rank from :meth:`reserve_order`; at most one pending entry
        may hold a rank."""
        if not when >= self.now:
            raise ValueError(f"cannot schedule in the past ({when} < {self.now})")
        entry = TimerEntry((when, order, fn, args))
        heapq.heappush(self._heap, entry)
        return entry

    def stop(self) -> None:
        """Make the running ``run_until`` return after the current callback."""
        self._stopped = True

    def run_until(self, until: float) -> None:
        """Run every event with time <= ``until``; afterwards ``now == until`` (unless stopped).

        Raises :class:`SchedulerStalled` when ``STALL_EVENTS`` events in a row run at one
        instant."""
        heap = self._heap
        pop = heapq.heappop
        executed = 0
        self._stopped = False
        last = self.now
        same = 0
        try:
            while heap:
                entry = heap[0]
                when = entry[0]
                if when > until:
                    break
                pop(heap)
                fn = entry[2]
                if fn is None:
                    continue
                if when == last:
                    same += 1
                    if same >= STALL_EVENTS:
                        raise SchedulerStalled(
                            f"simulated time is stuck at t = {when:g} s: {same} events in a row "
                            f"at that instant (the last one calls {_name(fn)}); a delay or "
                            f"interval is too short to move time forward")
                else:
                    last = when
                    same = 0
                self.now = when
                fn(*entry[3])
                executed += 1
                if self._stopped:
                    return
            if until > self.now:
                self.now = until
        finally:
            self.executed += executed

    def pending(self) -> int:
        return sum(1 for e in self._heap if e[2] is not None)

    def next_time(self) -> float | None:
        while self._heap and self._heap[0][2] is None:
            heapq.heappop(self._heap)
        return self._heap[0][0] if self._heap else None


def _name(fn: Callable[..., Any]) -> str:
    """``Class.method`` or ``function`` of a callback, for the stall message."""
    return getattr(fn, "__qualname__", None) or repr(fn)
