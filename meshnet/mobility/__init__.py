"""Node mobility: positions as a pure function of time.

Every model is turned, up front, into one :class:`Trajectory` per node: a list of straight-line
:class:`Segment` s, each valid from its start time until the next one starts. The simulator, the
namespace backend and the TUI all ask the same trajectories for positions, so they agree exactly,
and a run is reproducible from its seed. Each node draws from its own ``random.Random`` derived from
``(seed, node index)``; the global RNG is never used.

Models (``MODEL_NAMES``) and their parameters (all optional unless marked):

``static``
    no parameters; nodes stay at their initial positions.
``random-waypoint``
    ``min_speed`` (m/s, default 0), ``max_speed`` (default 20), ``pause`` (s, default 0),
    ``steady_state`` (default false). A node first stays put for ``pause`` seconds (as in Broch
    et al. 1998 and ns-2's setdest), then picks a uniform destination in the area, travels to
    it at a uniform speed, pauses, repeats. Speeds are drawn from
    ``[max(min_speed, 0.1), max_speed]`` -- the same as redrawing any speed below 0.1 m/s -- so that
    ``min_speed = 0`` (as in Broch et al.) cannot leave a node crawling for the whole run; a
    ``max_speed`` below 0.1 is used as a constant speed and ``max_speed = 0`` means no movement.
    ``steady_state`` starts every node in the stationary distribution of the model (Navidi & Camp
    2004): position, pause state and speed as if the model had run forever, which removes the
    initial speed decay. It ignores the initial positions.
``random-walk``
    ``min_speed`` (default 0), ``max_speed`` (default 5), ``interval`` (s, default 10). Every
    ``interval`` seconds a node takes a uniform direction and speed; it reflects off the borders.
``gauss-markov``
    ``mean_speed`` (default 5), ``alpha`` (0..1, default 0.75; 0 = memoryless, 1 = straight line),
    ``interval`` (default 1), ``sigma_speed`` (m/s, default 1), ``sigma_dir`` (radians, default
    0.5), ``edge_margin`` (m, default 10 % of the shorter side), ``max_speed`` (default
    ``mean_speed + 3 * sigma_speed``, at most 1000). Speed and heading are updated every interval as in Liang &
    Haas; within ``edge_margin`` of a border the node's mean direction turns to point away from it
    (edge avoidance, Camp et al. 2002), and it reflects off the border itself.
``waypoints``
    ``points``: per node a list of ``[t, x, y]`` (a list indexed by node, or a table keyed by node
    index). The node leaves its initial position at time 0 (a point at ``t = 0`` replaces it),
    travels in straight lines to be at each point at its time, then stays at the last one. Nodes
    without points stay put.
``ns2-trace``
    ``trace`` (required): path of an ns-2 ``setdest`` / BonnMotion ns-2 movement file, see
    :func:`parse_ns2_trace`. The trace's initial positions override the given ones.

Speeds are at most ``meshnet.limits.MAX_SPEED`` (1000 m/s), times at most ``MAX_DURATION``
(1e8 s); docs/scenarios.md lists every parameter's range. Random models plan their legs as time
advances (see :mod:`.random_models`), so a long run holds only the legs it has reached.

After the generated horizon (which reaches at least ``duration``) every node stands still, so
positions are defined and inside the area for all ``t >= 0``; times before 0 give the start
position. Positions on a border can be off by float rounding (well below a micrometre). Random walk
and Gauss-Markov do not move across an area side shorter than ``MIN_EXTENT`` (1 m); random
waypoint keeps nodes still in an area below that both ways.
"""

from __future__ import annotations

import random
from typing import Any, Callable, Mapping, Sequence

from meshnet.geometry import Area, Point

from .errors import MobilityError
from .motion import MIN_EXTENT
from .ns2 import Ns2Move, ns2_trajectories, parse_ns2_trace
from .params import check_area, check_initial, is_number, model_parameters, resolve_params
from .random_models import SPEED_FLOOR, gauss_markov, node_rng, random_walk, random_waypoint
from .scripted import check_waypoint_speeds, scripted_trajectory, waypoint_lists
from .trajectory import Segment, Trajectory, segment_boundaries

__all__ = [
    "MIN_EXTENT",
    "MODEL_NAMES",
    "SPEED_FLOOR",
    "MobilityError",
    "Ns2Move",
    "Segment",
    "Trajectory",
    "build_trajectories",
    "model_parameters",
    "node_rng",
    "parse_ns2_trace",
    "segment_boundaries",
]

MODEL_NAMES = ("static", "random-waypoint", "random-walk", "gauss-markov", "waypoints", "ns2-trace")

_Builder = Callable[[int, random.Random, Point, Area, float, dict], Trajectory]

_RANDOM_MODELS: dict[str, _Builder] = {
    "random-waypoint": random_waypoint,
    "random-walk": random_walk,
    "gauss-markov": gauss_markov,
}


def build_trajectories(
    model: str,
    params: Mapping[str, Any] | None,
    initial: Sequence[Sequence[float]],
    area: Sequence[float],
    duration: float,
    seed: int,
) -> list[Trajectory]:
    """One trajectory per node for ``model`` (see the module docstring for parameters).

    ``initial`` gives the start positions (inside ``area = (width, height)``); ``duration`` is how
    far ahead random models plan (nodes stand still afterwards). Bad input raises
    :class:`MobilityError` naming the key, the value and what is allowed."""
    if model not in MODEL_NAMES:
        raise MobilityError(
            f"mobility.model = {model!r} is not allowed: expected one of {', '.join(MODEL_NAMES)}"
        )
    values = resolve_params(model, params or {})
    box = check_area(area)
    if not is_number(duration) or duration < 0:
        raise MobilityError(f"duration = {duration!r} is not allowed: expected a number >= 0")
    if model == "ns2-trace":
        return ns2_trajectories(values["trace"], initial, box)
    starts = check_initial(initial, box)
    if model == "static":
        return [Trajectory.stationary(*start) for start in starts]
    if model == "waypoints":
        scripts = waypoint_lists(values["points"], len(starts), box)
        for i, start in enumerate(starts):
            check_waypoint_speeds(i, start, scripts.get(i, ()))
        return [scripted_trajectory(start, scripts.get(i, ())) for i, start in enumerate(starts)]
    builder = _RANDOM_MODELS[model]
    return [
        builder(i, node_rng(seed, i), start, box, float(duration), values)
        for i, start in enumerate(starts)
    ]
