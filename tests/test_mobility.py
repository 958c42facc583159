"""Mobility models: trajectories are continuous, stay in the area, respect their parameters and
are reproducible from the seed."""

from __future__ import annotations

import math
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from meshnet.mobility import (
    MODEL_NAMES,
    SPEED_FLOOR,
    MobilityError,
    Segment,
    Trajectory,
    build_trajectories,
    model_parameters,
    segment_boundaries,
)

AREA = (1500.0, 300.0)
EPS = 1e-6
RANDOM_MODELS = ("random-waypoint", "random-walk", "gauss-markov")


def starts(n, area=AREA, seed=0):
    rng = random.Random(seed)
    return [(rng.uniform(0, area[0]), rng.uniform(0, area[1])) for _ in range(n)]


def assert_well_formed(trajectory: Trajectory, area, horizon: float) -> None:
    """Continuous, inside the area at every segment end (so everywhere: motion is linear and the
    area convex), and at rest after the last course change."""
    segs = trajectory.segments
    assert segs[0].t0 == 0.0
    for before, after in zip(segs, segs[1:]):
        assert after.t0 > before.t0
        x, y = before.position(after.t0)
        assert x == pytest.approx(after.x0, abs=EPS) and y == pytest.approx(after.y0, abs=EPS)
    for seg in segs:
        assert -EPS <= seg.x0 <= area[0] + EPS and -EPS <= seg.y0 <= area[1] + EPS
    assert segs[-1].vx == 0.0 and segs[-1].vy == 0.0
    for k in range(200):
        x, y = trajectory.position(horizon * k / 199)
        assert -EPS <= x <= area[0] + EPS and -EPS <= y <= area[1] + EPS


@pytest.mark.parametrize("model", RANDOM_MODELS)
@pytest.mark.parametrize("seed", [1, 2, 3, 42])
def test_random_models_are_continuous_and_stay_inside(model, seed):
    params = {"max_speed": 20.0} if model != "gauss-markov" else {"mean_speed": 10.0}
    trajectories = build_trajectories(model, params, starts(15, seed=seed), AREA, 2000.0, seed)
    assert len(trajectories) == 15
    for trajectory in trajectories:
        assert_well_formed(trajectory, AREA, 2000.0)
        assert trajectory.segments[-1].t0 >= 2000.0 - EPS  # planned at least to the end of the run


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(min_value=-(2**63), max_value=2**63),
    model=st.sampled_from(RANDOM_MODELS),
    width=st.floats(min_value=0.0, max_value=3000.0),
    height=st.floats(min_value=0.0, max_value=3000.0),
)
def test_any_seed_and_area_keeps_nodes_inside(seed, model, width, height):
    area = (width, height)
    trajectories = build_trajectories(model, {}, starts(3, area, seed=1), area, 120.0, seed)
    for trajectory in trajectories:
        assert_well_formed(trajectory, area, 150.0)


def moving_speeds(trajectories):
    return [s.speed for t in trajectories for s in t.segments if s.speed > 0.0]


def test_random_waypoint_speeds_within_bounds():
    params = {"min_speed": 2.0, "max_speed": 5.0, "pause": 0.0}
    trajectories = build_trajectories("random-waypoint", params, starts(20), AREA, 3000.0, 7)
    speeds = moving_speeds(trajectories)
    assert speeds and all(2.0 - 1e-9 <= v <= 5.0 + 1e-9 for v in speeds)
    assert all(t.max_speed <= 5.0 + 1e-9 for t in trajectories)


def test_random_waypoint_zero_min_speed_uses_floor():
    params = {"min_speed": 0.0, "max_speed": 1.0}
    trajectories = build_trajectories("random-waypoint", params, starts(30), AREA, 5000.0, 3)
    speeds = moving_speeds(trajectories)
    assert min(speeds) >= SPEED_FLOOR - 1e-9
    assert max(speeds) <= 1.0 + 1e-9


def test_random_waypoint_tiny_and_zero_max_speed():
    still = build_trajectories("random-waypoint", {"max_speed": 0.0}, starts(3), AREA, 100.0, 1)
    assert all(len(t.segments) == 1 and t.max_speed == 0.0 for t in still)
    slow = build_trajectories("random-waypoint", {"max_speed": 0.05}, starts(3), AREA, 100.0, 1)
    assert all(v == pytest.approx(0.05) for v in moving_speeds(slow))


def test_random_waypoint_pauses_at_each_waypoint():
    params = {"min_speed": 5.0, "max_speed": 10.0, "pause": 30.0}
    trajectories = build_trajectories("random-waypoint", params, starts(10), AREA, 2000.0, 11)
    for trajectory in trajectories:
        segs = trajectory.segments
        # Broch et al. / ns-2 setdest: every node first stays put for the pause time
        assert segs[0].speed == 0.0 and segs[1].t0 == pytest.approx(30.0)
        for i, seg in enumerate(segs[:-1]):
            following = segs[i + 1]
            if seg.speed == 0.0:
                assert following.t0 - seg.t0 == pytest.approx(30.0)
                assert following.speed > 0.0
            else:
                assert following.speed == 0.0  # every leg ends with a pause


def test_random_waypoint_without_pause_goes_leg_to_leg():
    params = {"min_speed": 1.0, "max_speed": 3.0, "pause": 0.0}
    (trajectory,) = build_trajectories("random-waypoint", params, starts(1), AREA, 2000.0, 5)
    assert all(s.speed > 0.0 for s in trajectory.segments[:-1])


def mean_speed_at(trajectories, t):
    return sum(tr.segment_at(t).speed for tr in trajectories) / len(trajectories)


def test_random_waypoint_steady_state_has_no_speed_decay():
    params = {"min_speed": 0.0, "max_speed": 20.0}
    stationary_mean = (20.0 - SPEED_FLOOR) / math.log(20.0 / SPEED_FLOOR)  # 1 / E[1/V]
    fresh = build_trajectories("random-waypoint", params, starts(600), AREA, 400.0, 9)
    steady = build_trajectories(
        "random-waypoint", {**params, "steady_state": True}, starts(600), AREA, 400.0, 9
    )
    assert mean_speed_at(fresh, 0.0) == pytest.approx(10.05, abs=0.8)
    assert mean_speed_at(steady, 0.0) == pytest.approx(stationary_mean, abs=0.6)
    assert mean_speed_at(steady, 300.0) == pytest.approx(stationary_mean, abs=0.6)
    assert steady[0].position(0.0) != starts(1)[0]  # initial positions come from the distribution
    for trajectory in steady:
        assert_well_formed(trajectory, AREA, 400.0)


def test_random_waypoint_steady_state_starts_some_nodes_paused():
    params = {"min_speed": 5.0, "max_speed": 5.0, "pause": 1000.0, "steady_state": True}
    trajectories = build_trajectories("random-waypoint", params, starts(200), AREA, 100.0, 4)
    paused = sum(1 for t in trajectories if t.segment_at(0.0).speed == 0.0)
    assert 100 < paused < 200  # pauses dominate the cycle, yet some nodes are under way


def test_random_walk_changes_course_each_interval_or_at_a_border():
    params = {"min_speed": 1.0, "max_speed": 15.0, "interval": 20.0}
    trajectories = build_trajectories("random-walk", params, starts(10), AREA, 1000.0, 2)
    bounces = 0
    for trajectory in trajectories:
        for seg in trajectory.segments[1:]:
            on_schedule = math.isclose(seg.t0 / 20.0, round(seg.t0 / 20.0), abs_tol=1e-9)
            on_border = min(seg.x0, AREA[0] - seg.x0, seg.y0, AREA[1] - seg.y0) < 1e-6
            assert on_schedule or on_border
            bounces += on_border and not on_schedule
        speeds = [s.speed for s in trajectory.segments[:-1]]
        assert all(1.0 - 1e-9 <= v <= 15.0 + 1e-9 for v in speeds)
    assert bounces > 0


def test_random_walk_reflection_keeps_speed_and_mirrors_velocity():
    params = {"min_speed": 10.0, "max_speed": 10.0, "interval": 100.0}
    (trajectory,) = build_trajectories("random-walk", params, [(25.0, 25.0)], (50.0, 50.0), 99.0, 6)
    segs = trajectory.segments
    assert len(segs) > 3
    for before, after in zip(segs, segs[1:-1]):
        assert after.speed == pytest.approx(10.0)
        flipped_x = after.vx == pytest.approx(-before.vx) and after.vy == pytest.approx(before.vy)
        flipped_y = after.vy == pytest.approx(-before.vy) and after.vx == pytest.approx(before.vx)
        flipped_xy = after.vx == pytest.approx(-before.vx) and after.vy == pytest.approx(-before.vy)
        assert flipped_x or flipped_y or flipped_xy


def test_gauss_markov_speed_stays_under_cap():
    params = {"mean_speed": 4.0, "sigma_speed": 3.0, "max_speed": 6.0, "alpha": 0.3}
    trajectories = build_trajectories("gauss-markov", params, starts(10), AREA, 1000.0, 8)
    speeds = [s.speed for t in trajectories for s in t.segments]
    assert max(speeds) <= 6.0 + 1e-9
    assert len(set(round(v, 6) for v in speeds)) > 20  # speed really varies


def test_gauss_markov_full_memory_is_straight_constant_motion():
    params = {"mean_speed": 7.0, "alpha": 1.0, "sigma_speed": 5.0, "sigma_dir": 2.0}
    trajectories = build_trajectories("gauss-markov", params, starts(5), AREA, 500.0, 3)
    for trajectory in trajectories:
        for seg in trajectory.segments[:-1]:
            assert seg.speed == pytest.approx(7.0)
        for seg in trajectory.segments[1:-1]:  # only bounces change course
            assert min(seg.x0, AREA[0] - seg.x0, seg.y0, AREA[1] - seg.y0) < 1e-6


def test_gauss_markov_edge_avoidance_points_inward():
    from meshnet.mobility.random_models import away_from_edges

    area = (100.0, 100.0)
    assert away_from_edges(50.0, 50.0, area, 10.0) is None
    assert away_from_edges(2.0, 50.0, area, 10.0) == pytest.approx(0.0)
    assert away_from_edges(98.0, 50.0, area, 10.0) == pytest.approx(math.pi)
    assert away_from_edges(50.0, 1.0, area, 10.0) == pytest.approx(math.pi / 2)
    assert away_from_edges(99.0, 99.0, area, 10.0) == pytest.approx(-3 * math.pi / 4)


def test_waypoints_follow_the_script_exactly():
    points = [[[10.0, 100.0, 0.0], [20.0, 100.0, 100.0]], [], [[0.0, 5.0, 5.0], [5.0, 10.0, 5.0]]]
    initial = [(0.0, 0.0), (50.0, 50.0), (200.0, 200.0)]
    a, b, c = build_trajectories("waypoints", {"points": points}, initial, (300.0, 300.0), 60.0, 0)
    assert a.position(0.0) == (0.0, 0.0)
    assert a.position(5.0) == pytest.approx((50.0, 0.0))
    assert a.position(10.0) == pytest.approx((100.0, 0.0))
    assert a.position(15.0) == pytest.approx((100.0, 50.0))
    assert a.position(1e6) == pytest.approx((100.0, 100.0))
    assert a.max_speed == pytest.approx(10.0)
    assert b.position(30.0) == (50.0, 50.0)
    assert c.position(0.0) == (5.0, 5.0)  # a point at t=0 replaces the initial position
    assert c.position(2.5) == pytest.approx((7.5, 5.0))


def test_waypoints_accept_a_table_keyed_by_node():
    points = {"1": [[4.0, 40.0, 0.0]]}
    a, b = build_trajectories("waypoints", {"points": points}, [(0, 0), (0, 0)], (100, 100), 10, 0)
    assert a.max_speed == 0.0
    assert b.position(2.0) == pytest.approx((20.0, 0.0))


@pytest.mark.parametrize(
    "points, fragment",
    [
        ([[[5.0, 1.0, 1.0], [5.0, 2.0, 2.0]]], "points[0][1]"),
        ([[[-1.0, 1.0, 1.0]]], "points[0][0]"),
        ([[[1.0, 500.0, 1.0]]], "inside the area"),
        ([[[1.0, 1.0]]], "[t, x, y]"),
        ([[], [[1.0, 1.0, 1.0]]], "points[1]"),
        ("nonsense", "points"),
    ],
)
def test_waypoints_reject_bad_scripts(points, fragment):
    with pytest.raises(MobilityError) as info:
        build_trajectories("waypoints", {"points": points}, [(0.0, 0.0)], (100.0, 100.0), 10.0, 0)
    assert fragment in str(info.value)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("model", RANDOM_MODELS)
def test_same_seed_same_trajectories_other_seed_different(model):
    initial = starts(8)
    first = build_trajectories(model, {}, initial, AREA, 600.0, 123)
    again = build_trajectories(model, {}, initial, AREA, 600.0, 123)
    other = build_trajectories(model, {}, initial, AREA, 600.0, 124)
    assert first == again
    assert all(a != b for a, b in zip(first, other))


@pytest.mark.parametrize("model", RANDOM_MODELS)
def test_each_node_has_its_own_random_stream(model):
    few = build_trajectories(model, {}, starts(3), AREA, 300.0, 5)
    more = build_trajectories(model, {}, starts(6), AREA, 300.0, 5)
    assert few == more[:3]  # adding nodes does not change how the others move


def test_module_does_not_touch_the_global_rng():
    random.seed(99)
    expected = random.random()
    random.seed(99)
    build_trajectories("random-waypoint", {}, starts(5), AREA, 300.0, 1)
    assert random.random() == expected


def test_static_model_keeps_nodes_still():
    trajectories = build_trajectories("static", {}, [(1.0, 2.0), (3.0, 4.0)], AREA, 100.0, 1)
    assert [t.position(50.0) for t in trajectories] == [(1.0, 2.0), (3.0, 4.0)]
    assert all(t.max_speed == 0.0 for t in trajectories)


def test_model_names_are_all_buildable():
    assert MODEL_NAMES == (
        "static", "random-waypoint", "random-walk", "gauss-markov", "waypoints", "ns2-trace"
    )
    for model in MODEL_NAMES[:-1]:
        build_trajectories(model, {}, starts(2), AREA, 10.0, 1)


@pytest.mark.parametrize(
    "model, params, fragments",
    [
        ("teleport", {}, ["mobility.model", "'teleport'", "random-waypoint"]),
        ("random-waypoint", {"speed": 3}, ["'speed'", "min_speed", "max_speed"]),
        ("random-waypoint", {"pause": -1}, ["mobility.pause", "-1", ">= 0"]),
        ("random-waypoint", {"max_speed": "fast"}, ["mobility.max_speed", "'fast'"]),
        (
            "random-waypoint",
            {"min_speed": 5, "max_speed": 2},
            ["mobility.min_speed", "5", "max_speed"],
        ),
        ("random-waypoint", {"steady_state": "yes"}, ["mobility.steady_state", "true or false"]),
        ("random-waypoint", {"max_speed": math.inf}, ["mobility.max_speed", "inf"]),
        ("random-walk", {"interval": 0}, ["mobility.interval", ">= 0.1"]),
        ("random-walk", {"interval": 1e-9}, ["mobility.interval", ">= 0.1"]),
        ("gauss-markov", {"alpha": 1.5}, ["mobility.alpha", "1.5", "[0, 1]"]),
        ("gauss-markov", {"mean_speed": 5, "max_speed": 2}, ["mobility.max_speed", "mean_speed"]),
        ("static", {"pause": 1}, ["'pause'", "allowed: none"]),
        ("ns2-trace", {}, ["mobility.trace", "required"]),
    ],
)
def test_bad_model_or_parameter_names_key_value_and_allowed(model, params, fragments):
    with pytest.raises(MobilityError) as info:
        build_trajectories(model, params, starts(2), AREA, 10.0, 1)
    message = str(info.value)
    assert "\n" not in message
    for fragment in fragments:
        assert fragment in message


def test_model_parameters_lists_defaults():
    assert model_parameters("random-waypoint") == {
        "min_speed": 0.0, "max_speed": 20.0, "pause": 0.0, "steady_state": False
    }
    assert model_parameters("static") == {}
    assert set(model_parameters("gauss-markov")) >= {"mean_speed", "alpha", "interval"}


def test_model_key_inside_params_is_tolerated():
    build_trajectories("random-walk", {"model": "random-walk"}, starts(1), AREA, 10.0, 1)


@pytest.mark.parametrize(
    "initial, area, duration, fragment",
    [
        ([(2000.0, 10.0)], AREA, 10.0, "node 0"),
        ([(1.0, 1.0)], (-5.0, 10.0), 10.0, "area.width"),
        ([(1.0, 1.0)], AREA, -1.0, "duration"),
        ([(1.0,)], AREA, 10.0, "node 0"),
    ],
)
def test_bad_initial_area_or_duration(initial, area, duration, fragment):
    with pytest.raises(MobilityError) as info:
        build_trajectories("random-waypoint", {}, initial, area, duration, 1)
    assert fragment in str(info.value)


# --------------------------------------------------------------------------- Trajectory itself


def zigzag() -> Trajectory:
    return Trajectory(
        [
            Segment(0.0, 0.0, 0.0, 1.0, 0.0),
            Segment(10.0, 10.0, 0.0, 0.0, 2.0),
            Segment(15.0, 10.0, 10.0, -1.0, -1.0),
            Segment(20.0, 5.0, 5.0, 0.0, 0.0),
        ]
    )


def test_position_in_any_call_order_matches_the_segments():
    trajectory = zigzag()
    times = [k * 0.25 for k in range(120)]
    def brute_force(t):
        in_force = [s for s in trajectory.segments if s.t0 <= t] or trajectory.segments[:1]
        return in_force[-1].position(max(t, 0.0))

    expected = {t: brute_force(t) for t in times}
    for order in (times, times[::-1], random.Random(3).sample(times, len(times))):
        for t in order:
            assert trajectory.position(t) == pytest.approx(expected[t])
    assert trajectory.position(12.5) == pytest.approx((10.0, 5.0))
    assert trajectory.position(-3.0) == (0.0, 0.0)
    assert trajectory.max_speed == pytest.approx(2.0)


def test_segment_at_picks_the_segment_in_force():
    trajectory = zigzag()
    assert trajectory.segment_at(-1.0).t0 == 0.0
    assert trajectory.segment_at(10.0).t0 == 10.0
    assert trajectory.segment_at(14.999).t0 == 10.0
    assert trajectory.segment_at(1e9).t0 == 20.0


def test_set_position_teleports_and_drops_the_planned_future():
    trajectory = zigzag()
    trajectory.position(18.0)  # warm the cache past the teleport time
    trajectory.set_position(12.0, 100.0, 50.0)
    assert [s.t0 for s in trajectory.segments] == [0.0, 10.0, 12.0]
    assert trajectory.position(11.0) == pytest.approx((10.0, 2.0))
    assert trajectory.position(12.0) == (100.0, 50.0)
    assert trajectory.position(500.0) == (100.0, 50.0)
    assert trajectory.max_speed == pytest.approx(2.0)
    trajectory.set_position(0.0, 1.0, 1.0)
    assert len(trajectory.segments) == 1 and trajectory.position(7.0) == (1.0, 1.0)
    assert trajectory.max_speed == 0.0


def test_trajectory_rejects_bad_segment_lists():
    with pytest.raises(MobilityError):
        Trajectory([])
    with pytest.raises(MobilityError):
        Trajectory([Segment(1.0, 0, 0, 0, 0)])
    with pytest.raises(MobilityError):
        Trajectory([Segment(0.0, 0, 0, 0, 0), Segment(0.0, 1, 1, 0, 0)])


def test_segment_boundaries_lists_every_course_change_in_time_order():
    trajectories = build_trajectories("random-waypoint", {"pause": 5}, starts(6), AREA, 500.0, 1)
    events = segment_boundaries(trajectories)
    assert len(events) == sum(len(t.segments) for t in trajectories)
    keys = [(t0, node) for t0, node, _ in events]
    assert keys == sorted(keys)
    for t0, node, seg in events:
        assert seg in trajectories[node].segments and seg.t0 == t0
    later = segment_boundaries(trajectories, include_initial=False)
    assert len(later) == len(events) - len(trajectories)
    assert all(t0 > 0 for t0, _, _ in later)


def test_random_waypoint_with_pause_equal_to_duration_is_static():
    params = {"min_speed": 0.0, "max_speed": 20.0, "pause": 900.0}
    for trajectory in build_trajectories("random-waypoint", params, starts(10), AREA, 900.0, 5):
        assert trajectory.position(0.0) == trajectory.position(899.9)
