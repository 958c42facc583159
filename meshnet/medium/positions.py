"""Positions of many nodes at once, for the medium's per-frame hot path.

A frame's sender examines every node in the spatial-grid cells around it (about 250 at Broch's
density with WaveLAN's 550 m carrier-sense reach). Asking each trajectory for its position in
Python dominated the cost of a frame at 1000 nodes, so this keeps the segment every node is on
as numpy arrays (mobility legs are straight lines) and evaluates positions and squared
distances of a whole candidate set in a few array operations. A node's row is refreshed from
its trajectory only when time leaves the row's segment.

The arithmetic is the same as :meth:`meshnet.mobility.trajectory.Trajectory.position`
operation for operation (``x0 + vx * max(t - t0, 0)``), so results are bit-identical to asking
the trajectories one by one.
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np


class PositionTable:
    """Numpy mirror of the current segment of every trajectory.

    One row per node: ``x0, y0, vx, vy, t0`` of its segment, and apart the time the segment
    ends. Rows are brought up to date all at once, only when time passes the earliest segment
    end (or goes back), so a frame costs one gather and a few vector operations."""

    __slots__ = ("_tracks", "_rows", "_t1", "_next_end", "_last_t")

    def __init__(self, trajectories: Sequence) -> None:
        n = len(trajectories)
        self._tracks = trajectories
        self._rows = np.zeros((n, 5))
        self._rows[:, 4] = math.inf     # an empty row: every time is outside it
        self._t1 = np.full(n, -math.inf)
        self._next_end = -math.inf      # earliest end of a row's segment
        self._last_t = math.inf

    def invalidate(self, i: int | None = None) -> None:
        """Forget node ``i``'s row (every row with ``None``): its trajectory was changed."""
        if i is None:
            self._rows[:, 4] = math.inf
            self._t1.fill(-math.inf)
        else:
            self._rows[i, 4] = math.inf
            self._t1[i] = -math.inf
        self._next_end = -math.inf

    def _refresh(self, t: float) -> None:
        rows, t1 = self._rows, self._t1
        for i in np.flatnonzero((t < rows[:, 4]) | (t >= t1)).tolist():
            track = self._tracks[i]
            seg = track.segment_at(t)
            rows[i] = (seg.x0, seg.y0, seg.vx, seg.vy, seg.t0)
            t1[i] = track.segment_end(t)
        self._next_end = float(t1.min()) if len(t1) else math.inf
        self._last_t = t

    def coordinates(self, t: float) -> tuple[np.ndarray, np.ndarray]:
        """Every node's ``x`` and ``y`` at time ``t`` (as :meth:`squared_distances` computes
        them)."""
        if t >= self._next_end or t < self._last_t:
            self._refresh(t)
        self._last_t = t
        rows = self._rows
        dt = t - rows[:, 4]
        if t < 0.0:
            np.maximum(dt, 0.0, out=dt)
        return rows[:, 0] + rows[:, 2] * dt, rows[:, 1] + rows[:, 3] * dt

    def squared_distances(self, idx: np.ndarray, x: float, y: float, t: float) -> np.ndarray:
        """``(x_j - x)**2 + (y_j - y)**2`` at time ``t`` for every node index in ``idx``."""
        if t >= self._next_end or t < self._last_t:
            self._refresh(t)
        self._last_t = t
        rows = self._rows[idx]
        dt = t - rows[:, 4]
        if t < 0.0:  # as Trajectory.position: before time 0 a node is where it starts
            np.maximum(dt, 0.0, out=dt)
        dx = rows[:, 0] + rows[:, 2] * dt - x
        dy = rows[:, 1] + rows[:, 3] * dt - y
        return dx * dx + dy * dy


__all__ = ["PositionTable"]
