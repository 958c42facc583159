"""Plane geometry shared by mobility models and node placements.

Coordinates are metres in a rectangle ``area = (width, height)`` whose lower-left corner is the
origin. Kept free of meshnet imports so that ``meshnet.topologies`` can depend on it alone.
"""

from __future__ import annotations

import math
from typing import Iterable, Sequence

Point = tuple[float, float]
Area = tuple[float, float]

TAU = 2.0 * math.pi


def is_number(value: object) -> bool:
    """A finite int or float (bools are not numbers here)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def check_area(area: object, error: type[Exception]) -> Area:
    """``(width, height)`` as floats, or ``error`` naming the bad side."""
    try:
        width, height = area  # type: ignore[misc]
    except (TypeError, ValueError):
        raise error(f"area = {area!r} is not allowed: expected (width, height)") from None
    for key, side in (("area.width", width), ("area.height", height)):
        if not is_number(side) or side < 0:
            raise error(f"{key} = {side!r} is not allowed: expected a number >= 0")
    return (float(width), float(height))


def distance(a: Sequence[float], b: Sequence[float]) -> float:
    """Euclidean distance between two points."""
    return math.hypot(a[0] - b[0], a[1] - b[1])


def distance_sq(a: Sequence[float], b: Sequence[float]) -> float:
    """Squared distance: cheaper than :func:`distance` when only comparing ranges."""
    dx = a[0] - b[0]
    dy = a[1] - b[1]
    return dx * dx + dy * dy


def clamp(value: float, low: float, high: float) -> float:
    """``value`` limited to ``[low, high]``."""
    return low if value < low else high if value > high else value


def clamp_point(point: Sequence[float], area: Area) -> Point:
    """The nearest point of the area: absorbs rounding at the borders."""
    return (clamp(point[0], 0.0, area[0]), clamp(point[1], 0.0, area[1]))


def inside(point: Sequence[float], area: Area, tolerance: float = 1e-9) -> bool:
    """Whether ``point`` lies in the area, allowing ``tolerance`` metres of rounding."""
    x, y = point[0], point[1]
    return -tolerance <= x <= area[0] + tolerance and -tolerance <= y <= area[1] + tolerance


def wrap_angle(angle: float) -> float:
    """``angle`` (radians) mapped into ``(-pi, pi]``: blending two headings turns the short way."""
    a = math.fmod(angle + math.pi, TAU)
    if a <= 0.0:
        a += TAU
    return a - math.pi


def bounding_box(points: Iterable[Sequence[float]]) -> tuple[float, float, float, float]:
    """``(min_x, min_y, max_x, max_y)`` of a non-empty set of points."""
    xs: list[float] = []
    ys: list[float] = []
    for p in points:
        xs.append(p[0])
        ys.append(p[1])
    if not xs:
        raise ValueError("bounding_box of no points")
    return (min(xs), min(ys), max(xs), max(ys))


def centre_in_area(points: Sequence[Sequence[float]], area: Area) -> list[Point]:
    """``points`` shifted so that their bounding box sits in the middle of the area."""
    if not points:
        return []
    min_x, min_y, max_x, max_y = bounding_box(points)
    dx = (area[0] - (max_x - min_x)) / 2.0 - min_x
    dy = (area[1] - (max_y - min_y)) / 2.0 - min_y
    return [(p[0] + dx, p[1] + dy) for p in points]


def mean_distance_in_rectangle(width: float, height: float) -> float:
    """Expected distance between two points drawn uniformly in a ``width`` x ``height`` rectangle.

    Closed form (Ghosh 1951); random waypoint needs it to start in its stationary regime.
    """
    a, b = float(width), float(height)
    if a < 0.0 or b < 0.0:
        raise ValueError("rectangle sides must be >= 0")
    if a == 0.0 or b == 0.0:
        return max(a, b) / 3.0
    d = math.hypot(a, b)
    return (
        (a**3 / b**2 + b**3 / a**2 + d * (3.0 - a**2 / b**2 - b**2 / a**2)) / 15.0
        + (b**2 / a * math.acosh(d / b) + a**2 / b * math.acosh(d / a)) / 6.0
    )
