"""Building blocks the models share: collecting segments, and straight motion that bounces off the
area's borders. Models add segments in time order (a step never goes back before the last
segment's start), which is what lets a plan hand out all but its last segment as final."""

from __future__ import annotations

import math
from typing import Generator

from meshnet.geometry import Area, Point, clamp, distance

from .trajectory import Segment, Trajectory

MIN_EXTENT = 1.0
"""Area sides shorter than this (metres) are treated as a line: bouncing motion does not cross
them. Without it, a sliver of an area would make a node bounce at every micrometre."""


def _same_velocity(a: float, b: float) -> bool:
    """Equal up to rounding (a heading recomputed from a velocity differs in the last bits)."""
    return a == b or abs(a - b) <= 1e-12 * (1.0 + abs(a) + abs(b))


class PathBuilder:
    """Collects the segments of one node while a model generates them.

    A segment starting at the same time as the previous one replaces it; one that keeps the same
    velocity (up to rounding) is dropped, so every segment is a real course change."""

    __slots__ = ("segments",)

    def __init__(self, x: float, y: float):
        self.segments = [Segment(0.0, float(x), float(y), 0.0, 0.0)]

    def add(self, t: float, x: float, y: float, vx: float, vy: float) -> None:
        segs = self.segments
        while segs and t <= segs[-1].t0:
            segs.pop()
        if not segs:
            segs.append(Segment(0.0, x, y, vx, vy))
            return
        last = segs[-1]
        if _same_velocity(vx, last.vx) and _same_velocity(vy, last.vy):
            return
        segs.append(Segment(t, x, y, vx, vy))

    def travel(self, t: float, start: Point, dest: Point, speed: float) -> float:
        """Go straight from ``start`` to ``dest`` and stop there; returns the arrival time."""
        length = distance(start, dest)
        if length == 0.0 or speed <= 0.0:
            self.add(t, start[0], start[1], 0.0, 0.0)
            return t
        duration = length / speed
        self.add(
            t,
            start[0],
            start[1],
            (dest[0] - start[0]) / duration,
            (dest[1] - start[1]) / duration,
        )
        arrival = t + duration
        self.add(arrival, dest[0], dest[1], 0.0, 0.0)
        return arrival

    def trajectory(self) -> Trajectory:
        return Trajectory(self.segments)


def move_reflecting(
    path: PathBuilder, t: float, t_end: float, x: float, y: float, vx: float, vy: float, area: Area
) -> Generator[list[Segment], None, tuple[float, float, float, float]]:
    """Move with constant velocity from ``t`` to ``t_end``, bouncing off the borders like light
    off a mirror. A plan step per bounce (``yield from`` it); returns the final position and
    (possibly reflected) velocity. One bounce at a time keeps a long interval in a small area
    from planning millions of bounces at once."""
    width, height = area
    if width < MIN_EXTENT:
        vx = 0.0
    if height < MIN_EXTENT:
        vy = 0.0
    while True:
        path.add(t, x, y, vx, vy)
        hit_x = (width - x) / vx if vx > 0.0 else (x / -vx if vx < 0.0 else math.inf)
        hit_y = (height - y) / vy if vy > 0.0 else (y / -vy if vy < 0.0 else math.inf)
        hit = min(hit_x, hit_y)
        if t + hit >= t_end:
            dt = t_end - t
            return (clamp(x + vx * dt, 0.0, width), clamp(y + vy * dt, 0.0, height), vx, vy)
        yield path.segments
        t += hit
        nx, ny = x + vx * hit, y + vy * hit
        if hit_x <= hit_y:
            nx = width if vx > 0.0 else 0.0
            vx = -vx
        if hit_y <= hit_x:
            ny = height if vy > 0.0 else 0.0
            vy = -vy
        x, y = clamp(nx, 0.0, width), clamp(ny, 0.0, height)
