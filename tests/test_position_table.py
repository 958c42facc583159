"""The medium's vectorised positions equal the trajectories' own, bit for bit."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from meshnet.medium.positions import PositionTable
from meshnet.medium.spatial import SpatialGrid
from meshnet.mobility.trajectory import Segment, Trajectory

coord = st.floats(-5000, 5000, allow_nan=False)
speed = st.floats(-30, 30, allow_nan=False)


@st.composite
def trajectories(draw):
    n_seg = draw(st.integers(1, 6))
    starts = sorted(set(draw(st.lists(st.floats(0.001, 500), min_size=n_seg - 1,
                                      max_size=n_seg - 1))))
    return Trajectory([Segment(t0, draw(coord), draw(coord), draw(speed), draw(speed))
                       for t0 in [0.0, *starts]])


@settings(max_examples=200, deadline=None)
@given(st.lists(trajectories(), min_size=1, max_size=12),
       st.lists(st.floats(-1, 600, allow_nan=False), min_size=1, max_size=20),
       coord, coord)
def test_squared_distances_match_trajectory_positions(tracks, times, x, y):
    table = PositionTable(tracks)
    idx = np.arange(len(tracks), dtype=np.intp)[::-1]  # any order, repeated refreshes
    for t in times:  # times in any order: rows are refreshed backwards too
        got = table.squared_distances(idx, x, y, t).tolist()
        want = []
        for j in idx.tolist():
            xj, yj = tracks[j].position(t)
            dx, dy = xj - x, yj - y
            want.append(dx * dx + dy * dy)
        assert got == want


def test_a_teleported_node_is_seen_where_it_was_put():
    track = Trajectory([Segment(0.0, 0.0, 0.0, 10.0, 0.0)])
    table = PositionTable([track])
    idx = np.array([0])
    assert table.squared_distances(idx, 0.0, 0.0, 5.0).tolist() == [2500.0]
    track.set_position(5.0, 3.0, 4.0)
    table.invalidate(0)
    assert table.squared_distances(idx, 0.0, 0.0, 6.0).tolist() == [25.0]


def test_candidate_array_is_the_candidate_list():
    tracks = [Trajectory.stationary(x * 37.0 % 1000, x * 91.0 % 700) for x in range(300)]
    grid = SpatialGrid(120.0, 0.0)
    pos = lambda i, t: tracks[i].position(t)  # noqa: E731
    for x, y in [(0, 0), (500, 350), (999, 699), (-50, 20)]:
        assert grid.candidate_array(x, y, 0.0, pos, 300).tolist() == grid.candidates(
            x, y, 0.0, pos, 300)
