"""Geometry of GPSR: planarization of the neighbour table (Karp & Kung 2000), the
right-hand rule and segment crossings. Positions are integer millimetres (see :mod:`.wire`), so
every test that decides an edge is exact integer arithmetic; only angles use floats.

Each node planarizes locally, from its own position and its neighbours' (no messages):

- Gabriel graph (GG): edge (u, v) stays unless some other neighbour w lies strictly inside the
  circle with diameter uv: ``|w - m|^2 < (|uv| / 2)^2`` with m the midpoint of uv.
- Relative neighbourhood graph (RNG): edge (u, v) stays unless some other neighbour w is closer to
  both ends than they are to each other: ``max(|uw|, |vw|) < |uv|``.

RNG is a subgraph of GG; both are planar and keep a connected unit-disk graph connected.
"""

from __future__ import annotations

import math
from typing import Mapping

Point = tuple[int, int]
TWO_PI = 2 * math.pi


def d2(a: Point, b: Point) -> int:
    """Squared distance (exact for integer points)."""
    dx, dy = a[0] - b[0], a[1] - b[1]
    return dx * dx + dy * dy


def gabriel(me: Point, neighbours: Mapping[str, Point]) -> dict[str, Point]:
    """The neighbours whose edge from ``me`` survives the Gabriel-graph test."""
    items = list(neighbours.items())
    out = {}
    for v, pv in items:
        # |2w - (u + v)|^2 < |u - v|^2 is |w - m|^2 < (|uv| / 2)^2, times 4: integers only
        sx, sy = me[0] + pv[0], me[1] + pv[1]
        limit = d2(me, pv)
        for w, pw in items:
            if w == v:
                continue
            dx, dy = 2 * pw[0] - sx, 2 * pw[1] - sy
            if dx * dx + dy * dy < limit:
                break
        else:
            out[v] = pv
    return out


def rng(me: Point, neighbours: Mapping[str, Point]) -> dict[str, Point]:
    """The neighbours whose edge from ``me`` survives the relative-neighbourhood-graph test."""
    items = list(neighbours.items())
    out = {}
    for v, pv in items:
        limit = d2(me, pv)
        for w, pw in items:
            if w != v and d2(me, pw) < limit and d2(pv, pw) < limit:
                break
        else:
            out[v] = pv
    return out


def planarize(mode: str, me: Point, neighbours: Mapping[str, Point]) -> dict[str, Point]:
    """``gabriel``, ``rng`` or ``none`` (the full neighbour set, not planar in general)."""
    if mode == "gabriel":
        return gabriel(me, neighbours)
    if mode == "rng":
        return rng(me, neighbours)
    if mode == "none":
        return dict(neighbours)
    raise ValueError(f"unknown planarization {mode!r}")


def bearing(frm: Point, to: Point) -> float:
    """Angle of the direction from ``frm`` to ``to``, counterclockwise from the x axis."""
    return math.atan2(to[1] - frm[1], to[0] - frm[0])


def next_counterclockwise(me: Point, reference: float, candidates: Mapping[str, Point],
                          ) -> str | None:
    """The right-hand rule: the candidate whose edge from ``me`` comes first sweeping
    counterclockwise from the direction ``reference`` (radians). A candidate exactly on the
    reference direction comes last (a full turn), so the edge a packet arrived on is taken only
    when there is no other. Ties go to the nearer candidate, then to the lower address."""
    best = None
    best_key = None
    for address, p in candidates.items():
        if p == me:
            continue
        delta = (bearing(me, p) - reference) % TWO_PI
        if delta <= 1e-12:
            delta = TWO_PI
        key = (delta, d2(me, p), address)
        if best_key is None or key < best_key:
            best, best_key = address, key
    return best


def _orient(a: Point, b: Point, c: Point) -> int:
    v = (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0])
    return (v > 0) - (v < 0)


def crossing(a: Point, b: Point, c: Point, d: Point) -> tuple[float, float] | None:
    """The point where closed segments ab and cd meet, or None if they do not or if they are
    collinear (overlapping segments have no single crossing point)."""
    o1, o2 = _orient(a, b, c), _orient(a, b, d)
    o3, o4 = _orient(c, d, a), _orient(c, d, b)
    if o1 == o2 == 0:
        return None  # collinear
    if o1 * o2 > 0 or o3 * o4 > 0:
        return None
    rx, ry = b[0] - a[0], b[1] - a[1]
    sx, sy = d[0] - c[0], d[1] - c[1]
    den = rx * sy - ry * sx
    if den == 0:
        return None
    t = ((c[0] - a[0]) * sy - (c[1] - a[1]) * sx) / den
    return (a[0] + t * rx, a[1] + t * ry)
