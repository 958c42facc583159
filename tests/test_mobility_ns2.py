"""ns-2 setdest / BonnMotion trace import: exact positions, course changes, clear errors."""

from __future__ import annotations

import pytest

from meshnet.mobility import MobilityError, build_trajectories, parse_ns2_trace

TRACE = """\
# nodes: 3, pause: 0.00, max speed: 25.00, max x: 300.00, max y: 300.00
#
$node_(0) set X_ 10.0
$node_(0) set Y_ 20.0
$node_(0) set Z_ 0.0
$node_(1) set X_ 100.0
$node_(1) set Y_ 100.0
$node_(2) set X_ 0
$node_(2) set Y_ 0
$god_ set-dist 0 1 2

$ns_ at 2.0 "$node_(0) setdest 40.0 60.0 5.0"
$ns_ at 6.0 "$node_(1) setdest 0.0 150.0 25.0"
$ns_ at 1.0 "$node_(1) setdest 100.0 200.0 10.0"   # listed after a later command on purpose
$ns_ at 30.0 "$god_ set-dist 1 2 1"
$ns_ at 3.0 "$node_(2) setdest 50 0 0"
"""

AREA = (300.0, 300.0)

EXPECTED = {
    0: [(0.0, (10, 20)), (2.0, (10, 20)), (7.0, (25, 40)), (12.0, (40, 60)), (500.0, (40, 60))],
    # heads north at 10 m/s, turns west at (100, 150) when the second setdest arrives
    1: [(0.5, (100, 100)), (3.5, (100, 125)), (6.0, (100, 150)), (8.0, (50, 150)),
        (10.0, (0, 150)), (99.0, (0, 150))],
    2: [(0.0, (0, 0)), (50.0, (0, 0))],  # speed 0: stays put
}


def write(tmp_path, text, name="moves.tcl"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_parse_gives_initial_positions_and_time_sorted_moves(tmp_path):
    initial, moves = parse_ns2_trace(write(tmp_path, TRACE))
    assert initial == {0: (10.0, 20.0), 1: (100.0, 100.0), 2: (0.0, 0.0)}
    assert [(m.t, m.x, m.y, m.speed) for m in moves[1]] == [
        (1.0, 100.0, 200.0, 10.0),
        (6.0, 0.0, 150.0, 25.0),
    ]
    assert moves[1][0].where.endswith("moves.tcl:14")


def test_parse_accepts_text_directly():
    initial, moves = parse_ns2_trace(TRACE)
    assert initial[0] == (10.0, 20.0) and len(moves[0]) == 1


@pytest.mark.parametrize("node", [0, 1, 2])
def test_trace_positions_are_exact_at_chosen_times(tmp_path, node):
    path = write(tmp_path, TRACE)
    trajectories = build_trajectories("ns2-trace", {"trace": str(path)}, [], AREA, 100.0, 1)
    assert len(trajectories) == 3
    for t, expected in EXPECTED[node]:
        assert trajectories[node].position(t) == pytest.approx(expected, abs=1e-9)


def test_trace_positions_override_the_scenario_placement(tmp_path):
    path = write(tmp_path, TRACE)
    initial = [(1.0, 1.0)] * 4  # node 3 is not in the trace: it stays where it was placed
    trajectories = build_trajectories("ns2-trace", {"trace": path}, initial, AREA, 100.0, 1)
    assert trajectories[0].position(0.0) == (10.0, 20.0)
    assert trajectories[1].position(8.0) == pytest.approx((50.0, 150.0))
    assert trajectories[3].position(50.0) == (1.0, 1.0)


def test_setdest_at_time_zero_starts_moving_at_once(tmp_path):
    trace = '$node_(0) set X_ 0\n$node_(0) set Y_ 0\n$ns_ at 0.0 "$node_(0) setdest 30 40 10"\n'
    params = {"trace": write(tmp_path, trace)}
    (trajectory,) = build_trajectories("ns2-trace", params, [], AREA, 9, 0)
    assert trajectory.position(2.5) == pytest.approx((15.0, 20.0))
    assert trajectory.position(5.0) == pytest.approx((30.0, 40.0))
    assert trajectory.max_speed == pytest.approx(10.0)


def test_trace_with_more_nodes_than_the_scenario_is_an_error(tmp_path):
    path = write(tmp_path, TRACE)
    with pytest.raises(MobilityError, match="node 2 but the scenario has 2 nodes"):
        build_trajectories("ns2-trace", {"trace": path}, [(0, 0), (0, 0)], AREA, 10, 1)


def test_trace_leaving_the_area_is_an_error_with_its_line(tmp_path):
    path = write(tmp_path, TRACE)
    with pytest.raises(MobilityError) as info:
        build_trajectories("ns2-trace", {"trace": path}, [], (300.0, 180.0), 10, 1)
    assert str(info.value) == (
        f"{path}:14: destination (100, 200) lies outside the area 300 x 180"
    )


@pytest.mark.parametrize(
    "lines, bad_line, fragment",
    [
        (["$node_(0) set X_ abc"], 1, "X_ 'abc' is not a number"),
        (["$node_(0) set X_ 1", "$node_(0) set W_ 2"], 2, "unknown coordinate 'W_'"),
        (["$node_(x) set X_ 1"], 1, "node index 'x'"),
        (["$node_(0) set X_"], 1, "expected '$node_(i) set"),
        (["$node_(0) set X_ 1", "$node_(0) set Y_ 1", '$ns_ at 1 "$node_(0) setdest 1 1 -2"'],
         3, "speed -2 is negative"),
        (["$node_(0) set X_ 1", "$node_(0) set Y_ 1", '$ns_ at -1 "$node_(0) setdest 1 1 2"'],
         3, "time -1 is negative"),
        (["$node_(0) set X_ 1", "$node_(0) set Y_ 1", "", '$ns_ at 1 "$node_(0) setdest 1 1"'],
         4, "setdest needs X Y SPEED, got 2 values"),
        (["$node_(0) set X_ 1", "$node_(0) set Y_ 1", '$ns_ at 1 "$node_(0) set X_ 5"'],
         3, "unsupported timed command 'set'"),
        (["$node_(0) set X_ 1", "$node_(0) set Y_ 1", '$ns_ at 1 "$node_(3) setdest 1 1 1"'],
         3, "unknown node 3"),
        (["$node_(0) set X_ 1", "$node_(0) set Y_ 1", '$ns_ at soon "$node_(0) setdest 1 1 1"'],
         3, "time 'soon' is not a number"),
        (["$node_(0) set X_ 1", "$node_(0) set Y_ 1", "$ns_ at 1 $node_(0) setdest 1 1 1"],
         3, "expected '$ns_ at TIME"),
        (["# header", "set val(nn) 3"], 2, "unrecognised line"),
        (["$node_(0) set X_ 1", "$node_(0) set Z_ 0"], 1, "node 0 has no initial Y_"),
        (["$node_(0) set X_ nan"], 1, "not a finite number"),
    ],
)
def test_malformed_lines_are_reported_with_file_and_line(tmp_path, lines, bad_line, fragment):
    path = write(tmp_path, "\n".join(lines) + "\n")
    with pytest.raises(MobilityError) as info:
        parse_ns2_trace(path)
    message = str(info.value)
    assert message.startswith(f"{path}:{bad_line}: ")
    assert fragment in message
    assert "\n" not in message


def test_unreadable_trace_names_the_file(tmp_path):
    missing = tmp_path / "nope.tcl"
    with pytest.raises(MobilityError, match=r"nope\.tcl: cannot read trace"):
        parse_ns2_trace(str(missing))
    with pytest.raises(MobilityError, match=r"nope\.tcl: cannot read trace"):
        build_trajectories("ns2-trace", {"trace": str(missing)}, [], AREA, 10, 1)


GOD_FORMS = """\
#
# nodes: 2, pause: 0.00, max speed: 5.00, max x: 100.00, max y: 100.00
#
set god_ [God instance]
set god_ [create-god 2]
$node_(0) set X_ 10.0
$node_(0) set Y_ 10.0
$node_(0) set Z_ 0.000000000000
$node_(1) set X_ 50.0
$node_(1) set Y_ 50.0
$god_ set-dist 0 1 1
$god_ new_node $node_(0)
$ns_ at 0.000000000000 "$node_(0) setdest 40.0 50.0 5.0"
$ns_ at 4.000000000000 "$god_ set-dist 0 1 16777215"
$ns_ at 6.0 "$god_  set-dist 0 1 1"
#
# Destination Unreachables: 0
#
"""


def test_every_god_line_form_and_comment_is_skipped(tmp_path):
    initial, moves = parse_ns2_trace(write(tmp_path, GOD_FORMS))
    assert initial == {0: (10.0, 10.0), 1: (50.0, 50.0)}
    assert [(m.t, m.x, m.y, m.speed) for m in moves[0]] == [(0.0, 40.0, 50.0, 5.0)]
    assert 1 not in moves
    (a, b) = build_trajectories("ns2-trace", {"trace": write(tmp_path, GOD_FORMS)}, [],
                                (100.0, 100.0), 20, 1)
    assert a.position(5.0) == pytest.approx((25.0, 30.0)) and b.position(9.0) == (50.0, 50.0)


def test_a_god_lookalike_is_still_an_error(tmp_path):
    path = write(tmp_path, "$node_(0) set X_ 1\nset godfather 3\n")
    with pytest.raises(MobilityError, match=r":2: unrecognised line"):
        parse_ns2_trace(path)


def test_trace_with_fewer_nodes_than_the_scenario_warns(tmp_path, caplog):
    path = write(tmp_path, TRACE)
    initial = [(1.0, 1.0)] * 5
    with caplog.at_level("WARNING", logger="meshnet.mobility"):
        build_trajectories("ns2-trace", {"trace": path}, initial, AREA, 10, 1)
    (record,) = [r for r in caplog.records if r.name == "meshnet.mobility"]
    assert record.levelname == "WARNING"
    message = record.getMessage()
    assert "\n" not in message and str(path) in message
    assert "describes 3 of the scenario's 5 nodes" in message and "(n4, n5) never move" in message


def test_trace_for_every_node_does_not_warn(tmp_path, caplog):
    path = write(tmp_path, TRACE)
    with caplog.at_level("WARNING", logger="meshnet.mobility"):
        build_trajectories("ns2-trace", {"trace": path}, [(1.0, 1.0)] * 3, AREA, 10, 1)
        build_trajectories("ns2-trace", {"trace": path}, [], AREA, 10, 1)
    assert not [r for r in caplog.records if r.name == "meshnet.mobility"]
