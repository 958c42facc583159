"""Uniform grid for neighbour lookup, so a transmission costs O(neighbours), not O(nodes).

Nodes move, so the grid is rebuilt lazily every ``refresh`` seconds of virtual time; the cell is
the radio reach plus the distance two nodes can close in that time, and callers check exact
positions of the candidates. At constant density the candidates per query stay constant however
many nodes there are.

A rebuild places the nodes where they are at the start of the current period (a multiple of
``refresh``), not at the time of the query that triggers it. So the grid, and the order in which
it lists candidates (the order receivers hear a frame), depends only on virtual time, never on
who asked when: a query made only to observe the run cannot change its course.
"""

from __future__ import annotations

import math
from typing import Callable

import numpy as np


class SpatialGrid:
    def __init__(self, reach: float, max_speed: float, refresh: float = 1.0) -> None:
        self.reach = reach
        self.refresh = refresh if max_speed > 0 else math.inf
        self.cell = max(reach + 2.0 * max_speed * (refresh if max_speed > 0 else 0.0), 1e-6)
        self._cells: dict[tuple[int, int], list[int]] = {}
        self._blocks: dict[tuple[int, int], np.ndarray] = {}  # candidate arrays per cell
        self._built_at = -math.inf
        self.rebuilds = 0

    def _rebuild(self, positions: Callable[[int, float], tuple[float, float]], n: int,
                 t: float) -> None:
        cells: dict[tuple[int, int], list[int]] = {}
        c = self.cell
        for i in range(n):
            x, y = positions(i, t)
            key = (int(x // c), int(y // c))
            bucket = cells.get(key)
            if bucket is None:
                cells[key] = [i]
            else:
                bucket.append(i)
        self._cells = cells
        self._blocks = {}
        self._built_at = t
        self.rebuilds += 1

    def _period_start(self, t: float) -> float:
        """The start of the refresh period holding ``t`` (``t`` itself for a static grid)."""
        if self.refresh == math.inf:
            return t
        return min(t, math.floor(t / self.refresh) * self.refresh)

    def candidates(self, x: float, y: float, t: float,
                   positions: Callable[[int, float], tuple[float, float]], n: int) -> list[int]:
        """Indices of every node that may be within ``reach`` of (x, y) at time t."""
        if t - self._built_at >= self.refresh or t < self._built_at:
            self._rebuild(positions, n, self._period_start(t))
        c = self.cell
        cx, cy = int(x // c), int(y // c)
        cells = self._cells
        out: list[int] = []
        for dx in (-1, 0, 1):
            for dy in (-1, 0, 1):
                b = cells.get((cx + dx, cy + dy))
                if b:
                    out.extend(b)
        return out

    def candidate_array(self, x: float, y: float, t: float,
                        positions: Callable[[int, float], tuple[float, float]],
                        n: int) -> np.ndarray:
        """:meth:`candidates` as an index array (same nodes, same order), built once per cell
        between rebuilds: a busy cell is queried for many frames."""
        if t - self._built_at >= self.refresh or t < self._built_at:
            self._rebuild(positions, n, self._period_start(t))
        c = self.cell
        key = (int(x // c), int(y // c))
        block = self._blocks.get(key)
        if block is None:
            block = self._blocks[key] = np.array(self.candidates(x, y, t, positions, n),
                                                 dtype=np.intp)
        return block

    def invalidate(self) -> None:
        """Force a rebuild at the next query (a node was teleported)."""
        self._built_at = -math.inf
