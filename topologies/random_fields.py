"""Random placements in a rectangle: uniform and clustered.

Randomness comes only from the ``random.Random`` passed in, so a placement is reproducible from
the scenario seed.
"""

from __future__ import annotations

import random

from meshnet.geometry import Point, clamp


def uniform(n: int, width: float, height: float, rng: random.Random) -> list[Point]:
    """``n`` nodes drawn independently and uniformly in ``[0, width] x [0, height]``."""
    return [(rng.uniform(0.0, width), rng.uniform(0.0, height)) for _ in range(n)]


def default_spread(width: float, height: float) -> float:
    """Cluster radius scale when none is given: a tenth of the shorter side (of the longer one if
    the area is a line)."""
    shorter = min(width, height)
    return (shorter if shorter > 0 else max(width, height)) / 10.0


def clusters(
    n: int,
    width: float,
    height: float,
    rng: random.Random,
    k: int = 4,
    spread: float | None = None,
) -> list[Point]:
    """``n`` nodes in ``k`` groups, as in a building with a few busy rooms.

    Cluster centres are uniform in the area (kept ``spread`` away from the borders when it fits);
    node ``i`` joins cluster ``i % k`` and sits at a Gaussian offset of standard deviation
    ``spread`` from its centre, pulled back onto the border if the offset leaves the area."""
    if spread is None:
        spread = default_spread(width, height)
    inset_x = spread if 2 * spread < width else 0.0
    inset_y = spread if 2 * spread < height else 0.0
    centres = [
        (rng.uniform(inset_x, width - inset_x), rng.uniform(inset_y, height - inset_y))
        for _ in range(k)
    ]
    points = []
    for i in range(n):
        cx, cy = centres[i % k]
        points.append(
            (
                clamp(rng.gauss(cx, spread), 0.0, width),
                clamp(rng.gauss(cy, spread), 0.0, height),
            )
        )
    return points
