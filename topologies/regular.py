"""Regular placements: line, grid and ring, with exact neighbour spacing.

They are pure geometry (no randomness); :func:`meshnet.topologies.place` centres them in the area.
"""

from __future__ import annotations

import math

from meshnet.geometry import Point


def line(n: int, spacing: float, origin: Point = (0.0, 0.0)) -> list[Point]:
    """``n`` nodes on a horizontal line, ``spacing`` metres apart, the first at ``origin``."""
    ox, oy = origin
    return [(ox + i * spacing, float(oy)) for i in range(n)]


def grid(
    n: int, spacing: float, cols: int | None = None, origin: Point = (0.0, 0.0)
) -> list[Point]:
    """``n`` nodes filling rows of ``cols`` (default: a near-square grid), ``spacing`` apart.

    Row-major: node ``i`` sits in column ``i % cols`` of row ``i // cols``."""
    if cols is None:
        cols = max(1, math.ceil(math.sqrt(n)))
    ox, oy = origin
    return [(ox + (i % cols) * spacing, oy + (i // cols) * spacing) for i in range(n)]


def ring_radius(n: int, spacing: float) -> float:
    """Radius of a regular ``n``-gon whose neighbouring corners are ``spacing`` apart."""
    if n < 2:
        return 0.0
    return spacing / (2.0 * math.sin(math.pi / n))


def ring(n: int, spacing: float, center: Point | None = None) -> list[Point]:
    """``n`` nodes on a circle with neighbours ``spacing`` apart (node ``n-1`` neighbours node 0).

    The default centre puts the circle's bounding square at the origin, so every coordinate is
    non-negative."""
    radius = ring_radius(n, spacing)
    cx, cy = center if center is not None else (radius, radius)
    angles = [2.0 * math.pi * i / n for i in range(n)]
    return [(cx + radius * math.cos(a), cy + radius * math.sin(a)) for a in angles]
