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
    """Numpy mirror of the current segment of every trajectory."""

    __slots__ = ("_tracks", "_x0", "_y0", "_vx", "_vy", "_t0", "_t1")

    def __init__(self, trajectories: Sequence) -> None:
        n = len(trajectories)
        self._tracks = trajectories
        self._x0 = np.zeros(n)
        self._y0 = np.zeros(n)
        self._vx = np.zeros(n)
        self._vy = np.zeros(n)
        self._t0 = np.full(n, math.inf)   # an empty row: every time is outside it
        self._t1 = np.full(n, -math.inf)

    def invalidate(self, i: int | None = None) -> None:
        """Forget node ``i``'s row (every row with ``None``): its trajectory was changed."""
        if i is None:
            self._t0.fill(math.inf)
            self._t1.fill(-math.inf)
        else:
            self._t0[i] = math.inf
            self._t1[i] = -math.inf

    def _refresh(self, stale: np.ndarray, t: float) -> None:
        for i in stale.tolist():
            track = self._tracks[i]
            seg = track.segment_at(t)
            self._x0[i] = seg.x0
            self._y0[i] = seg.y0
            self._vx[i] = seg.vx
            self._vy[i] = seg.vy
            self._t0[i] = seg.t0
            self._t1[i] = track.segment_end(t)

    def squared_distances(self, idx: np.ndarray, x: float, y: float, t: float) -> np.ndarray:
        """``(x_j - x)**2 + (y_j - y)**2`` at time ``t`` for every node index in ``idx``."""
        t0 = self._t0[idx]
        stale = (t < t0) | (t >= self._t1[idx])
        if stale.any():
            self._refresh(idx[stale], t)
            t0 = self._t0[idx]
        dt = t - t0
        if t < 0.0:  # as Trajectory.position: before time 0 a node is where it starts
            np.maximum(dt, 0.0, out=dt)
        dx = self._x0[idx] + self._vx[idx] * dt - x
        dy = self._y0[idx] + self._vy[idx] * dt - y
        return dx * dx + dy * dy


__all__ = ["PositionTable"]
