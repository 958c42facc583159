"""Discrete-event scheduler in virtual time.

A binary heap of ``[time, seq, fn, args]`` entries. ``seq`` breaks ties in insertion order, so a
run is a pure function of its inputs. Cancelling a timer blanks its callback in place (lazy
deletion), which keeps both scheduling and cancelling O(log n) / O(1) without a side table.
"""

from __future__ import annotations

import heapq
from typing import Any, Callable


class TimerEntry(list):
    """A scheduled call; also the handle returned to callers (``.cancel()``)."""

    __slots__ = ()

    def __hash__(self) -> int:  # handles live in sets; (time, seq) is unique per scheduler
        return id(self)

    def __eq__(self, other: object) -> bool:
        return self is other

    def cancel(self) -> None:
        self[2] = None

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

    def stop(self) -> None:
        """Make the running ``run_until`` return after the current callback."""
        self._stopped = True

    def run_until(self, until: float) -> None:
        """Run every event with time <= ``until``; afterwards ``now == until`` (unless stopped)."""
        heap = self._heap
        pop = heapq.heappop
        executed = 0
        self._stopped = False
        try:
            while heap:
                entry = heap[0]
                if entry[0] > until:
                    break
                pop(heap)
                fn = entry[2]
                if fn is None:
                    continue
                self.now = entry[0]
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
