"""The scenario loader's single entry point: ``place(placement, n, area, spacing, rng, file)``."""

from __future__ import annotations

import os
import random

from meshnet.geometry import Area, Point, bounding_box, centre_in_area, check_area, inside, is_number

from .errors import TopologyError
from .files import from_file
from .random_fields import clusters, uniform
from .regular import grid, line, ring

PLACEMENTS = ("line", "grid", "ring", "uniform", "clusters", "file")

_TOLERANCE = 1e-6


def place(
    placement: str,
    n: int | None,
    area: Area,
    spacing: float,
    rng: random.Random,
    file: str | os.PathLike | None = None,
) -> list[Point]:
    """Initial positions of ``n`` nodes inside ``area = (width, height)``.

    ``line``, ``grid`` and ``ring`` use ``spacing`` (metres between neighbours) and are centred in
    the area; ``uniform`` and ``clusters`` draw from ``rng``; ``file`` takes the positions as they
    are in ``file`` (``n`` may be None, otherwise it must match the file). A layout that does not
    fit the area is an error rather than a silent squeeze."""
    if placement not in PLACEMENTS:
        raise TopologyError(
            f"nodes.placement = {placement!r} is not allowed: "
            f"expected one of {', '.join(PLACEMENTS)}"
        )
    box = check_area(area, TopologyError)
    if placement == "file":
        return _from_file(file, n, box)
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise TopologyError(f"nodes.count = {n!r} is not allowed: expected an integer >= 0")
    if placement == "uniform":
        return uniform(n, box[0], box[1], rng)
    if placement == "clusters":
        return clusters(n, box[0], box[1], rng)
    if not is_number(spacing) or spacing <= 0:
        raise TopologyError(f"nodes.spacing = {spacing!r} is not allowed: expected a number > 0")
    layout = {"line": line, "grid": grid, "ring": ring}[placement]
    points = layout(n, float(spacing))
    if not points:
        return []
    min_x, min_y, max_x, max_y = bounding_box(points)
    if max_x - min_x > box[0] + _TOLERANCE or max_y - min_y > box[1] + _TOLERANCE:
        raise TopologyError(
            f"nodes.placement = {placement!r} with {n} nodes {spacing:g} m apart needs "
            f"{max_x - min_x:g} x {max_y - min_y:g} m, more than the area {box[0]:g} x {box[1]:g}"
        )
    return centre_in_area(points, box)


def _from_file(file: str | os.PathLike | None, n: int | None, box: Area) -> list[Point]:
    if file is None or not str(file).strip():
        raise TopologyError(
            "nodes.file is required for placement 'file': expected a GraphML or edge-list path"
        )
    names, points = from_file(file)
    if n is not None and n != len(points):
        raise TopologyError(f"{file}: the file places {len(points)} nodes but nodes.count = {n}")
    for name, point in zip(names, points):
        if not inside(point, box, _TOLERANCE):
            raise TopologyError(
                f"{file}: node {name!r} at ({point[0]:g}, {point[1]:g}) lies outside the area "
                f"{box[0]:g} x {box[1]:g}"
            )
    return points
