"""Scripted waypoints: each node is at given points at given times."""

from __future__ import annotations

import math
from typing import Any, Mapping, Sequence

from meshnet.geometry import Area, Point, clamp, inside
from meshnet.limits import MAX_SPEED

from .motion import PathBuilder
from .params import AREA_TOLERANCE, bad_value, is_number
from .trajectory import Trajectory

Script = list[tuple[float, float, float]]
"""A node's ``(t, x, y)`` points, in time order."""


def waypoint_lists(points: Any, count: int, area: Area) -> dict[int, Script]:
    """Validate ``points`` (a per-node list, or a table keyed by node index) into sorted lists."""
    if isinstance(points, Mapping):
        items = []
        for key, value in points.items():
            try:
                index = int(key)
            except (TypeError, ValueError):
                raise bad_value(f"points.{key}", value, "node indices as keys") from None
            items.append((index, value))
    elif isinstance(points, (list, tuple)):
        items = list(enumerate(points))
    else:
        raise bad_value("points", points, "per-node lists of [t, x, y]")
    result: dict[int, Script] = {}
    for index, node_points in items:
        if not 0 <= index < count:
            raise bad_value(f"points[{index}]", node_points, f"node indices 0..{count - 1}")
        if not isinstance(node_points, (list, tuple)):
            raise bad_value(f"points[{index}]", node_points, "a list of [t, x, y]")
        previous = -math.inf
        parsed = []
        for j, point in enumerate(node_points):
            key = f"points[{index}][{j}]"
            if (
                not isinstance(point, (list, tuple))
                or len(point) != 3
                or not all(is_number(v) for v in point)
            ):
                raise bad_value(key, point, "[t, x, y] numbers")
            t, x, y = (float(v) for v in point)
            if t < 0.0 or t <= previous:
                raise bad_value(
                    key, point, f"a time >= 0 and later than the previous point ({previous:g})"
                )
            if not inside((x, y), area, AREA_TOLERANCE):
                raise bad_value(key, point, f"a point inside the area {area[0]:g} x {area[1]:g}")
            parsed.append((t, clamp(x, 0.0, area[0]), clamp(y, 0.0, area[1])))
            previous = t
        result[index] = parsed
    return result


def check_waypoint_speeds(index: int, start: Point, points: Script) -> None:
    """Refuse a script that needs a node faster than ``MAX_SPEED`` (points a few nanoseconds
    apart would give speeds that overflow to infinity)."""
    t_prev, x_prev, y_prev = 0.0, start[0], start[1]
    for j, (t, x, y) in enumerate(points):
        if t > 0.0:
            speed = math.hypot(x - x_prev, y - y_prev) / (t - t_prev)
            if speed > MAX_SPEED:
                raise bad_value(f"points[{index}][{j}]", [t, x, y],
                                f"points reachable at <= {MAX_SPEED:g} m/s (this one needs "
                                f"{speed:.3g} m/s)")
        t_prev, x_prev, y_prev = t, x, y


def scripted_trajectory(start: Point, points: Sequence[tuple[float, float, float]]) -> Trajectory:
    path = PathBuilder(*start)
    t_prev, x_prev, y_prev = 0.0, start[0], start[1]
    for t, x, y in points:
        if t == 0.0:
            path = PathBuilder(x, y)
        else:
            dt = t - t_prev
            path.add(t_prev, x_prev, y_prev, (x - x_prev) / dt, (y - y_prev) / dt)
            path.add(t, x, y, 0.0, 0.0)
        t_prev, x_prev, y_prev = t, x, y
    return path.trajectory()
