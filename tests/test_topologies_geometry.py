"""meshnet.geometry: the helpers placements and mobility rely on."""

from __future__ import annotations

import math
import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from meshnet.geometry import (
    bounding_box,
    centre_in_area,
    clamp_point,
    distance,
    distance_sq,
    inside,
    mean_distance_in_rectangle,
    wrap_angle,
)


def test_distances():
    assert distance((0, 0), (3, 4)) == 5.0
    assert distance_sq((1, 1), (4, 5)) == 25.0


def test_clamp_and_inside():
    assert clamp_point((-1.0, 500.0), (100.0, 300.0)) == (0.0, 300.0)
    assert inside((100.0 + 1e-12, 0.0), (100.0, 300.0))
    assert not inside((100.1, 0.0), (100.0, 300.0))


@given(st.floats(min_value=-1e6, max_value=1e6))
def test_wrap_angle_range_and_equivalence(angle):
    wrapped = wrap_angle(angle)
    assert -math.pi < wrapped <= math.pi + 1e-12
    assert math.cos(wrapped) == pytest.approx(math.cos(angle), abs=1e-6)
    assert math.sin(wrapped) == pytest.approx(math.sin(angle), abs=1e-6)


def test_centre_in_area_and_bounding_box():
    points = centre_in_area([(0, 0), (10, 0), (10, 20)], (100, 100))
    assert bounding_box(points) == (45.0, 40.0, 55.0, 60.0)
    assert centre_in_area([], (1, 1)) == []


@pytest.mark.parametrize("width, height", [(1.0, 1.0), (1500.0, 300.0), (10.0, 0.0)])
def test_mean_distance_in_rectangle_matches_sampling(width, height):
    rng = random.Random(1)
    samples = 100_000
    total = sum(
        distance(
            (rng.uniform(0, width), rng.uniform(0, height)),
            (rng.uniform(0, width), rng.uniform(0, height)),
        )
        for _ in range(samples)
    )
    assert mean_distance_in_rectangle(width, height) == pytest.approx(total / samples, rel=0.01)
    if (width, height) == (1.0, 1.0):
        assert mean_distance_in_rectangle(1.0, 1.0) == pytest.approx(0.521405433, abs=1e-9)
