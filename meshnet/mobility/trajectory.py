"""Trajectories: a node's position as a piecewise-linear function of time.

The simulator asks for positions very often with increasing times, so :meth:`Trajectory.position`
is kept to one comparison and a few float operations in the common case.
"""

from __future__ import annotations

import math
import threading
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from typing import Iterable, Iterator, Sequence

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


_PLANNING = threading.RLock()
"""Held while any plan runs a step, so trajectories shared between threads (a UI and an
engine) extend safely; reading planned segments needs no lock."""

Plan = Iterator[list[Segment]]
"""A model's plan for one node, run step by step: each step adds the next course changes to a
list of segments and yields that list (always the same list). All but its last segment are final
(a later step may still replace the last one); when the plan ends, all of them are."""


class Trajectory:
    """Piecewise-linear position of one node over time.

    ``segments`` is sorted by start time and the first one starts at 0; treat it as read-only and
    change a trajectory only through :meth:`set_position`. :meth:`position` is built for the
    simulator's hot path: it remembers the segment it used last, so calls with increasing times
    cost a comparison, and any other order falls back to a bisection.

    A trajectory made with :meth:`planned` computes its legs on demand, as the times asked for
    advance, so memory grows with the time a run has reached, never with its duration.
    ``max_speed`` is then the plan's survey (see :func:`survey_max_speed`); reading
    ``segments`` runs the plan to its end.
    """

    __slots__ = ("_segs", "max_speed", "_t0s", "_index", "_current", "_next_t0", "_plan")

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
        self._segs: list[Segment] = segs
        self._plan: Plan | None = None
        self._reindex()

    @classmethod
    def stationary(cls, x: float, y: float) -> "Trajectory":
        """A node that never moves."""
        return cls([Segment(0.0, float(x), float(y), 0.0, 0.0)])

    @classmethod
    def planned(cls, plan: Plan, max_speed: float) -> "Trajectory":
        """A trajectory whose legs ``plan`` computes as they are needed (see :data:`Plan`);
        ``max_speed`` is the fastest leg the plan will produce up to the run's horizon."""
        self = cls.__new__(cls)
        self._segs = next(plan)
        self._plan = plan
        self._t0s = []
        self._commit()
        self._extend(0.0)
        self.max_speed = max_speed
        self._index = 0
        self._current = self._segs[0]
        self._next_t0 = self._t0s[1] if len(self._t0s) > 1 else math.inf
        return self

    @property
    def segments(self) -> list[Segment]:
        """Every segment; a planned trajectory first runs its plan to the end."""
        if self._plan is not None:
            with _PLANNING:
                while self._plan is not None:
                    self._step()
        return self._segs

    def _commit(self) -> None:
        """Index the segments that became final."""
        final = len(self._segs) - (1 if self._plan is not None else 0)
        t0s = self._t0s
        segs = self._segs
        for k in range(len(t0s), final):
            t0s.append(segs[k].t0)

    def _step(self) -> None:
        try:
            next(self._plan)  # type: ignore[arg-type]
        except StopIteration:
            self._plan = None
        self._commit()

    def _extend(self, t: float) -> None:
        """Plan until a final segment starts after ``t``: then the segment in force at ``t``
        and the time it ends are both final."""
        t0s = self._t0s
        if self._plan is not None and (not t0s or t0s[-1] <= t):
            with _PLANNING:  # a plan is a generator: one thread at a time may run it
                while self._plan is not None and (not t0s or t0s[-1] <= t):
                    self._step()

    def _reindex(self) -> None:
        self._t0s = [s.t0 for s in self._segs]
        self.max_speed = max(s.speed for s in self._segs)
        self._index = 0
        self._current = self._segs[0]
        self._next_t0 = self._t0s[1] if len(self._t0s) > 1 else math.inf

    def _seek(self, t: float) -> Segment:
        if self._plan is not None:
            self._extend(t)
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
        seg = self._current = self._segs[i]
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

    def next_segment(self, seg: Segment) -> Segment | None:
        """The segment that follows ``seg`` (one of this trajectory's), or None after the last:
        the engine schedules one course change at a time with it."""
        self.segment_at(seg.t0)
        i = self._index
        if self._segs[i] is not seg:
            return None
        self._extend(seg.t0)
        return self._segs[i + 1] if i + 1 < len(self._t0s) else None

    def set_position(self, t: float, x: float, y: float) -> None:
        """Teleport the node to ``(x, y)`` at time ``t``; it stays there from then on.

        Everything the trajectory planned from ``t`` on is dropped (a UI drag or a test moving a
        node overrides the model)."""
        t = max(float(t), 0.0)
        if self._plan is not None:
            with _PLANNING:
                self._extend(t)  # every segment before t is final
                self._plan = None
        segs = self._segs
        keep = bisect_left(self._t0s, t)
        del segs[keep:]
        segs.append(Segment(t, float(x), float(y), 0.0, 0.0))
        self._reindex()

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Trajectory):
            return NotImplemented
        return self.segments == other.segments

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        first = self._segs[0]
        planned = ", planned on demand" if self._plan is not None else ""
        return (
            f"Trajectory({len(self._t0s)} segments{planned}, start=({first.x0:.3f}, "
            f"{first.y0:.3f}), max_speed={self.max_speed:.3f})"
        )


def survey_max_speed(plan: Plan, horizon: float) -> float:
    """The fastest segment ``plan`` produces up to ``horizon``, found by running it while
    keeping only its last two segments (constant memory).

    It stops at the first final segment that starts after ``horizon``: the models start moves
    only before the horizon, and every later segment continues such a move (a bounce keeps the
    speed) or stands still, so it cannot be faster than one already seen. The result equals the
    maximum over a plan run to its end, which is what the spatial grid's cell size was always
    derived from."""
    fastest = 0.0
    seen = 0
    for segs in plan:
        final = len(segs) - 1
        for k in range(seen, final):
            seg = segs[k]
            speed = seg.speed
            if speed > fastest:
                fastest = speed
            if seg.t0 > horizon:
                return fastest
        if final > 1:  # keep one final segment and the open one: a step may replace the latter
            del segs[:final - 1]
        seen = len(segs) - 1
    for seg in segs[seen:]:
        fastest = max(fastest, seg.speed)
    return fastest


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
