"""The random models: random waypoint, random walk and Gauss-Markov.

Each gets the node's own ``random.Random`` (see :func:`node_rng`) and returns its trajectory,
computed on demand: each model is written as a plan (a generator that adds the next legs per
step, see :data:`~meshnet.mobility.trajectory.Plan`), so a long run never holds legs it has not
reached, and the legs are exactly those of the plan run to its end.
"""

from __future__ import annotations

import math
import random
from typing import Callable

from meshnet.geometry import (
    TAU,
    Area,
    Point,
    clamp,
    distance,
    mean_distance_in_rectangle,
    wrap_angle,
)
from meshnet.limits import MAX_SPEED

from .motion import MIN_EXTENT, PathBuilder, move_reflecting
from .trajectory import Plan, Trajectory, survey_max_speed

SPEED_FLOOR = 0.1
"""Lowest speed (m/s) random waypoint draws, so a zero minimum speed cannot stall a node."""


def node_rng(seed: int, index: int) -> random.Random:
    """The mobility random stream of node ``index``: independent of every other node and of the
    global RNG, so adding a node never changes how the others move."""
    return random.Random(f"{seed}:mobility:{index}")


def _uniform_point(rng: random.Random, area: Area) -> Point:
    return (rng.uniform(0.0, area[0]), rng.uniform(0.0, area[1]))


def _speed_range(min_speed: float, max_speed: float) -> tuple[float, float]:
    """Random waypoint's effective speed range, with the floor that keeps nodes from stalling."""
    return (max(min_speed, min(SPEED_FLOOR, max_speed)), max_speed)


def _stationary_rwp_start(
    rng: random.Random, area: Area, v_lo: float, v_hi: float, pause: float
) -> tuple[Point, float, Point | None, float]:
    """A random-waypoint state drawn from the model's stationary distribution (Navidi & Camp).

    Returns ``(position, remaining_pause, destination, speed)``; ``destination`` is None when the
    node starts paused. A node is paused with probability ``E[pause] / (E[pause] + E[travel])``;
    a moving node lies uniformly on a leg whose length is length-biased, and moves at a speed
    whose density is proportional to ``1/v`` (slow legs last longer)."""
    if v_hi > v_lo:
        mean_inverse_speed = math.log(v_hi / v_lo) / (v_hi - v_lo)
    else:
        mean_inverse_speed = 1.0 / v_lo
    mean_travel = mean_distance_in_rectangle(*area) * mean_inverse_speed
    if pause > 0.0 and rng.random() < pause / (pause + mean_travel):
        return (_uniform_point(rng, area), rng.uniform(0.0, pause), None, 0.0)
    diagonal = math.hypot(*area)
    while True:
        a = _uniform_point(rng, area)
        b = _uniform_point(rng, area)
        if rng.random() * diagonal < distance(a, b):
            break
    u = rng.random()
    position = (a[0] + u * (b[0] - a[0]), a[1] + u * (b[1] - a[1]))
    speed = v_lo * (v_hi / v_lo) ** rng.random() if v_hi > v_lo else v_lo
    return (position, 0.0, b, speed)


def planned(plan_of: Callable[[random.Random], Plan], rng: random.Random,
            horizon: float) -> Trajectory:
    """A trajectory computed on demand from ``plan_of(rng)``. Its ``max_speed`` comes from a
    survey of the same plan on a copy of ``rng`` (constant memory), so the trajectory has the
    very segments and maximum speed of a plan run to its end up front."""
    twin = random.Random()
    twin.setstate(rng.getstate())
    return Trajectory.planned(plan_of(rng), survey_max_speed(plan_of(twin), horizon))


def random_waypoint(
    index: int, rng: random.Random, start: Point, area: Area, duration: float, p: dict
) -> Trajectory:
    v_lo, v_hi = _speed_range(p["min_speed"], p["max_speed"])
    if v_hi <= 0.0 or max(area) < MIN_EXTENT:
        return Trajectory.stationary(*start)
    return planned(lambda r: _random_waypoint_plan(r, start, area, duration, p, v_lo, v_hi),
                   rng, duration)


def _random_waypoint_plan(rng: random.Random, start: Point, area: Area, duration: float,
                          p: dict, v_lo: float, v_hi: float) -> Plan:
    pause = p["pause"]
    t = 0.0
    position = start
    if p["steady_state"]:
        position, remaining, dest, speed = _stationary_rwp_start(rng, area, v_lo, v_hi, pause)
        path = PathBuilder(*position)
        yield path.segments
        if dest is None:
            t = remaining
        else:
            t = path.travel(0.0, position, dest, speed) + pause
            position = dest
    else:
        # As in Broch et al. 1998 and ns-2's setdest: every node first stays put for the pause
        # time, so pause = duration means a static network.
        path = PathBuilder(*position)
        yield path.segments
        t = pause
    while t < duration:
        dest = _uniform_point(rng, area)
        speed = rng.uniform(v_lo, v_hi)
        t = path.travel(t, position, dest, speed) + pause
        position = dest
        yield path.segments


def random_walk(
    index: int, rng: random.Random, start: Point, area: Area, duration: float, p: dict
) -> Trajectory:
    return planned(lambda r: _random_walk_plan(r, start, area, duration, p), rng, duration)


def _random_walk_plan(rng: random.Random, start: Point, area: Area, duration: float,
                      p: dict) -> Plan:
    interval = p["interval"]
    x, y = start
    path = PathBuilder(x, y)
    yield path.segments
    step = 0
    t = 0.0
    while t < duration:
        heading = rng.uniform(0.0, TAU)
        speed = rng.uniform(p["min_speed"], p["max_speed"])
        t_end = (step + 1) * interval
        x, y, _, _ = yield from move_reflecting(
            path, t, t_end, x, y, speed * math.cos(heading), speed * math.sin(heading), area
        )
        yield path.segments
        t = t_end
        step += 1
    path.add(t, x, y, 0.0, 0.0)


def away_from_edges(x: float, y: float, area: Area, margin: float) -> float | None:
    """Heading pointing away from the borders within ``margin`` of ``(x, y)``, or None."""
    width, height = area
    ex = (1 if x <= width - x else -1) if min(x, width - x) < margin else 0
    ey = (1 if y <= height - y else -1) if min(y, height - y) < margin else 0
    if ex == 0 and ey == 0:
        return None
    return math.atan2(ey, ex)


def gauss_markov(
    index: int, rng: random.Random, start: Point, area: Area, duration: float, p: dict
) -> Trajectory:
    return planned(lambda r: _gauss_markov_plan(r, start, area, duration, p), rng, duration)


def _gauss_markov_plan(rng: random.Random, start: Point, area: Area, duration: float,
                       p: dict) -> Plan:
    alpha = p["alpha"]
    mean_speed = p["mean_speed"]
    interval = p["interval"]
    margin = p["edge_margin"] if p["edge_margin"] is not None else 0.1 * min(area)
    cap = p["max_speed"]
    if cap is None:
        cap = min(mean_speed + 3.0 * p["sigma_speed"], MAX_SPEED)
    memory = math.sqrt(1.0 - alpha * alpha)
    x, y = start
    path = PathBuilder(x, y)
    yield path.segments
    speed = mean_speed
    heading = mean_heading = rng.uniform(0.0, TAU)
    step = 0
    t = 0.0
    while t < duration:
        t_end = (step + 1) * interval
        x, y, vx, vy = yield from move_reflecting(
            path, t, t_end, x, y, speed * math.cos(heading), speed * math.sin(heading), area
        )
        yield path.segments
        if vx != 0.0 or vy != 0.0:
            heading = math.atan2(vy, vx)  # a bounce turns the node
        away = away_from_edges(x, y, area, margin)
        if away is not None:
            mean_heading = away
        target = heading + wrap_angle(mean_heading - heading)
        speed_noise = memory * rng.gauss(0.0, p["sigma_speed"])
        speed = alpha * speed + (1.0 - alpha) * mean_speed + speed_noise
        speed = clamp(speed, 0.0, cap)
        heading = alpha * heading + (1.0 - alpha) * target + memory * rng.gauss(0.0, p["sigma_dir"])
        t = t_end
        step += 1
    path.add(t, x, y, 0.0, 0.0)
