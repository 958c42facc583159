"""Trajectories: a node's position as a piecewise-linear function of time.

The simulator asks for positions very often with increasing times, so :meth:`Trajectory.position`
is kept to one comparison and a few float operations in the common case.
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from typing import Iterable, Sequence

from meshnet.geometry import Point

from .errors import MobilityError


@dataclass(frozen=True, slots=True)
class Segment:
    """Straight-line motion from ``(x0, y0)`` at time ``t0`` with velocity ``(vx, vy)`` m/s.

    Valid from ``t0`` until the next segment of the same trajectory starts (or forever)."""

    t0: float
    x0: float
    y0: float
    vx: float
    vy: float

    @property
    def speed(self) -> float:
        return math.hypot(self.vx, self.vy)

    def position(self, t: float) -> Point:
        dt = t - self.t0
        return (self.x0 + self.vx * dt, self.y0 + self.vy * dt)


class Trajectory:
    """Piecewise-linear position of one node over time.

    ``segments`` is sorted by start time and the first one starts at 0; treat it as read-only and
    change a trajectory only through :meth:`set_position`. :meth:`position` is built for the
    simulator's hot path: it remembers the segment it used last, so calls with increasing times
    cost a comparison, and any other order falls back to a bisection.
    """

    __slots__ = ("segments", "max_speed", "_t0s", "_index", "_current", "_next_t0")

    def __init__(self, segments: Iterable[Segment]):
        segs = list(segments)
        if not segs:
            raise MobilityError("a trajectory needs at least one segment")
        if segs[0].t0 != 0.0:
            raise MobilityError(f"a trajectory must start at t=0, not t={segs[0].t0}")
        for before, after in zip(segs, segs[1:]):
            if not after.t0 > before.t0:
                raise MobilityError(
                    f"segment start times must increase: {after.t0} follows {before.t0}"
                )
        self.segments: list[Segment] = segs
        self._reindex()

    @classmethod
    def stationary(cls, x: float, y: float) -> "Trajectory":
        """A node that never moves."""
        return cls([Segment(0.0, float(x), float(y), 0.0, 0.0)])

    def _reindex(self) -> None:
        self._t0s = [s.t0 for s in self.segments]
        self.max_speed = max(s.speed for s in self.segments)
        self._index = 0
        self._current = self.segments[0]
        self._next_t0 = self._t0s[1] if len(self._t0s) > 1 else math.inf

    def _seek(self, t: float) -> Segment:
        t0s = self._t0s
        n = len(t0s)
        i = self._index + 1
        # Time usually moves forward by less than a segment: try the next one before bisecting.
        if not (i < n and t0s[i] <= t and (i + 1 == n or t < t0s[i + 1])):
            i = bisect_right(t0s, t) - 1
            if i < 0:
                i = 0
        self._index = i
        self._next_t0 = t0s[i + 1] if i + 1 < n else math.inf
        seg = self._current = self.segments[i]
        return seg

    def position(self, t: float) -> Point:
        """``(x, y)`` in metres at time ``t``."""
        seg = self._current
        if t >= self._next_t0 or t < seg.t0:
            seg = self._seek(t)
        dt = t - seg.t0
        if dt < 0.0:  # only before time 0
            dt = 0.0
        return (seg.x0 + seg.vx * dt, seg.y0 + seg.vy * dt)

    def segment_at(self, t: float) -> Segment:
        """The segment in force at time ``t`` (the first one for ``t < 0``)."""
        seg = self._current
        if t >= self._next_t0 or t < seg.t0:
            seg = self._seek(t)
        return seg

    def segment_end(self, t: float) -> float:
        """When the segment in force at time ``t`` ends (``inf`` for the last one): until then
        the node moves in a straight line, so callers may cache the segment."""
        seg = self._current
        if t >= self._next_t0 or t < seg.t0:
            self._seek(t)
        return self._next_t0

    def set_position(self, t: float, x: float, y: float) -> None:
        """Teleport the node to ``(x, y)`` at time ``t``; it stays there from then on.

        Everything the trajectory planned from ``t`` on is dropped (a UI drag or a test moving a
        node overrides the model)."""
        t = max(float(t), 0.0)
        keep = bisect_left(self._t0s, t)
        del self.segments[keep:]
        self.segments.append(Segment(t, float(x), float(y), 0.0, 0.0))
        self._reindex()

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Trajectory):
            return NotImplemented
        return self.segments == other.segments

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        first = self.segments[0]
        return (
            f"Trajectory({len(self.segments)} segments, start=({first.x0:.3f}, {first.y0:.3f}), "
            f"max_speed={self.max_speed:.3f})"
        )


def segment_boundaries(
    trajectories: Sequence[Trajectory], include_initial: bool = True
) -> list[tuple[float, int, Segment]]:
    """Every course change as ``(t0, node_index, segment)``, sorted by time then node.

    The engine schedules one "node moved" event per entry. With ``include_initial=False`` the
    segments starting at time 0 (the initial state) are left out."""
    events = [
        (seg.t0, index, seg)
        for index, trajectory in enumerate(trajectories)
        for seg in trajectory.segments
        if include_initial or seg.t0 > 0.0
    ]
    events.sort(key=lambda e: (e[0], e[1]))
    return events
